"""Trimetallic M1–M2–M3–N8 sites on graphene: paper 002's extension of its ML framework to
"complex trimetallic sites" (text after Fig. 1; Supplementary Figs. 3–4). The paper gives no
geometry; the model site here is our choice, built like lisflow's M1M2–N6 site one step longer:
a trans (zigzag) chain of 6 C is removed from the sheet centre, its 8 dangling C become
pyridinic N, and each metal sits in plane at the midpoint of one removed C pair (the three
metals ~2.46 Å apart, each in an M–N4-like cell sharing N with its neighbours). Metals in
order of atomic number along the chain (M1, M2 centre, M3). The sheet around the site is
relaxed in plane as for the DASC (``structures.site_relax``). Lengths Å.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymatgen.core import Element, Structure

from lisflow.errors import InputError
from lisflow.structures.site_relax import relax_site
from lisflow.structures.support import (
    TRANSITION_METALS,
    _dope_vacancy,
    _hexagonal_graphene,
    _neighbours,
    _vacancy_chain,
)


def _chain6(sheet: Structure) -> list[int]:
    """The 4-atom trans chain A-B-C-D of the DASC extended trans-wise at both ends."""
    a, b, c, d = _vacancy_chain(sheet, 4)
    e = max((k for k in _neighbours(sheet, d) if k != c), key=lambda k: sheet.get_distance(b, k))
    z = max((k for k in _neighbours(sheet, a) if k != b), key=lambda k: sheet.get_distance(c, k))
    return [z, a, b, c, d, e]


def order_metals(metals: Sequence[str]) -> list[str]:
    """Three d-block metals ordered by atomic number (lower Z first)."""
    if isinstance(metals, str) or len(metals) != 3:
        raise InputError("metals", f"need three metals, got {metals!r}", "3 symbols")
    for m in metals:
        if m not in TRANSITION_METALS:
            raise InputError("metals", f"{m!r} is not a d-block transition metal",
                             ", ".join(TRANSITION_METALS))  # fmt: skip
    return sorted(metals, key=lambda m: Element(m).Z)


def trimetallic_graphene(
    metals: Sequence[str], supercell: int = 7, a: float = 2.47, vacuum: float = 15.0
) -> Structure:
    """M1M2M3–N8 site in an n × n graphene supercell (default 7 × 7: 84 C + 8 N + 3 M = 95 sites)."""
    ordered = order_metals(metals)
    sheet = _hexagonal_graphene(supercell, a, vacuum)
    sheet, centre, pos = _dope_vacancy(sheet, _chain6(sheet))
    for i, metal in enumerate(ordered):
        xyz = pos[2 * i : 2 * i + 2].mean(axis=0)
        sheet.append(metal, xyz, coords_are_cartesian=True, properties={"label": "metal"})
    return relax_site(sheet, centre)  # the DASC's in-plane valence force field


def metal_distances(structure: Structure) -> np.ndarray:
    """Distances M1–M2, M2–M3, M1–M3 (Å) of a labelled trimetallic site."""
    idx = [i for i, s in enumerate(structure) if s.properties.get("label") == "metal"]
    idx.sort(key=lambda i: (structure[i].specie.Z, i))
    m1, m2, m3 = idx
    return np.array([structure.get_distance(m1, m2), structure.get_distance(m2, m3),
                     structure.get_distance(m1, m3)])  # fmt: skip
