"""A DOL + user-solvent (THF from a force-field file) box: study file -> packmol -> LAMMPS data
-> a short real LAMMPS run with the official OPLS-AA DOL and THF parameters; energy finite."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import yaml

from lisflow.engines.lammps import LammpsEngine
from lisflow.parsers.lammps_log import parse_log
from lisflow.spec.md import load_md_study
from lisflow.workflows.plan_md import plan_md

pytestmark = pytest.mark.lammps

SOLVENTS = Path(__file__).parents[1] / "data" / "solvents"
STUDY = {
    "study": "dol_thf",
    "kind": "md",
    "systems": [
        {
            "name": "dol_thf",
            "kind": "bulk",
            "n_li2s6": 1,
            "n_litfsi": 1,
            "n_dol": 15,
            "n_dme": 0,
            "solvents": {"THF": 15},
        }
    ],
    "protocol": [
        {"name": "minimize", "ensemble": "minimize"},
        {"name": "nvt", "ensemble": "nvt", "time_ps": 0.5, "temperature_k": 300},
    ],
    "timestep_fs": 1.0,
    "dump_every_ps": 0.1,
    "thermo_every_ps": 0.05,
    "restart_every_ps": 0.5,
    "cutoff_a": 8.0,
    "pppm_accuracy": 1.0e-4,
}


def test_dol_and_thf_box_runs_in_lammps(tmp_path, monkeypatch):
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    for suffix in (".yaml", ".xyz"):
        shutil.copy(SOLVENTS / f"THF{suffix}", study_dir / f"THF{suffix}")
    (study_dir / "dol_thf.yaml").write_text(yaml.safe_dump(STUDY))
    monkeypatch.chdir(tmp_path)
    (calc,) = plan_md(load_md_study(study_dir / "dol_thf.yaml"))
    as_json = calc.inputs.as_dict()
    assert json.loads(json.dumps(as_json)) == as_json  # plain JSON: travels with the Firework
    run_dir = tmp_path / "run"
    engine = LammpsEngine()
    engine.run(calc, run_dir)
    data = (run_dir / "system.data").read_text()
    n_atoms = 8 + 16 + 15 * 11 + 15 * 13
    assert f"{n_atoms} atoms" in data
    types = json.loads((run_dir / "system.types.json").read_text())["atom_types"]
    assert {"DOL_CA", "DOL_HA", "THF_OS", "THF_CB", "THF_HB"} <= set(types.values())
    atoms = data.split("Atoms # full")[1].split("Bonds")[0].split("\n")
    charges = [float(line.split()[3]) for line in atoms if line.strip()]
    assert len(charges) == n_atoms and abs(sum(charges)) < 1e-6
    log = parse_log(run_dir / "log.lammps")
    assert log.complete and not log.errors
    etot = log.series("TotEng")
    assert len(etot) > 5 and all(math.isfinite(e) for e in etot)
    result = engine.parse(calc, run_dir)
    assert result.n_atoms == n_atoms and math.isfinite(result.energy_ev)
