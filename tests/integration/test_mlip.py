"""MLIP engine for real: CHGNet 0.3.0 + D3(BJ) relaxes Li2S on graphene, a study with
``engine: mlip`` goes submit -> run -> DB -> ``lisflow query adsorption``, and weights load
from the installed wheels with no network."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from lisflow.calculation import Calculation
from lisflow.cli import app
from lisflow.db.store import ResultStore
from lisflow.engines.mlip import CONTCAR_FILE, TRAJECTORY_FILE, MlipEngine, weights_path
from lisflow.errors import EngineError
from lisflow.io.mlip import mlip_settings
from lisflow.spec import validate_spec
from lisflow.workflows.plan import plan

TINY_MLIP = {
    "study": "tiny_mlip",
    "kind": "adsorption",
    "engine": "mlip",
    "model": "chgnet",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 12.0}],
    "adsorbates": ["Li2S"],
    "configurations": 1,
    "molecule_box": 12.0,
    "overrides": {"ENCUT": 500, "FMAX": 0.05},  # ENCUT: a VASP tag, ignored and listed
}


def li2s_on_graphene() -> Structure:
    """3×3 graphene (a = 2.47 Å, 18 C, 15 Å vacuum) with Li2S 2.6 Å above a C (21 atoms)."""
    a = 2.47
    lattice = Lattice.hexagonal(3 * a, 15.0)
    cell = Lattice.hexagonal(a, 15.0)
    species, coords = [], []
    for i in range(3):
        for j in range(3):
            for frac in ((0, 0), (1 / 3, 2 / 3)):
                xyz = cell.get_cartesian_coords([frac[0] + i, frac[1] + j, 0.5])
                species.append("C")
                coords.append(xyz)
    z = 7.5 + 2.6
    centre = np.array(coords[8])
    for symbol, offset in (("S", (0, 0, 0)), ("Li", (1.6, 1.2, 0.5)), ("Li", (-1.6, 1.2, 0.5))):
        species.append(symbol)
        coords.append(centre + np.array(offset) + np.array([0, 0, z - centre[2]]))
    return Structure(lattice, species, coords, coords_are_cartesian=True)


def test_mlip_relaxes_li2s_on_graphene_below_fmax(tmp_path):
    structure = li2s_on_graphene()
    settings = mlip_settings("chgnet", "relax", {"FMAX": 0.05, "STEPS": 300})
    calc = Calculation(
        calc_id="t/adslab/graphene/Li2S/c0/relax",
        study="t",
        engine="mlip",
        task="relax",
        role="adslab",
        structure=structure,
        inputs=dataclasses.replace(settings, fixed_indices=(0, 1)),
    )
    engine = MlipEngine()
    files = engine.write_inputs(calc, tmp_path)
    assert files == ["POSCAR", "mlip.json"]
    written = json.loads((tmp_path / "mlip.json").read_text())
    assert written["fixed_indices"] == [0, 1] and written["fmax"] == 0.05
    assert written["model"] == "chgnet" and written["d3"] is True
    assert "F F F" in (tmp_path / "POSCAR").read_text()  # selective dynamics of fixed atoms
    engine.run(calc, tmp_path)
    parsed = engine.parse(calc, tmp_path)
    record = json.loads((tmp_path / "mlip_result.json").read_text())
    assert record["converged"] and parsed.scalars["mlip_fmax"][0] < 0.05
    assert parsed.energy_ev == record["energy_ev"] and parsed.n_atoms == 21
    assert parsed.energy_ev < -150  # 18 C (~ -9.2 eV each in CHGNet/MP) + Li2S
    assert parsed.scalars["mlip_d3_energy"][0] < 0  # dispersion binds
    final = engine.final_structure(calc, tmp_path)
    assert np.allclose(final.cart_coords[:2], structure.cart_coords[:2], atol=1e-8)  # fixed
    moved = np.linalg.norm(final.cart_coords[2:] - structure.cart_coords[2:], axis=1).max()
    assert moved > 0.01
    assert Structure.from_file(tmp_path / CONTCAR_FILE).composition == structure.composition
    assert (tmp_path / TRAJECTORY_FILE).stat().st_size > 0
    sha = hashlib.sha256(weights_path("chgnet").read_bytes()).hexdigest()
    assert parsed.engine_version.startswith("chgnet ") and sha in parsed.engine_version
    assert "model 0.3.0" in parsed.engine_version and "D3(BJ)" in parsed.engine_version


def test_unconverged_relaxation_is_an_error(tmp_path):
    calc = Calculation(
        calc_id="t/adslab/graphene/Li2S/c0/relax",
        study="t",
        engine="mlip",
        task="relax",
        role="adslab",
        structure=li2s_on_graphene(),
        inputs=mlip_settings("chgnet", "relax", {"FMAX": 0.001, "STEPS": 2}),
    )
    engine = MlipEngine()
    engine.write_inputs(calc, tmp_path)
    with pytest.raises(EngineError, match="not converged"):
        engine.run(calc, tmp_path)
    with pytest.raises(Exception, match="not converged"):
        engine.parse(calc, tmp_path)


def test_mlip_study_submit_run_query(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", db_url)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY_MLIP))
    calcs = plan(validate_spec(TINY_MLIP))
    assert [c.engine for c in calcs] == ["mlip"] * 3
    assert calcs[0].inputs.ignored_overrides == ("ENCUT",)
    runner = CliRunner()
    result = runner.invoke(app, ["submit", "tiny.yaml"])
    assert result.exit_code == 0 and "4 new Fireworks" in result.output, result.output
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    store = ResultStore(db_url)
    slab = store.get("tiny_mlip/slab/Li2S-mol/relax")
    molecule = store.get("tiny_mlip/molecule/Li2S/relax")
    adslab = store.get("tiny_mlip/adslab/Li2S-mol/Li2S/c0/relax")
    assert {r.state for r in (slab, molecule, adslab)} == {"COMPLETED"}
    assert {r.engine for r in (slab, adslab)} == {"mlip"}
    assert "sha256:" in adslab.engine_version
    stored = json.loads((Path(adslab.run_dir) / "mlip_result.json").read_text())
    assert adslab.energy_ev == stored["energy_ev"] and stored["fmax_ev_per_a"] < 0.05
    rows = json.loads(runner.invoke(app, ["query", "adsorption", "--format", "json"]).output)
    assert len(rows) == 1 and rows[0]["engine"] == "mlip"
    assert rows[0]["energy_ev"] == pytest.approx(adslab.energy_ev - 2 * slab.energy_ev, abs=1e-9)
    assert rows[0]["energy_ev"] < -0.5  # (Li2S)2 dimer binds (CP2K PBE-D3 here: about -2 eV)


def test_weights_load_from_the_wheels_without_network(tmp_path):
    """A fresh interpreter with HF offline, no proxy and an unroutable proxy: both models load."""
    code = (
        "from lisflow.engines.mlip import _ml_calculator, weights_sha256\n"
        "for m in ('chgnet', 'sevennet'):\n"
        "    _ml_calculator(m, 'cpu'); print(m, weights_sha256(m))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        "HF_HUB_OFFLINE": "1",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "OMP_NUM_THREADS": "1",
        "HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split() for line in out.stdout.splitlines() if line.count(" ") == 1)
    for model in ("chgnet", "sevennet"):
        assert lines[model] == hashlib.sha256(weights_path(model).read_bytes()).hexdigest()


@pytest.mark.parametrize("thermostat", ["langevin", "nose_hoover"])
def test_nvt_md_writes_every_step(tmp_path, thermostat):
    from ase.io import read

    structure = Structure(
        Lattice.cubic(10.0), ["Li", "S", "Li"], [[4.0, 5, 5], [5.1, 5.9, 5], [6.2, 5, 5]],
        coords_are_cartesian=True,
    )  # fmt: skip
    overrides = {"MD_STEPS": 8, "THERMOSTAT": thermostat, "TEMPERATURE_K": 350.0}
    calc = Calculation(
        calc_id="t/aimd/md", study="t", engine="mlip", task="md", role="box",
        structure=structure, inputs=mlip_settings("chgnet", "md", overrides),
    )  # fmt: skip
    engine = MlipEngine()
    engine.write_inputs(calc, tmp_path)
    engine.run(calc, tmp_path)
    frames = read(tmp_path / TRAJECTORY_FILE, index=":")
    assert len(frames) == 9  # the start + 8 steps
    assert not np.allclose(frames[0].positions, frames[-1].positions)
    log = (tmp_path / "mlip.log").read_text().splitlines()
    assert len(log) >= 2 and "Time[ps]" in log[0]
    parsed = engine.parse(calc, tmp_path)
    assert parsed.scalars["mlip_steps"][0] == 8.0
    assert parsed.energy_ev == pytest.approx(frames[-1].get_potential_energy(), abs=1e-6)
