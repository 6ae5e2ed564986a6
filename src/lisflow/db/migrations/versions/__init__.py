"""Revisions of the results-database schema, oldest first (0001 = commit 378404a)."""
