"""Baseline: the schema of commit 378404a (created by ``metadata.create_all``, unversioned).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: a database of this schema is only stamped (tables made by create_all)."""
