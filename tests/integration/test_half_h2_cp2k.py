"""½H₂ reference end to end with real CP2K (issue 11.5): H on an isolated Li2S, E_ads =
E(Li2S+H) − E(Li2S) − ½E(H2), through submit -> FireWorks -> cp2k.psmp -> DB -> query."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.db.store import ResultStore

pytestmark = pytest.mark.cp2k

H_ON_LI2S = {
    "study": "half_h2",
    "kind": "adsorption",
    "engine": "cp2k",
    "substrates": [{"builder": "molecule", "name": "Li2S", "box": 9.0}],
    "adsorbates": ["H"],
    "references": {"H": "H2"},
    "configurations": 1,
    "molecule_box": 9.0,
    "relax": False,
    "static": False,
    "bader": False,
    "overrides": {  # cheap: 200 Ry (the demo uses 250 Ry), loose SCF
        "FORCE_EVAL.DFT.MGRID.CUTOFF": 200,
        "FORCE_EVAL.DFT.MGRID.REL_CUTOFF": 30,
        "FORCE_EVAL.DFT.SCF.EPS_SCF": 1.0e-5,
    },
}


def test_half_h2_reference_end_to_end(tmp_path, monkeypatch):
    if shutil.which("cp2k.psmp") is None:
        pytest.fail("cp2k.psmp not found: `make system` installs Debian's cp2k")
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LISFLOW_DB_URL", url)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    (tmp_path / "h.yaml").write_text(yaml.safe_dump(H_ON_LI2S))
    runner = CliRunner()
    result = runner.invoke(app, ["submit", "h.yaml"])
    assert result.exit_code == 0 and "4 new Fireworks" in result.output, result.output
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    store = ResultStore(url)
    slab = store.get("half_h2/slab/Li2S-mol/energy")
    h2 = store.get("half_h2/molecule/H_H2/energy")
    adslab = store.get("half_h2/adslab/Li2S-mol/H/c0/energy")
    assert {r.state for r in (slab, h2, adslab)} == {"COMPLETED"}
    assert (slab.formula, h2.formula, adslab.formula) == ("Li2S", "H2", "Li2SH")
    rows = json.loads(runner.invoke(app, ["query", "adsorption", "--format", "json"]).output)
    assert len(rows) == 1
    row = rows[0]
    expected = adslab.energy_ev - slab.energy_ev - 0.5 * h2.energy_ev
    assert row["energy_ev"] == pytest.approx(expected, abs=1e-9)
    assert (row["slab_multiple"], row["molecule_coefficient"]) == (1, 0.5)
    assert row["equation"] == "E_ads = E(adslab) − E(slab) − 1/2·E(H2)"
    # A single point at the built geometry: the H starts 2.4 Å above the S, nearly a free atom,
    # so against ½H2 it costs about half the H2 binding energy (D_e 4.75 eV, NIST CCCBDB; PBE
    # ~4.5 eV). An H-atom reference would give ~0 instead; a whole H2 would give ~ -30 eV.
    assert 1.8 < row["energy_ev"] < 3.2
