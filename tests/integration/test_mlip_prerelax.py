"""``prerelax: mlip``: the MLIP relaxation's final structure starts a real CP2K GEO_OPT."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from pymatgen.core import Structure

from lisflow.db.store import ResultStore
from lisflow.spec import validate_spec
from lisflow.workflows.firetasks import RunCalculationTask, spec_key
from lisflow.workflows.plan import plan

pytestmark = pytest.mark.cp2k

PRERELAX_CP2K = {
    "study": "tiny_prerelax",
    "kind": "adsorption",
    "engine": "cp2k",
    "prerelax": "mlip",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 9.0}],
    "adsorbates": ["Li2S"],
    "configurations": 1,
    "molecule_box": 9.0,
    "relax": True,
    "static": False,
    "bader": False,
    "overrides": {
        "FORCE_EVAL.DFT.MGRID.CUTOFF": 250,
        "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 40,
        "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
        # converged at the MLIP's own force criterion (1e-3 Ha/bohr = 0.05 eV/Å) to stay short
        "MOTION.GEO_OPT.MAX_ITER": 40,
        "MOTION.GEO_OPT.MAX_FORCE": 1.0e-3,
        "MOTION.GEO_OPT.RMS_FORCE": 7.0e-4,
        "MOTION.GEO_OPT.MAX_DR": 1.0e-2,
        "MOTION.GEO_OPT.RMS_DR": 5.0e-3,
    },
}


def coord_block(text: str) -> np.ndarray:
    block = re.search(r"&COORD\n(.*?)\n\s*&END COORD", text, re.S).group(1)
    return np.array([[float(x) for x in line.split()[1:4]] for line in block.splitlines()])


def test_plan_puts_an_mlip_relaxation_before_each_dft_calculation():
    calcs = plan(validate_spec(PRERELAX_CP2K))
    pre = [c for c in calcs if c.engine == "mlip"]
    dft = [c for c in calcs if c.engine == "cp2k"]
    assert len(pre) == len(dft) == 3
    for p, d in zip(pre, dft, strict=True):
        assert d.parents == (p.calc_id,) and p.calc_id.endswith("/prerelax")
        assert p.labels["final"] is False and d.labels["final"] is True
        assert p.task == "relax" and d.task == "geo_opt"


def test_prerelaxed_structure_starts_a_real_cp2k_relaxation(tmp_path, monkeypatch):
    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")
    db_url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    calcs = {c.calc_id: c for c in plan(validate_spec(PRERELAX_CP2K))}
    pre = calcs["tiny_prerelax/molecule/Li2S/prerelax"]
    dft = calcs["tiny_prerelax/molecule/Li2S/relax"]
    from lisflow.calculation import calc_to_dict

    (tmp_path / "pre").mkdir()
    monkeypatch.chdir(tmp_path / "pre")
    action = RunCalculationTask(calc=calc_to_dict(pre), db_url=db_url).run_task({})
    handed = action.mod_spec[0]["_set"][f"lisflow_parents->{spec_key(pre.calc_id)}"]
    mlip_final = Structure.from_dict(handed["structure"])
    start = pre.structure.cart_coords
    assert np.abs(mlip_final.cart_coords - start).max() > 1e-3  # the MLIP moved the atoms

    (tmp_path / "dft").mkdir()
    monkeypatch.chdir(tmp_path / "dft")
    fw_spec = {"lisflow_parents": {spec_key(pre.calc_id): handed}}
    RunCalculationTask(calc=calc_to_dict(dft), db_url=db_url).run_task(fw_spec)
    text = (tmp_path / "dft" / "cp2k.inp").read_text()
    assert np.allclose(coord_block(text), mlip_final.cart_coords, atol=1e-8)
    out = (tmp_path / "dft" / "cp2k.out").read_text()
    assert "GEOMETRY OPTIMIZATION COMPLETED" in out
    store = ResultStore(db_url)
    assert store.get(pre.calc_id).engine == "mlip" and store.get(pre.calc_id).state == "COMPLETED"
    record = store.get(dft.calc_id)
    assert record.state == "COMPLETED" and record.engine == "cp2k"
    hartree = float(re.findall(r"Total FORCE_EVAL \( QS \) energy.*?(-?\d+\.\d+)", out)[-1])
    assert record.energy_ev == pytest.approx(hartree * 27.211386245988, rel=1e-9)
    result = json.loads((tmp_path / "pre" / "mlip_result.json").read_text())
    assert result["converged"] and result["fmax_ev_per_a"] < 0.05
