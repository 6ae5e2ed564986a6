"""CP2K for real: a generated Li2S input runs with Debian's cp2k.psmp, and a tiny CP2K
adsorption study runs through FireWorks + custodian and lands in the results database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.store import ResultStore
from lisflow.engines.cp2k import Cp2kEngine
from lisflow.spec import validate_spec
from lisflow.workflows.plan import plan

pytestmark = pytest.mark.cp2k
HARTREE_EV = 27.211386245988  # CODATA 2018 (scipy.constants)

#: Cheap settings: this tests the workflow, not the physics. 150/30 Ry in a 9 Å box (as in
#: test_slurm_study.py) costs ~9 s CPU for Li2S and ~26 s for (Li2S)2 (~5x less than 250 Ry in
#: 12 Å) and still binds the dimer (E_ads -0.61 eV measured with cp2k.psmp 2023.1).
CHEAP = {
    "FORCE_EVAL.DFT.MGRID.CUTOFF": 150,
    "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 30,
    "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
}
TINY = {
    "study": "tiny_cp2k",
    "kind": "adsorption",
    "engine": "cp2k",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 9.0}],
    "adsorbates": ["Li2S"],
    "configurations": 1,
    "molecule_box": 9.0,
    "relax": False,
    "static": False,
    "bader": False,
    "overrides": CHEAP,
}


@pytest.fixture(autouse=True)
def _cp2k_available():
    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")


def test_generated_li2s_input_runs_with_cp2k(tmp_path):
    calc = next(c for c in plan(validate_spec(TINY)) if c.role == "molecule")
    engine = Cp2kEngine()
    engine.write_inputs(calc, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # 1 rank x 1 thread: no busy-wait under load
    subprocess.run(
        ["cp2k.psmp", "-i", "cp2k.inp", "-o", "cp2k.out"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=600,
    )
    text = (tmp_path / "cp2k.out").read_text()
    assert "PROGRAM ENDED AT" in text
    total_line = next(
        line for line in text.splitlines() if "Total FORCE_EVAL ( QS ) energy" in line
    )
    parsed = engine.parse(calc, tmp_path)
    assert parsed.energy_ev == pytest.approx(float(total_line.split()[-1]) * HARTREE_EV, rel=1e-9)
    assert parsed.n_atoms == 3
    mulliken = [c for c in parsed.charges if c["method"] == "mulliken"]
    assert len(mulliken) == 3
    assert sum(c["net_charge"] for c in mulliken) == pytest.approx(0.0, abs=1e-3)  # neutral


def test_cp2k_workflow_through_fireworks_into_db(tmp_path, monkeypatch, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    runner = CliRunner()
    result = runner.invoke(app, ["submit", "tiny.yaml"])
    assert result.exit_code == 0 and "4 new Fireworks" in result.output, result.output
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    store = ResultStore(db_url)
    slab = store.get("tiny_cp2k/slab/Li2S-mol/energy")
    molecule = store.get("tiny_cp2k/molecule/Li2S/energy")
    adslab = store.get("tiny_cp2k/adslab/Li2S-mol/Li2S/c0/energy")
    assert {r.state for r in (slab, molecule, adslab)} == {"COMPLETED"}
    assert slab.engine_version and "2023" in slab.engine_version
    out = (Path(slab.run_dir) / "cp2k.out").read_text()
    hartree = float(next(x for x in out.splitlines() if "Total FORCE_EVAL" in x).split()[-1])
    assert slab.energy_ev == pytest.approx(hartree * HARTREE_EV, rel=1e-9)
    # the isolated molecule has the same inputs as the substrate: computed once, reused
    assert molecule.input_hash == slab.input_hash and molecule.run_dir == slab.run_dir
    assert molecule.energy_ev == slab.energy_ev
    rows = json.loads(runner.invoke(app, ["query", "adsorption", "--format", "json"]).output)
    assert len(rows) == 1
    assert rows[0]["energy_ev"] == pytest.approx(adslab.energy_ev - 2 * slab.energy_ev, abs=1e-9)
    assert -3.0 < rows[0]["energy_ev"] < -0.1  # (Li2S)2 binds
    assert store.count("site_charges") == 2 * (3 + 3 + 6)  # Mulliken + Hirshfeld per atom
