"""Bond-length sanity of every site the ML screen enumerates (495 sites, ~1 min)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lisflow.ml.datasets import all_sites
from lisflow.structures.support import dasc_graphene

_UNIT = Path(__file__).parents[1] / "unit" / "test_dasc_sites.py"
_spec = importlib.util.spec_from_file_location("test_dasc_sites", _UNIT)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)


def test_every_screen_site_has_sensible_bonds() -> None:
    sites = all_sites()
    assert len(sites) == 30 + 30 * 31 // 2  # SASCs + unordered pairs with repetition
    bad = {m: p for m in sites if (p := _module.bond_problems(dasc_graphene(list(m))))}
    assert bad == {}
