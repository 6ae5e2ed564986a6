"""CP2K stops cleanly at its walltime and a second job continues from the restart file (real
cp2k.psmp: Li2S GEO_OPT at cheap settings)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lisflow.engines.cp2k import INPUT_FILE, PROJECT, Cp2kEngine
from lisflow.io.cp2k_restart import prepare_cp2k_continuation
from lisflow.spec import validate_spec
from lisflow.workflows.plan import plan

pytestmark = [pytest.mark.cp2k, pytest.mark.slow]
SPEC = {
    "study": "wall",
    "kind": "adsorption",
    "engine": "cp2k",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 9.0}],
    "adsorbates": ["Li2S"],
    "configurations": 1,
    "molecule_box": 9.0,
    "relax": True,
    "static": False,
    "bader": False,
    "overrides": {
        "FORCE_EVAL.DFT.MGRID.CUTOFF": 100,
        "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 20,
        "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-4,
        # never converges (MAX_FORCE far below reach), so the walltime always stops job 1
        # whatever the machine's speed; job 2 is given a few more steps (MAX_ITER) to finish
        "MOTION.GEO_OPT.MAX_ITER": 1000,
        "MOTION.GEO_OPT.MAX_FORCE": 1.0e-9,
    },
}
EXTRA_STEPS = 3


def _run(directory: Path, output: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        ["cp2k.psmp", "-i", INPUT_FILE, "-o", output],
        cwd=directory,
        env=env,
        check=True,
        timeout=900,
        capture_output=True,
    )
    return (directory / output).read_text()


def _energies(text: str) -> list[float]:
    return [float(line.split()[-1]) for line in text.splitlines() if "Total FORCE_EVAL" in line]


def _steps(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"OPTIMIZATION STEP:\s+(\d+)", text)]


def test_input_edit_sets_walltime_and_ext_restart(tmp_path):
    calc = next(c for c in plan(validate_spec(SPEC)) if c.role == "molecule")
    Cp2kEngine().write_inputs(calc, tmp_path)
    original = (tmp_path / INPUT_FILE).read_text()
    assert prepare_cp2k_continuation(tmp_path / INPUT_FILE, 3600.0, PROJECT, 60.0) is False
    text = (tmp_path / INPUT_FILE).read_text()
    assert "  WALLTIME 3540" in text.splitlines() and "EXT_RESTART" not in text
    (tmp_path / f"{PROJECT}-1.restart").write_text("dummy")
    assert prepare_cp2k_continuation(tmp_path / INPUT_FILE, float("inf"), PROJECT) is True
    assert prepare_cp2k_continuation(tmp_path / INPUT_FILE, None, PROJECT) is True  # idempotent
    text = (tmp_path / INPUT_FILE).read_text()
    assert "WALLTIME" not in text and text.count("&EXT_RESTART") == 1
    assert f"RESTART_FILE_NAME {PROJECT}-1.restart" in text
    assert (
        text.replace(
            "&EXT_RESTART\n  RESTART_FILE_NAME lisflow-1.restart\n&END EXT_RESTART\n", ""
        ).strip()
        == original.strip()
    )


def test_walltime_stop_then_continue_from_restart(tmp_path):
    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")
    calc = next(c for c in plan(validate_spec(SPEC)) if c.role == "molecule")
    Cp2kEngine().write_inputs(calc, tmp_path)
    # job 1: 90 s left in the Slurm job, 60 s margin -> CP2K stops itself after 30 s
    assert prepare_cp2k_continuation(tmp_path / INPUT_FILE, 90.0, PROJECT, 60.0) is False
    first = _run(tmp_path, "job1.out")
    assert "exceeded requested execution time" in first
    assert "GEOMETRY OPTIMIZATION COMPLETED" not in first
    restart = (tmp_path / f"{PROJECT}-1.restart").read_text()
    done = int(re.search(r"STEP_START_VAL\s+(\d+)", restart).group(1))
    assert done >= 1
    # job 2: continues from the restart file instead of starting over, for EXTRA_STEPS steps
    text = (tmp_path / INPUT_FILE).read_text()
    (tmp_path / INPUT_FILE).write_text(
        text.replace("MAX_ITER 1000", f"MAX_ITER {done + EXTRA_STEPS}")
    )
    assert prepare_cp2k_continuation(tmp_path / INPUT_FILE, 3600.0, PROJECT, 60.0) is True
    second = _run(tmp_path, "job2.out")
    assert "PROGRAM ENDED AT" in second and "exceeded requested execution time" not in second
    assert _steps(second)[0] == done + 1
    e1, e2 = _energies(first), _energies(second)
    # the first energy of job 2 is that of the last geometry of job 1 (within SCF tolerance),
    # not the starting geometry's
    assert abs(e2[0] - e1[-1]) < abs(e2[0] - e1[0])
    # (no claim that job 2 ends below job 1's start: at these cheap settings a BFGS step on
    # the flat surface near the minimum may go up by ~1 mHa)
