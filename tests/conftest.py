"""Shared pytest fixtures: paths to the real reference outputs in ../shared/fixtures, one
PostgreSQL server and one Slurm cluster per session. ``tests/validate/`` (long physics checks,
``make validate``) is collected only when named on the command line."""

from __future__ import annotations

import importlib.util
import os
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = Path(os.environ.get("LISFLOW_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))
SCIENCE_MD = FIXTURES_DIR.parent / "SCIENCE.md"
VALIDATE_DIR = Path(__file__).resolve().with_name("validate")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip collecting tests/validate unless a command-line path lies inside it."""
    if collection_path.resolve() != VALIDATE_DIR:
        return None
    requested = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not any(p == VALIDATE_DIR or VALIDATE_DIR in p.parents for p in requested)


def _load_helper(name: str):
    """Import tests/<name>.py (the tests directory is not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    pgserver = _load_helper("pgserver")
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


# --- Slurm: one real single-node cluster for the session (tests/slurmcluster.py) --------------


@pytest.fixture(scope="session")
def slurm_cluster():
    """munged + slurmctld + slurmd started once for every Slurm test module.

    3 job slots on 2 cores: the chaos test's walltime victim only sleeps while the others
    compute. Jobs of earlier modules stay listed (MinJobAge) but tests track their own job ids.
    """
    with _load_helper("slurmcluster").running_cluster(cpus=3) as slurm:
        yield slurm
