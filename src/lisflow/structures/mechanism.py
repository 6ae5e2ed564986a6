"""Structures of the mechanism studies: the bulk Li reference and CI-NEB endpoints.

Li diffusion: a Li adatom 2.0 Å above the sheet next to the site's coordinating N (paper 002:
Li binds the coordinating N), hopping ``hop`` Å along the in-plane direction away from the
metal. Li2S decomposition (Li2S* → LiS* + Li*): the Li2S adslab of the adsorption builder as
the initial state; in the final state the Li farthest from the metal has moved ``hop`` Å
further away from the S, in plane (the Li–S bond broken).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

#: Height (Å) of a Li adatom above the sheet plane; Li on N-doped graphene sits ~1.8–2.1 Å
#: above the plane in PBE-D3 (lisflow choice; the relaxation fixes it).
LI_HEIGHT = 2.0


def bulk_li(a: float = 3.491) -> Structure:
    """Conventional bcc Li (2 atoms), lattice constant ``a`` Å (Kittel, Introduction to Solid
    State Physics, 8th ed., Table 4: 3.491 Å at 78 K)."""
    structure = Structure(Lattice.cubic(a), ["Li", "Li"], [[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    structure.add_site_property("label", ["bulk"] * 2)
    return structure


def _sheet_top(slab: Structure) -> float:
    labels = slab.site_properties.get("label", ["slab"] * len(slab))
    z = [site.coords[2] for site, lab in zip(slab, labels, strict=True) if lab != "adsorbate"]
    return float(np.median(z))


def _metal_centre(slab: Structure) -> np.ndarray:
    labels = slab.site_properties.get("label", [""] * len(slab))
    metals = [i for i, lab in enumerate(labels) if lab == "metal"]
    if not metals:
        return slab.lattice.get_cartesian_coords([0.5, 0.5, 0.5])
    return slab.cart_coords[metals].mean(axis=0)


def _unit_inplane(v: np.ndarray) -> np.ndarray:
    w = np.array([v[0], v[1], 0.0])
    norm = np.linalg.norm(w)
    return np.array([1.0, 0.0, 0.0]) if norm < 1e-6 else w / norm


def li_hop_endpoints(slab: Structure, hop: float) -> tuple[Structure, Structure]:
    """(initial, final) Li adatom on the slab: above a coordinating N, then ``hop`` Å away."""
    labels = slab.site_properties.get("label", [""] * len(slab))
    centre = _metal_centre(slab)
    ns = [i for i, lab in enumerate(labels) if lab == "coordinating_N"]
    anchor = slab.cart_coords[ns[0]] if ns else centre + np.array([1.5, 0.0, 0.0])
    direction = _unit_inplane(anchor - centre)
    z = _sheet_top(slab) + LI_HEIGHT
    start = np.array([anchor[0], anchor[1], z])
    ends = []
    for position in (start, start + hop * direction):
        adslab = slab.copy()
        adslab.append("Li", position, coords_are_cartesian=True, properties={"label": "adsorbate"})
        ends.append(adslab)
    return ends[0], ends[1]


def li2s_split_endpoints(li2s_adslab: Structure, hop: float) -> tuple[Structure, Structure]:
    """(Li2S*, LiS* + Li*): the Li of Li2S farthest from the metal moved ``hop`` Å away from
    the S in plane."""
    labels = li2s_adslab.site_properties["label"]
    ads = [i for i, lab in enumerate(labels) if lab == "adsorbate"]
    s_index = next(i for i in ads if li2s_adslab[i].specie.symbol == "S")
    centre = _metal_centre(li2s_adslab)
    lis = [i for i in ads if li2s_adslab[i].specie.symbol == "Li"]
    moved = max(lis, key=lambda i: np.linalg.norm((li2s_adslab.cart_coords[i] - centre)[:2]))
    direction = _unit_inplane(li2s_adslab.cart_coords[moved] - li2s_adslab.cart_coords[s_index])
    final = li2s_adslab.copy()
    final.translate_sites([moved], hop * direction, frac_coords=False, to_unit_cell=False)
    return li2s_adslab.copy(), final
