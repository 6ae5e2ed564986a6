"""Shared pytest fixtures: paths to the real reference outputs in ../shared/fixtures."""

from __future__ import annotations

import importlib.util
import os
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = Path(os.environ.get("LISFLOW_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))
SCIENCE_MD = FIXTURES_DIR.parent / "SCIENCE.md"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Directory of the real VASP/LOBSTER/Bader/CP2K/LAMMPS outputs (see its MANIFEST.md)."""
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"fixture directory {FIXTURES_DIR} is missing; set LISFLOW_FIXTURES")
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


# --- databases: SQLite file and a real PostgreSQL server (tests/pgserver.py) -----------------


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL 15 server started for this test session (fails if it cannot start)."""
    spec = importlib.util.spec_from_file_location(
        "pgserver", Path(__file__).with_name("pgserver.py")
    )
    pgserver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pgserver)
    PgServer, PgServerError = pgserver.PgServer, pgserver.PgServerError

    server = PgServer()
    try:
        server.start()
    except PgServerError as exc:
        pytest.fail(f"cannot start the PostgreSQL test server: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server) -> str:
    """URL (``postgresql+psycopg://``) of a database shared by the whole session."""
    return pg_server.create_database("lisflow_session")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """URL of a fresh, empty database: a SQLite file in ``tmp_path`` or a new PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lisflow-results.sqlite'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"lisflow_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)
