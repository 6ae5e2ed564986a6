"""Issue 16 target 3: the dry-run written by forked workers (one study per task) is the
serial dry-run file for file, in the same order; a study failing in a worker fails the
dry-run with the error the serial path raises, and leaves nothing behind."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from lisflow.errors import InputError
from lisflow.spec import study_files
from lisflow.workflows import dryrun, dryrun_parallel
from lisflow.workflows.dryrun import dry_run

STUDIES = ("tiny_mechanism_mlip", "electrolyte_md", "dasc_neb")  # MLIP, LAMMPS, VASP NEB


def _files() -> list[Path]:
    files = [f for f in study_files() if f.stem in STUDIES]
    assert len(files) == len(STUDIES)
    return files


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _parallel_for_few_calculations(monkeypatch):
    monkeypatch.setattr(dryrun_parallel, "MIN_PARALLEL_CALCS", 0)
    warnings.filterwarnings("ignore")


def test_workers_write_the_serial_files_and_manifest(tmp_path):
    serial = dry_run(_files(), tmp_path / "serial", progress=False, workers=1)
    timings: dict[str, list[float]] = {}
    forked = dry_run(_files(), tmp_path / "forked", progress=False, workers=2, timings=timings)
    assert [e.calc_id for e in forked] == [e.calc_id for e in serial]
    assert forked == serial
    a, b = _tree(tmp_path / "serial"), _tree(tmp_path / "forked")
    assert len(a) > 100 and a == b  # every file, byte for byte (the manifest included)
    rows = json.loads((tmp_path / "forked" / "manifest.json").read_text())["calculations"]
    assert len(rows) == len(serial) == 16 + 4 + 12
    # the workers' phase timings reach the caller: one write per calculation
    assert sum(row[2] for name, row in timings.items() if name.startswith("write:")) == 32


def test_a_study_failing_in_a_worker_fails_the_dry_run_as_serial(tmp_path, monkeypatch):
    real = dryrun.write_calculation

    def failing(calc, root, staged=False, writer=None):
        if calc.study == "electrolyte_md":
            raise InputError("system.scale", "broken on purpose", "> 0")
        return real(calc, root, staged, writer)

    monkeypatch.setattr(dryrun, "write_calculation", failing)
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        with pytest.raises(InputError, match="system.scale: broken on purpose"):
            dry_run(_files(), out, progress=False, workers=workers)
        assert not out.exists()  # created by this dry-run: removed whole


def test_worker_count_defaults_to_serial_and_checks_the_variable(monkeypatch):
    planned = [(None, [None] * 30), (None, [None] * 30)]
    monkeypatch.delenv("LISFLOW_DRYRUN_WORKERS", raising=False)
    assert dryrun_parallel.worker_count(None, planned) == 1
    monkeypatch.setenv("LISFLOW_DRYRUN_WORKERS", "4")
    assert dryrun_parallel.worker_count(None, planned) == 2  # one per study at most
    monkeypatch.setenv("LISFLOW_DRYRUN_WORKERS", "two")
    with pytest.raises(InputError, match="LISFLOW_DRYRUN_WORKERS"):
        dryrun_parallel.worker_count(None, planned)
