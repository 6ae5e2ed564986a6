"""Connecting to the results database: URL resolution and masking, SQLAlchemy engines (SQLite
pragmas and write locks), schema creation under a lock, and the dialect's upsert ``insert``.

Database URL: the ``url`` argument (CLI ``--db``), else ``$LISFLOW_DB_URL``, else the SQLite
file ``$LISFLOW_HOME/results.sqlite`` (``./.lisflow/results.sqlite``). PostgreSQL URLs use psycopg 3
(``postgresql+psycopg://user:password@host:5432/dbname``). URLs are only shown masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lisflow.errors import InputError, LisflowError

#: Environment variable holding the default database URL.
ENV_VAR = "LISFLOW_DB_URL"
#: File name of the default SQLite database (in the current working directory).
DEFAULT_SQLITE_NAME = "results.sqlite"
#: Supported back ends and how their URLs look.
BACKENDS = ("sqlite", "postgresql")
URL_FORMS = "sqlite:///PATH, postgresql+psycopg://USER:PASSWORD@HOST:PORT/DBNAME"
#: Execution option that makes a SQLite transaction take the write lock at BEGIN.
WRITE_OPTION = "lisflow_write"
#: Page cache of each SQLite connection (KiB; allocated as pages are read).
SQLITE_CACHE_KIB = 65536


def default_url() -> str:
    """``$LISFLOW_DB_URL`` or the local profile's ``sqlite:///$LISFLOW_HOME/results.sqlite``
    (``LISFLOW_HOME`` defaults to ``./.lisflow``): the file ``lisflow submit/run`` writes."""
    from lisflow.fsutil import lisflow_home

    return os.environ.get(ENV_VAR) or f"sqlite:///{lisflow_home() / DEFAULT_SQLITE_NAME}"


def resolve_url(url: str | URL | None = None) -> URL:
    """Parse ``url`` (or the default); a bare ``postgresql://`` gets the psycopg 3 driver."""
    try:
        parsed = make_url(url if url is not None else default_url())
    except ArgumentError:
        raise InputError("db_url", "not a database URL", allowed=URL_FORMS) from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise InputError("db_url", f"unsupported database {backend!r}", allowed=URL_FORMS)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def mask_url(url: str | URL) -> str:
    """The URL as text with its password (user info and ``?password=``-like query arguments,
    see :mod:`lisflow.urls`) replaced by ``***``."""
    from lisflow.urls import mask_url as mask_text

    try:
        return mask_text(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return "<invalid database URL>"


def sqlite_path(url: URL) -> Path | None:
    """File of a SQLite URL (None for in-memory SQLite and for other back ends)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_db_engine(url: URL) -> Engine:
    """Engine for ``url``. SQLite: WAL journal, synchronous=NORMAL, foreign keys, 30 s busy
    timeout.

    SQLite's driver-level implicit transactions are switched off and SQLAlchemy's ``begin``
    event emits ``BEGIN`` itself, so one ``Session`` transaction is one SQLite transaction;
    write transactions (:data:`WRITE_OPTION`) use ``BEGIN IMMEDIATE`` so that concurrent
    writers queue on the lock instead of failing when upgrading a read lock.
    """
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if (path := sqlite_path(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        # synchronous=NORMAL is safe in WAL mode: a crash never corrupts or half-applies a
        # transaction; only the last commits before a power loss may be lost. cache_size:
        # up to 64 MiB of pages per pooled connection (SQLite's default is 2 MiB), so that the
        # joined calculations of repeated queries are read from memory, not the file.
        pragmas = (
            "busy_timeout=30000",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"cache_size=-{SQLITE_CACHE_KIB}",
        )
        for pragma in pragmas:
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: Key of the PostgreSQL advisory lock that serialises schema creation (any fixed bigint).
SCHEMA_LOCK_KEY = 0x6C6973666C6F77  # "lisflow"


def create_schema(engine: Engine) -> None:
    """Create the tables of a fresh database or upgrade an older one to the newest schema
    revision (:func:`lisflow.db.migrations.migrate`), race-free when several processes open
    the database at once: the existence checks and the migration run under one lock.

    SQLite: in one ``BEGIN IMMEDIATE`` transaction (the write lock is taken before the
    existence checks, so a second process waits on the busy timeout instead of failing with
    "database is locked"). PostgreSQL: under a transaction-level advisory lock, so the second
    process sees the committed tables instead of violating ``pg_type``'s unique index.
    """
    from lisflow.db.migrations import migrate

    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
            with connection.begin():
                migrate(connection)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        migrate(connection)


def dialect_insert(name: str) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update``)."""
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    # pragma: no cover - resolve_url only lets the two through
    raise InputError("db_url", f"unsupported database {name!r}", allowed=URL_FORMS)


def open_error(url: URL, exc: SQLAlchemyError) -> LisflowError:
    """The error of a failed connection to ``url``: the masked URL and the reason, with every
    password and secret query value replaced by ``***``."""
    from lisflow.urls import SECRET_QUERY_KEYS
    from lisflow.urls import mask_url as mask_text

    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    secrets = [str(url.password)] if url.password else []
    secrets += [
        str(v)
        for k, values in url.query.items()
        if k.lower() in SECRET_QUERY_KEYS
        for v in (values if isinstance(values, tuple) else (values,))
    ]
    for secret in filter(None, secrets):
        reason = reason.replace(secret, "***")
    reason = mask_text(reason)
    return LisflowError(f"cannot open database {mask_url(url)}: {reason}")
