"""Structural features of an M–N4 (SASC) or M1–M2–N6 (DASC) site on graphene. Lengths in Å.

Metals are the sites labelled ``metal`` (``site.properties["label"]``, as written by
``lisflow.structures.support.dasc_graphene``) or, without labels, the d-block atoms; M1 is the
lower-Z metal (paper 002: the lower-Z metal binds S). The N coordinating a metal are the N atoms
within :data:`BOND_CUTOFF` of it (restricted to ``coordinating_N`` when labelled).

L_3N (paper 002, Fig. 1e and text: "the spacing between coordinating nitrogen atoms", "the
distance between three nitrogen atoms") is defined here as the mean side length of the triangle
formed by the three N atoms nearest to the metal (ties broken by site index). For the
rectangular N4 cage of the built SASC every choice of three N gives the same triangle. A SASC has
no M2: its M2 features repeat M1's and ``d_MM`` is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from pymatgen.core import Element, Structure

from lisflow.errors import InputError

#: Å, metal–N and metal–C bond cutoff (M–N bonds of M–N4 sites are 1.8–2.2 Å; the second
#: shell, C behind the N, lies beyond 2.8 Å in the built sites).
BOND_CUTOFF = 2.6
#: Å, first-shell metal–C cutoff for ``n_C`` (metal–C bonds in C-coordinated sites ~1.9–2.1 Å).
MC_CUTOFF = 2.3
#: Metal–N bonds reported per metal (sorted ascending).
N_BONDS = 4


@dataclass(frozen=True)
class SiteGeometry:
    """Indices of the active-site atoms in a structure."""

    metals: tuple[int, ...]
    coordinating_n: tuple[tuple[int, ...], ...]  # per metal, sorted by distance


def _label(structure: Structure, i: int) -> str | None:
    return structure[i].properties.get("label")


def find_site(structure: Structure) -> SiteGeometry:
    """Locate the metal atoms (M1 first, by Z then index) and their coordinating N."""
    labelled = any(_label(structure, i) is not None for i in range(len(structure)))
    if labelled:
        metals = [i for i in range(len(structure)) if _label(structure, i) == "metal"]
    else:
        metals = [
            i for i, s in enumerate(structure) if Element(s.specie.symbol).is_transition_metal
        ]
    if len(metals) not in (1, 2, 3):
        raise InputError(
            "structure", f"found {len(metals)} metal atoms", "1 (SASC), 2 (DASC) or 3 (trimetallic)"
        )
    metals.sort(key=lambda i: (structure[i].specie.Z, i))
    coordinating = []
    for m in metals:
        shell = [
            (round(n.nn_distance, 6), int(n.index))
            for n in structure.get_neighbors(structure[m], BOND_CUTOFF)
            if n.specie.symbol == "N"
            and (not labelled or _label(structure, int(n.index)) == "coordinating_N")
        ]
        if len(shell) < 3:
            raise InputError(
                "structure", f"metal {m} has {len(shell)} N within {BOND_CUTOFF} Å", ">= 3"
            )
        coordinating.append(tuple(i for _, i in sorted(shell)))
    return SiteGeometry(tuple(metals), tuple(coordinating))


def _triangle_mean_side(structure: Structure, idx: tuple[int, ...]) -> float:
    return float(np.mean([structure.get_distance(a, b) for a, b in combinations(idx[:3], 2)]))


def _height(structure: Structure, m: int, n_idx: tuple[int, ...]) -> float:
    """Distance of metal ``m`` from the least-squares plane of its N (Å, minimum image)."""
    centre = structure[m].coords
    pts = np.array([centre + _mic_vector(structure, m, n) for n in n_idx])
    mean = pts.mean(axis=0)
    normal = np.linalg.svd(pts - mean)[2][-1]
    return float(abs(np.dot(centre - mean, normal)))


def _mic_vector(structure: Structure, a: int, b: int) -> np.ndarray:
    dfrac = structure[b].frac_coords - structure[a].frac_coords
    return structure.lattice.get_cartesian_coords(dfrac - np.round(dfrac))


def _metal_block(
    structure: Structure, m: int, n_idx: tuple[int, ...], tag: str
) -> dict[str, float]:
    bonds = sorted(structure.get_distance(m, n) for n in n_idx)
    padded = (bonds + [bonds[-1]] * N_BONDS)[:N_BONDS]
    n_c = sum(1 for n in structure.get_neighbors(structure[m], MC_CUTOFF) if n.specie.symbol == "C")
    out = {f"d_{tag}N_{k + 1}": float(d) for k, d in enumerate(padded)}
    out |= {
        f"d_{tag}N_mean": float(np.mean(bonds)),
        f"d_{tag}N_min": float(bonds[0]),
        f"d_{tag}N_max": float(bonds[-1]),
        f"d_{tag}N_std": float(np.std(bonds)),
        f"n_N_{tag}": float(len(bonds)),
        f"n_C_{tag}": float(n_c),
        f"h_{tag}": _height(structure, m, n_idx),
        f"L3N_{tag}": _triangle_mean_side(structure, n_idx),
    }
    return out


def geometry_features(structure: Structure) -> dict[str, float]:
    """All structural features (Å or counts) of the site in ``structure``; see the catalogue."""
    site = find_site(structure)
    tri = len(site.metals) == 3
    m1 = site.metals[0]
    m2 = site.metals[1 if tri else -1]
    n1 = site.coordinating_n[0]
    n2 = site.coordinating_n[1 if tri else -1]
    out = _metal_block(structure, m1, n1, "M1") | _metal_block(structure, m2, n2, "M2")
    if tri:
        out |= _metal_block(structure, site.metals[2], site.coordinating_n[2], "M3")
    all_n = sorted({n for ns in site.coordinating_n for n in ns})
    bonds = [
        structure.get_distance(m, n)
        for m, ns in zip(site.metals, site.coordinating_n, strict=True)
        for n in ns
    ]
    nn = [min(structure.get_distance(a, b) for b in all_n if b != a) for a in all_n]
    out |= {
        "d_MN_mean_all": float(np.mean(bonds)),
        "d_MM": float(structure.get_distance(m1, m2)) if m1 != m2 else 0.0,
        "L3N": float(np.mean([out[f"L3N_M{k + 1}"] for k in range(len(site.metals))]))
        if tri
        else 0.5 * (out["L3N_M1"] + out["L3N_M2"]),
        "d_NN_nearest_mean": float(np.mean(nn)),
        "d_NN_nearest_min": float(np.min(nn)),
        "n_N_site": float(len(all_n)),
    }
    if tri:
        m3 = site.metals[2]
        out["d_M2M3"] = float(structure.get_distance(m2, m3))
        out["d_M1M3"] = float(structure.get_distance(m1, m3))
    return out


#: name -> (definition, unit) of every key of :func:`geometry_features`.
GEOMETRY_CATALOGUE: dict[str, tuple[str, str]] = {
    **{
        f"d_{t}N_{k}": (f"{k}-th shortest {t}–N bond length", "Å")
        for t in ("M1", "M2")
        for k in range(1, N_BONDS + 1)
    },
    **{
        name: (text.format(t=t), unit)
        for t in ("M1", "M2")
        for name, text, unit in (
            (f"d_{t}N_mean", "mean {t}–N bond length", "Å"),
            (f"d_{t}N_min", "shortest {t}–N bond length", "Å"),
            (f"d_{t}N_max", "longest {t}–N bond length", "Å"),
            (f"d_{t}N_std", "standard deviation of the {t}–N bond lengths", "Å"),
            (f"n_N_{t}", "N atoms within 2.6 Å of {t} (coordination number)", "1"),
            (f"n_C_{t}", "C atoms within 2.3 Å of {t} (first shell)", "1"),
            (f"h_{t}", "height of {t} above the plane of its coordinating N", "Å"),
            (f"L3N_{t}", "L_3N of {t}: mean side of the triangle of its three nearest N", "Å"),
        )
    },
    "d_MN_mean_all": ("mean metal–N bond length over both metals", "Å"),
    "d_MM": ("M1–M2 distance (0 for a SASC)", "Å"),
    "L3N": ("L_3N: mean of L3N_M1 and L3N_M2 (paper 002 spacing of coordinating N)", "Å"),
    "d_NN_nearest_mean": ("mean nearest-neighbour N–N distance among coordinating N", "Å"),
    "d_NN_nearest_min": ("shortest N–N distance among coordinating N", "Å"),
    "n_N_site": ("coordinating N atoms of the site (4 for M–N4, 6 for M1M2–N6)", "1"),
}
#: Trimetallic sites only (M1M2M3–N8; M1, M2, M3 in order of Z, M2 the middle metal).
TRIMETALLIC_GEOMETRY: dict[str, tuple[str, str]] = {
    **{
        name.replace("M1", "M3"): (text.replace("M1", "M3"), unit)
        for name, (text, unit) in GEOMETRY_CATALOGUE.items()
        if "M1" in name
    },
    "d_M2M3": ("M2–M3 distance (trimetallic site)", "Å"),
    "d_M1M3": ("M1–M3 distance (trimetallic site)", "Å"),
}
