"""Alembic environment: migrates the connection handed over by :func:`lisflow.db.migrations.migrate`
(never opens one of its own: the caller holds the schema lock)."""

from __future__ import annotations

from alembic import context

from lisflow.db.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run lisflow migrations through lisflow.db.migrations.migrate()")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():  # joins the caller's transaction
    context.run_migrations()
