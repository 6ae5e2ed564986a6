"""The sulfur-reduction ΔG profile on a real site, Fe-N4 in a 4×4 graphene cell, MLIP engine
(CHGNet 0.3.0 + D3(BJ)), with every check of the CI profile test (conservation, ZPE = Σ hν/2
of the stored modes, refusal of an incomplete profile). Minutes on a loaded machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_FILE = Path(__file__).parents[1] / "integration" / "test_mechanism_mlip.py"
_spec = importlib.util.spec_from_file_location("test_mechanism_mlip", _FILE)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

FE_N4 = {
    **_module.TINY_PROFILE,
    "substrates": [{"builder": "dasc", "metals": ["Fe"], "supercell": 4, "vacuum": 12.0}],
}


def test_fe_n4_profile(tmp_path, monkeypatch) -> None:
    steps = _module.check_profile(tmp_path, monkeypatch, FE_N4, "Fe-N4")
    assert len(steps) == 6
    # S8 binds to the Fe-N4 site (physisorption + S-Fe): the first step is downhill
    assert steps["S8 -> S8*"] < 0
