"""Schema migrations of the results database (Alembic; no ``alembic.ini`` needed).

:func:`migrate` brings a database to the newest revision (:func:`head`). It runs on the
caller's connection, inside the transaction that holds the schema lock of
:func:`lisflow.db.connection.create_schema`, so concurrent first opens never race:

- no ``calculations`` table: a fresh database, all tables created at once and stamped head;
- tables but no ``alembic_version``: the first schema (commit 378404a), stamped
  :data:`BASELINE` and upgraded in place, rows kept;
- stamped: upgraded from its revision (nothing to do at head).

A new revision: copy the newest file in ``versions/``, set ``down_revision`` to its
``revision``, write ``upgrade`` (idempotent: check what exists first) and change
:mod:`lisflow.db.schema` to match; ``tests/integration/test_db_migrations.py`` checks that an
upgraded database equals a fresh one.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

#: Revision of the schema of commit 378404a (``versions/0001_baseline.py``).
BASELINE = "0001"
SCRIPT_LOCATION = Path(__file__).resolve().parent


def config(connection: Connection | None = None) -> Config:
    """Alembic configuration with the script location set in code; ``connection`` is the one
    ``env.py`` migrates."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """Newest revision of the shipped migrations."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None, "no migration in lisflow/db/migrations/versions"
    return revision


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of the shipped migrations."""
    script = ScriptDirectory.from_config(config())
    return frozenset(r.revision for r in script.walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """Revision stored in ``alembic_version`` (None: never stamped)."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(connection: Connection) -> str:
    """Create or upgrade the schema on ``connection`` (already in a transaction holding the
    schema lock) to :func:`head`; returns the revision before (``"new"`` for a fresh one)."""
    from lisflow.db import schema

    if "calculations" not in inspect(connection).get_table_names():
        schema.Base.metadata.create_all(connection)
        command.stamp(config(connection), head())
        return "new"
    before = current_revision(connection)
    if before is not None and before not in known_revisions():
        from lisflow.errors import InputError

        raise InputError(
            "database",
            f"schema revision {before} is newer than this lisflow knows (newest {head()});"
            " open it with the lisflow that wrote it, or upgrade lisflow",
        )
    if before is None:
        command.stamp(config(connection), BASELINE)
    if before != head():
        command.upgrade(config(connection), head())
    return before or "unversioned"
