"""Shared pytest fixtures: paths to the real reference outputs in ../shared/fixtures."""

from __future__ import annotations

import os
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
