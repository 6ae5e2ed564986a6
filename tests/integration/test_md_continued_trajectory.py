"""Trajectory analyses of a LAMMPS run continued from a restart read every DCD segment.

Run A goes through uninterrupted. Run B is the same calculation killed hard at step 700 of
1000 (its script ends right after ``run 700 upto``: no final restart, like a job killed by the
scheduler) and continued by the engine from the newest periodic restart file (step 600), so
``traj.dcd`` holds frames at 600-700 that ``traj.600.dcd`` recomputes. The analyses of B must
see the frames and times of A, each time once.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lisflow.analysis.dcdblock import BlockDCDReader
from lisflow.analysis.segments import run_segments
from lisflow.calculation import Calculation
from lisflow.cli import app
from lisflow.engines.lammps import LammpsEngine
from lisflow.errors import EngineError
from lisflow.io.lammps import LammpsInputs

pytestmark = pytest.mark.lammps

PARAMS = {
    "system": {"kind": "bulk", "n_li2s6": 30, "scale": 0.01, "name": "seg"},
    "stages": [{"name": "nvt", "ensemble": "nvt", "time_ps": 1.0, "temperature_k": 300.0}],
    "timestep_fs": 1.0,
    "dump_every_ps": 0.05,
    "thermo_every_ps": 0.05,
    "restart_every_ps": 0.2,
    "cutoff_a": 8.0,
    "pppm_accuracy": 1.0e-4,
}
KILL_STEP = 700


def _frames(path) -> int:
    reader = BlockDCDReader(str(path))
    try:
        return reader.n_frames
    finally:
        reader.close()


def test_continued_run_analyses_read_all_segments(tmp_path):
    calc = Calculation("tests/seg", "tests", "lammps", "md", "box", None, LammpsInputs(**PARAMS))
    engine = LammpsEngine()
    whole = tmp_path / "whole"
    engine.run(calc, whole)
    expected = engine.parse(calc, whole).series[("clusters", "mean_size_top5")][0]
    assert len(expected) == 21 and expected[-1] == pytest.approx(1.0)

    split = tmp_path / "split"
    engine.write_inputs(calc, split)
    script = (split / "in.lammps").read_text()
    assert "run 1000 upto\n" in script
    head = script.split("run 1000 upto\n")[0]
    (split / "in.lammps").write_text(head + f"run {KILL_STEP} upto\n")  # killed: nothing after
    with pytest.raises(EngineError, match=f"stopped at step {KILL_STEP} of 1000"):
        engine.run(calc, split)
    assert not (split / f"restart.{KILL_STEP}").exists() and (split / "restart.600").is_file()
    engine.run(calc, split)  # continues from restart.600 into traj.600.dcd
    assert (split / "traj.600.dcd").is_file()

    run = run_segments(split, _frames)
    first, second = run.segments
    assert first.steps[-1] == KILL_STEP and second.steps[0] == 600  # 600-700 written twice
    assert list(run.steps) == list(range(0, 1001, 50))  # each step once, in order
    assert run.times_ps == pytest.approx(np.arange(21) * 0.05)

    result = engine.parse(calc, split)
    times = result.series[("clusters", "mean_size_top5")][0]
    assert len(times) == len(expected) == 21
    assert np.all(np.diff(times) > 0) and times == pytest.approx(expected)
    msd_lags = result.series[("msd_xyz", "msd")][0]
    assert msd_lags == pytest.approx(engine.parse(calc, whole).series[("msd_xyz", "msd")][0])
    thermo_t = result.series[("thermo", "temp")][0]
    assert len(np.unique(thermo_t)) == len(thermo_t)

    # `lisflow analyze <run>/traj.dcd` reads the segments too
    out = tmp_path / "analysis"
    cli = CliRunner().invoke(
        app,
        [
            "analyze",
            str(split / "traj.dcd"),
            "--topology",
            str(split / "system.data"),
            "--analyses",
            "clusters",
            "--out",
            str(out),
            "--no-progress",
            "--format",
            "json",
        ],
    )
    assert cli.exit_code == 0, cli.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_frames"] == 21 and summary["window_ns"] == pytest.approx([0.0, 0.001])
