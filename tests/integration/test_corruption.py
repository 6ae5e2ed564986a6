"""Corruption test over every real fixture run (issue 10): 0 tracebacks, 0 wrong values stored,
every failure a FAILED/PARSE_ERROR row naming the file; on SQLite, and a subset on PostgreSQL.
The mutants and their judging are in ``corruption_mutants.py``."""

from __future__ import annotations

import pytest
from corruption_mutants import RUNS, corruption_run

#: Runs whose mutants are also stored in PostgreSQL (one per parser family).
PG_RUNS = ("au_mol_static", "nacl_lobster", "si_cp2k_static", "h2o_acf", "peo_lammps_log")


@pytest.mark.parametrize("case", RUNS, ids=[c.name for c in RUNS])
def test_corrupted_outputs_sqlite(case, fixtures_dir, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    counts, bad = corruption_run(case, fixtures_dir, tmp_path, url, monkeypatch)
    print(case.name, dict(counts))
    assert sum(counts.values()) >= 1
    assert not bad, "\n".join(bad)


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG_RUNS)
def test_corrupted_outputs_postgres(name, fixtures_dir, tmp_path, monkeypatch, pg_url):
    case = next(c for c in RUNS if c.name == name)
    counts, bad = corruption_run(case, fixtures_dir, tmp_path, pg_url, monkeypatch, limit=8)
    print(case.name, dict(counts))
    assert not bad, "\n".join(bad)
