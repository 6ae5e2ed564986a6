"""A scaled-down electrolyte box packed with packmol and run for real with LAMMPS."""

from __future__ import annotations

import json

import MDAnalysis as mda
import numpy as np
import pytest

from lisflow.calculation import Calculation
from lisflow.engines.lammps import LammpsEngine, progress
from lisflow.io.lammps import LammpsInputs
from lisflow.io.lammps_data import layout
from lisflow.parsers.lammps_log import KCAL_PER_MOL_EV, parse_log
from lisflow.structures.md_boxes import build_system

pytestmark = pytest.mark.lammps

#: Relative energy drift allowed in NVE: |fitted slope x duration| / mean kinetic energy.
#: 1 fs steps with PPPM 1e-5 and an 8 A cutoff drift ~1e-4 on this 2 ps segment.
NVE_DRIFT_TOLERANCE = 0.005

SYSTEM = {"kind": "bulk", "n_li2s6": 30, "scale": 0.01, "name": "bulk_tiny"}
PARAMS = {
    "system": SYSTEM,
    "stages": [
        {"name": "minimize", "ensemble": "minimize"},
        {"name": "nvt", "ensemble": "nvt", "time_ps": 2.0, "temperature_k": 300.0},
        {"name": "nve", "ensemble": "nve", "time_ps": 2.0},
    ],
    "timestep_fs": 1.0,
    "dump_every_ps": 0.1,
    "thermo_every_ps": 0.02,
    "restart_every_ps": 1.0,
    "cutoff_a": 8.0,
    "pppm_accuracy": 1.0e-5,
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lammps_bulk")
    calc = Calculation(
        "electrolyte_md/bulk_tiny", "electrolyte_md", "lammps", "md", "box", None,
        LammpsInputs(**PARAMS),
    )
    engine = LammpsEngine()
    names = engine.write_inputs(calc, directory)
    again = directory.parent / "again"
    assert engine.write_inputs(calc, again) == names
    for name in names:  # deterministic bytes
        assert (directory / name).read_bytes() == (again / name).read_bytes()
    engine.run(calc, directory)
    return calc, engine, directory


def test_box_is_packed_and_neutral(finished_run):
    _, _, directory = finished_run
    system = build_system(SYSTEM)
    assert system.counts == {"Li2S6": 1, "LiTFSI": 3, "DOL": 10, "DME": 10}
    text = (directory / "system.data").read_text()
    assert f"{8 + 3 * 16 + 10 * 11 + 10 * 16} atoms" in text
    assert f"{5 + 3 * 14 + 10 * 11 + 10 * 15} bonds" in text
    atoms = text.split("Atoms # full")[1].split("Bonds")[0].split("\n")
    charges = [float(line.split()[3]) for line in atoms if line.strip()]
    assert len(charges) == system.n_atoms
    assert abs(sum(charges)) < 1e-6
    types = json.loads((directory / "system.types.json").read_text())
    assert [types["atom_types"][str(i)] for i in types["s6_sulfur_types"]] == ["S6_ST", "S6_SI"]
    assert types["n_electrode_atoms"] == 0 and types["periodic_z"] is True


def test_log_parsed_and_result(finished_run):
    calc, engine, directory = finished_run
    result = engine.parse(calc, directory)
    log = parse_log(directory / "log.lammps")
    assert log.version and log.complete and not log.errors
    assert result.n_atoms == 326
    etot = log.series("TotEng")
    assert result.energy_ev == pytest.approx(etot[-1] * KCAL_PER_MOL_EV)
    time_ps, temp, x_unit, y_unit = result.series[("thermo", "temp")]
    assert (x_unit, y_unit) == ("ps", "K")
    assert time_ps[-1] == pytest.approx(4.0)
    assert 150.0 < np.mean(temp[len(temp) // 2 :]) < 450.0
    assert progress(directory) == (4000, 4000)
    universe = mda.Universe(
        str(directory / "system.data"),
        result.files["trajectory"],
        format="DCD",
        atom_style="id resid type charge x y z",
    )
    assert len(universe.atoms) == 326
    assert len(universe.trajectory) == 41  # frames at 0, 0.1, ..., 4.0 ps


def test_energy_conserved_in_nve(finished_run):
    _, _, directory = finished_run
    log = parse_log(directory / "log.lammps")
    nve = log.blocks[-1]
    t, etot, ke = nve["Time"], nve["TotEng"], nve["KinEng"]
    assert t[0] == pytest.approx(2000.0) and t[-1] == pytest.approx(4000.0)
    slope = np.polyfit(t, etot, 1)[0]
    drift = abs(slope * (t[-1] - t[0])) / np.mean(ke)
    print(f"relative NVE drift over 2 ps: {drift:.5f}")
    assert drift < NVE_DRIFT_TOLERANCE, f"relative NVE drift {drift:.4f}"


def test_pair_coeffs_in_script_follow_mixing(finished_run):
    _, _, directory = finished_run
    lay = layout(build_system(SYSTEM))
    lines = [
        line
        for line in (directory / "in.lammps").read_text().splitlines()
        if line.startswith("pair_coeff")
    ]
    n = len(lay.atom_types)
    assert len(lines) == n * (n + 1) // 2


def test_progress_monitor_reports_steps(finished_run):
    from lisflow.engines.lammps import ProgressMonitor

    _, _, directory = finished_run
    messages: list[str] = []
    assert ProgressMonitor(messages.append).check(directory) is False
    assert messages == ["LAMMPS step 4000 of 4000 (100.0 %)"]


def test_interface_box_runs_with_fixed_electrode(tmp_path):
    """Mo4/N-G electrode box (p p f, PPPM slab): electrode atoms do not move, solution does."""
    system = {
        "kind": "interface",
        "electrode": "mo_ngraphene",
        "n_li2s6": 65,
        "scale": 0.02,
        "name": "mo_tiny",
        "box": [98.4, 76.695, 90.0],  # short z keeps the slab-PPPM grid small
    }
    params = {
        **PARAMS,
        "system": system,
        "pppm_accuracy": 1.0e-4,
        "minimize_max_iter": 200,
        "stages": [
            {"name": "minimize", "ensemble": "minimize"},
            {"name": "relax", "ensemble": "nvt", "time_ps": 0.5, "temperature_k": 300.0},
        ],
    }
    calc = Calculation(
        "interface_md/mo_tiny", "interface_md", "lammps", "md", "interface", None,
        LammpsInputs(**params),
    )
    engine = LammpsEngine()
    engine.write_inputs(calc, tmp_path)
    assert "kspace_modify slab 3.0" in (tmp_path / "in.lammps").read_text()
    engine.run(calc, tmp_path)
    result = engine.parse(calc, tmp_path)
    box = build_system(system)
    assert box.electrode.composition["Mo"] == 4 and result.n_atoms == box.n_atoms
    universe = mda.Universe(
        str(tmp_path / "system.data"),
        result.files["trajectory"],
        format="DCD",
        atom_style="id resid type charge x y z",
    )
    n_el = len(box.electrode)
    first = universe.trajectory[0].positions.copy()
    last = universe.trajectory[-1].positions.copy()
    assert np.abs(last[:n_el] - first[:n_el]).max() < 1e-3
    # charged electrode (shipped CP2K + Bader set) and the analysis window, stored as scalars
    centre = box.electrode.properties["charges"]["mo_per_centre_charge"]
    assert result.scalars["electrode_mo_centre_charge"] == (pytest.approx(centre), "e")
    assert result.scalars["window_start_ns"] == (0.0, "ns")
    assert abs(sum(universe.atoms.charges)) < 1e-6
    assert np.abs(last[n_el:] - first[n_el:]).max() > 0.1
    assert last[n_el:, 2].min() > 0.0 and last[n_el:, 2].max() < box.box[2]
