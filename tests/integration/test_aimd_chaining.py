"""AIMD stage chaining for real (issue 11 item 2): CP2K runs a tiny SGCPMD stage 1, stage 2
("apply potential") starts from stage 1's final positions AND velocities with two electrode
Li added and fixed (FIXED_ATOMS indices valid)."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from lisflow.calculation import Calculation
from lisflow.engines.cp2k import Cp2kEngine
from lisflow.io.cp2k import VELOCITY_PROPERTY, AimdSettings, Cp2kInputs
from lisflow.io.cp2k_restart import read_restart
from lisflow.workflows.firetasks import spec_key, with_parent_structure

pytestmark = pytest.mark.cp2k
BOHR_A = 0.529177210903  # CODATA 2018
STEPS = (3, 2)


def _frames(path, n_atoms):
    """(n_frames, n_atoms, 3) array of a CP2K xyz file (positions Å or velocities a.u.)."""
    lines = path.read_text().splitlines()
    frames = []
    for start in range(0, len(lines), n_atoms + 2):
        block = lines[start + 2 : start + 2 + n_atoms]
        if len(block) == n_atoms:
            frames.append([[float(w) for w in row.split()[1:4]] for row in block])
    return np.array(frames)


def _model(with_li: bool) -> Structure:
    """Li2S above a C2 'sheet' stand-in in a 7 x 7 x 9 A box; two Li below when with_li."""
    species = ["C", "C", "Li", "Li", "S"]
    coords = [[2.8, 3.5, 3.0], [4.2, 3.5, 3.0], [2.4, 3.5, 6.4], [4.6, 3.5, 6.4], [3.5, 3.5, 5.6]]
    labels = ["support", "support", "adsorbate", "adsorbate", "adsorbate"]
    if with_li:
        species += ["Li", "Li"]
        coords += [[2.0, 2.0, 1.2], [5.0, 5.0, 1.2]]
        labels += ["electrode_Li", "electrode_Li"]
    return Structure(
        Lattice.orthorhombic(7.0, 7.0, 9.0), species, coords, coords_are_cartesian=True,
        site_properties={"label": labels},
    )


def _calc(name: str, structure: Structure, steps: int, parents=()) -> Calculation:
    fixed = [i for i, lab in enumerate(structure.site_properties["label"]) if lab == "electrode_Li"]
    aimd = {
        "time_ps": steps / 1000.0,
        "temperature_k": 350.0,
        "timestep_fs": 1.0,
        "gamma_per_fs": 0.001,
        "region_gamma": {},
        "fixed_indices": fixed,
        "full_scf_max": 25,
        "corrector_steps": 2,
    }
    overrides = {
        "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-4,
        "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 30,
        "MOTION.PRINT.TRAJECTORY.EACH.MD": 1,
        "MOTION.PRINT.VELOCITIES": {"_": "ON", "EACH": {"MD": 1}},
        "MOTION.PRINT.RESTART.EACH.MD": 1,
    }
    return Calculation(
        calc_id=f"tiny_aimd/aimd/{name}", study="tiny_aimd", engine="cp2k", task="aimd",
        role="interface", structure=structure,
        inputs=Cp2kInputs(task="aimd", periodic="XYZ", aimd=AimdSettings(**aimd),
                          overrides=overrides, basis_set="SZV-MOLOPT-SR-GTH", cutoff_ry=100),
        parents=parents,
    )


def _run(directory):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(["cp2k.psmp", "-i", "cp2k.inp", "-o", "cp2k.out"], cwd=directory, env=env,
                   check=True, timeout=300)
    assert "PROGRAM ENDED AT" in (directory / "cp2k.out").read_text()


def test_stage2_continues_stage1_positions_and_velocities(tmp_path):
    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")
    engine = Cp2kEngine()
    stage1 = _calc("relaxation", _model(False), STEPS[0])
    d1, d2 = tmp_path / "s1", tmp_path / "s2"
    engine.write_inputs(stage1, d1)
    text1 = (d1 / "cp2k.inp").read_text()
    # SGCPMD as the CP2K manual sets it up: ASPC predictor, fixed corrector steps, no outer SCF
    for line in ("EXTRAPOLATION ASPC", "EXTRAPOLATION_ORDER 3", "MAX_SCF_HISTORY 2",
                 "MAX_SCF 25", "ENSEMBLE LANGEVIN"):
        assert line in text1
    assert "OUTER_SCF" not in text1 and "&VELOCITY" not in text1
    _run(d1)
    final = engine.final_structure(stage1, d1)
    restart = read_restart(d1 / "lisflow-1.restart")
    assert len(final) == 5 and np.allclose(final.cart_coords, restart["positions"])

    stage2 = _calc("potential", _model(True), STEPS[1], parents=(stage1.calc_id,))
    fw_spec = {"lisflow_parents": {spec_key(stage1.calc_id): {"structure": final.as_dict()}}}
    stage2 = with_parent_structure(stage2, fw_spec)
    assert len(stage2.structure) == 7  # the two electrode Li are not dropped
    engine.write_inputs(stage2, d2)
    text2 = (d2 / "cp2k.inp").read_text()
    assert "&VELOCITY" in text2 and "LIST 6..7" in text2  # FIXED_ATOMS: the added Li
    _run(d2)

    pos1 = _frames(d1 / "lisflow-pos-1.xyz", 5)
    vel1 = _frames(d1 / "lisflow-vel-1.xyz", 5)
    pos2 = _frames(d2 / "lisflow-pos-1.xyz", 7)
    vel2 = _frames(d2 / "lisflow-vel-1.xyz", 7)
    assert len(pos1) == STEPS[0] + 1 and len(pos2) == STEPS[1] + 1
    # stage 2's first frame = stage 1's last frame (positions Å, velocities a.u.)
    assert np.allclose(pos2[0, :5], pos1[-1], atol=1e-6)
    assert np.allclose(vel2[0, :5], vel1[-1], rtol=1e-6, atol=1e-12)
    assert np.abs(vel1[-1]).max() > 1e-6  # the atoms were moving: a real continuation
    # electrode Li present, fixed in place and at rest through stage 2
    li0 = _model(True).cart_coords[5:]
    assert np.allclose(pos2[:, 5:], li0[None], atol=1e-6)
    assert np.allclose(vel2[:, 5:], 0.0)
    assert not np.allclose(pos2[-1, 2:5], pos2[0, 2:5])  # the solution atoms moved
    assert stage2.structure.site_properties[VELOCITY_PROPERTY][5] == [0.0, 0.0, 0.0]
