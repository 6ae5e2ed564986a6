"""Candidate feature space of SASC (M–N4) and DASC (M1–M2–N6) sites (paper 002, Fig. 1b–d).

Site names: ``<M1><M2>-N6`` for a DASC, ``<M>-N4`` for a SASC, metals in order of atomic number
(lower Z first, as ``lisflow.structures.support.dasc_graphene`` orders them), an optional
``/G`` suffix (the builder's structure name) is accepted: ``FeCo-N6``, ``Fe-N4``, ``FeFe-N6``.

Feature groups (the catalogue, :func:`feature_catalogue`, documents every name):

- ``element``: pymatgen/ase properties of M1, M2 and N (:mod:`lisflow.ml.elements`);
- ``structure``: bond lengths, M–M distance, L_3N, ... of the built or relaxed structure
  (:mod:`lisflow.ml.geometry`);
- ``composite``: mean, difference, |difference| and product of M1/M2 properties, and metal–N
  electronegativity differences, covalent bond lengths and bond strains;
- ``corrected_d``: d-electron counts corrected by electronegativity, radius, ionisation energy,
  bond length and the coordination environment (the "corrected d-orbital" features);
- ``computed``: d-band centre and Bader charges from the results database, when present.

Energies eV, lengths Å, charges e.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from pymatgen.core import Element, Structure

from lisflow import INPUTS_DIR
from lisflow.errors import InputError
from lisflow.fsutil import atomic_write_text
from lisflow.ml.elements import ELEMENT_PROPERTIES, element_properties
from lisflow.ml.geometry import GEOMETRY_CATALOGUE, TRIMETALLIC_GEOMETRY, geometry_features

#: Default location of the written catalogue.
CATALOGUE_PATH = INPUTS_DIR / "ml" / "feature_catalogue.csv"

#: M1/M2 properties combined into mean, difference (M1 − M2), |difference| and product.
COMPOSITE_KEYS = (
    "chi", "ie1", "ie2", "ea", "r_atomic", "r_cov", "r_ion", "n_d", "n_valence",
    "n_unpaired_d", "group", "period", "mass", "mendeleev",
)  # fmt: skip
#: Pauling electronegativity of O (pymatgen Element("O").X = 3.44), the reference of the
#: Xu et al. descriptor φ (Nat. Catal. 1, 339 (2018)).
CHI_O = float(Element("O").X)
#: Correction coefficient α of φ; set to 1 here (our choice, not a fitted value).
PHI_ALPHA = 1.0
#: Computed (database) features: name -> definition, unit.
COMPUTED_CATALOGUE: dict[str, tuple[str, str]] = {
    "eps_d_M1": ("d-band centre of M1 (relative to E_F) of the bare site", "eV"),
    "eps_d_M2": ("d-band centre of M2 (relative to E_F) of the bare site", "eV"),
    "eps_p_N": ("mean p-band centre of the coordinating N (relative to E_F)", "eV"),
    "q_M1": ("Bader valence electrons on M1", "e"),
    "q_M2": ("Bader valence electrons on M2", "e"),
    "q_N": ("mean Bader valence electrons on the coordinating N", "e"),
}
_NAME = re.compile(r"^(?P<metals>(?:[A-Z][a-z]?){1,3})-N(?P<n>[468])(?:/G)?$")
#: Coordinating N of a site with 1, 2, 3 metals (M–N4, M1M2–N6, M1M2M3–N8).
N_OF_METALS = {1: 4, 2: 6, 3: 8}


@dataclass(frozen=True)
class FeatureInfo:
    """One catalogue row."""

    name: str
    group: str
    definition: str
    unit: str
    source: str


def parse_site_name(name: str) -> tuple[str, ...]:
    """``"FeCo-N6"`` -> ``("Fe", "Co")``, ``"Fe-N4"`` -> ``("Fe",)``, ``"FeCoNi-N8"`` ->
    ``("Fe", "Co", "Ni")`` (trimetallic; see :mod:`lisflow.ml.trimetallic`)."""
    match = _NAME.match(name.strip())
    if not match:
        raise InputError("site", f"cannot parse site name {name!r}", "e.g. FeCo-N6, Fe-N4")
    metals = tuple(re.findall(r"[A-Z][a-z]?", match["metals"]))
    expected = {4: 1, 6: 2, 8: 3}[int(match["n"])]
    if len(metals) != expected:
        raise InputError(
            "site",
            f"{name!r}: N{match['n']} needs {expected} metal(s)",
            "M-N4, M1M2-N6, M1M2M3-N8",
        )
    for metal in metals:
        try:
            ok = Element(metal).is_transition_metal
        except ValueError:
            ok = False
        if not ok:
            raise InputError("site", f"{name!r}: {metal!r} is not a transition metal")
    return metals


def site_name(metals: Sequence[str]) -> str:
    """Canonical site name of ``metals`` (lower Z first): ``Fe-N4``, ``FeCo-N6``, ``FeCoNi-N8``."""
    ordered = sorted(metals, key=lambda m: Element(m).Z)
    return "".join(ordered) + f"-N{N_OF_METALS[len(ordered)]}"


def _element_block(m1: str, m2: str, m3: str | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    tags = (("M1", m1), ("M2", m2), ("N", "N")) + ((("M3", m3),) if m3 else ())
    for tag, symbol in tags:
        out |= {f"{tag}_{k}": v for k, v in element_properties(symbol).items()}
    return out


def _composite_block(e: Mapping[str, float], g: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in COMPOSITE_KEYS:
        a, b = e[f"M1_{k}"], e[f"M2_{k}"]
        out |= {f"mean_{k}": (a + b) / 2, f"diff_{k}": a - b, f"absdiff_{k}": abs(a - b)}
        out[f"prod_{k}"] = a * b
    for t in ("M1", "M2"):
        bond0 = e[f"{t}_r_cov"] + e["N_r_cov"]
        out[f"dchi_{t}N"] = e["N_chi"] - e[f"{t}_chi"]
        out[f"rcov_{t}N"] = bond0
        out[f"strain_{t}N"] = (g[f"d_{t}N_mean"] - bond0) / bond0
    return out


def _corrected_block(e: Mapping[str, float], g: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in ("M1", "M2"):
        n_d, chi = e[f"{t}_n_d"], e[f"{t}_chi"]
        # Xu et al., Nat. Catal. 1, 339 (2018): phi = theta_d (E_M + a (n_N E_N + n_C E_C)) / E_O
        env = g[f"n_N_{t}"] * e["N_chi"] + g[f"n_C_{t}"] * float(Element("C").X)
        out[f"phi_{t}"] = n_d * (chi + PHI_ALPHA * env) / CHI_O
        out[f"nd_chi_{t}"] = n_d * chi
        out[f"nd_per_r_{t}"] = n_d / e[f"{t}_r_atomic"]
        out[f"nd_ie1_{t}"] = n_d * e[f"{t}_ie1"]
        out[f"nd_bond_{t}"] = n_d * e[f"{t}_r_cov"] / g[f"d_{t}N_mean"]
    out["phi_mean"] = (out["phi_M1"] + out["phi_M2"]) / 2
    out["phi_diff"] = out["phi_M1"] - out["phi_M2"]
    out["sumR_per_L3N"] = (e["M1_r_atomic"] + e["M2_r_atomic"]) / g["L3N"]
    out["dMM_per_rcov"] = g["d_MM"] / (e["M1_r_cov"] + e["M2_r_cov"])
    out["chi_ie1_mean"] = (e["M1_chi"] * e["M1_ie1"] + e["M2_chi"] * e["M2_ie1"]) / 2
    return out


def _trimetallic_block(e: Mapping[str, float], g: Mapping[str, float]) -> dict[str, float]:
    """Composites over the three metals and M3's corrected-d features (trimetallic only)."""
    out: dict[str, float] = {}
    for k in COMPOSITE_KEYS:
        values = [e[f"M{i}_{k}"] for i in (1, 2, 3)]
        out[f"tri_mean_{k}"] = sum(values) / 3
        out[f"tri_range_{k}"] = max(values) - min(values)
    n_d, chi = e["M3_n_d"], e["M3_chi"]
    env = g["n_N_M3"] * e["N_chi"] + g["n_C_M3"] * float(Element("C").X)
    out["phi_M3"] = n_d * (chi + PHI_ALPHA * env) / CHI_O
    out["nd_chi_M3"] = n_d * chi
    out["dchi_M3N"] = e["N_chi"] - chi
    return out


def site_features(
    metals: Sequence[str],
    structure: Structure | None = None,
    computed: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Feature vector of the site of ``metals`` (1 or 2 symbols, any order).

    ``structure``: the built or relaxed site (default: ``dasc_graphene(metals)``, unrelaxed).
    ``computed``: values for :data:`COMPUTED_CATALOGUE` keys (only those given are added).
    """
    from lisflow.structures.support import dasc_graphene

    ordered = sorted(metals, key=lambda m: Element(m).Z)
    if len(ordered) not in (1, 2, 3):
        raise InputError("metals", f"need 1, 2 or 3 metals, got {list(metals)!r}")
    tri = len(ordered) == 3
    m1, m2 = ordered[0], ordered[1 if tri else -1]
    if structure is not None:
        built = structure
    elif tri:
        from lisflow.ml.trimetallic import trimetallic_graphene

        built = trimetallic_graphene(ordered)
    else:
        built = dasc_graphene(ordered)
    e = _element_block(m1, m2, ordered[2] if tri else None)
    g = geometry_features(built)
    out = {"n_metals": float(len(ordered)), "homonuclear": float(len(set(ordered)) == 1)}
    out |= e | g | _composite_block(e, g) | _corrected_block(e, g)
    if tri:
        out |= _trimetallic_block(e, g)
    for key, value in (computed or {}).items():
        if key not in COMPUTED_CATALOGUE:
            raise InputError(
                "computed", f"unknown computed feature {key!r}", ", ".join(COMPUTED_CATALOGUE)
            )
        out[key] = float(value)
    return out


def feature_frame(
    sites: Sequence[Sequence[str]],
    structures: Mapping[str, Structure] | None = None,
    computed: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """One row per site (index: canonical site name), columns in catalogue order."""
    rows = {}
    for metals in sites:
        name = site_name(metals)
        rows[name] = site_features(metals, (structures or {}).get(name), (computed or {}).get(name))
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "site"
    order = [f.name for f in feature_catalogue() if f.name in frame.columns]
    return frame[order]


def feature_catalogue() -> list[FeatureInfo]:
    """Every candidate feature: name, group, definition, unit, source."""
    rows = [
        FeatureInfo(
            "n_metals", "structure", "metal atoms in the site (1 SASC, 2 DASC)", "1", "site"
        ),
        FeatureInfo("homonuclear", "structure", "1 if M1 and M2 are the same element", "1", "site"),
    ]
    for tag in ("M1", "M2", "N"):
        for p in ELEMENT_PROPERTIES:
            rows.append(
                FeatureInfo(
                    f"{tag}_{p.key}", "element", f"{p.definition} of {tag}", p.unit, p.source
                )
            )
    geo_src = "built/relaxed structure (lisflow.ml.geometry)"
    rows += [FeatureInfo(n, "structure", d, u, geo_src) for n, (d, u) in GEOMETRY_CATALOGUE.items()]
    units = {p.key: p.unit for p in ELEMENT_PROPERTIES}
    for k in COMPOSITE_KEYS:
        u = units[k]
        rows += [
            FeatureInfo(f"mean_{k}", "composite", f"(M1_{k} + M2_{k}) / 2", u, "derived"),
            FeatureInfo(f"diff_{k}", "composite", f"M1_{k} − M2_{k}", u, "derived"),
            FeatureInfo(f"absdiff_{k}", "composite", f"|M1_{k} − M2_{k}|", u, "derived"),
            FeatureInfo(
                f"prod_{k}",
                "composite",
                f"M1_{k} × M2_{k}",
                f"({u})^2" if u != "1" else "1",
                "derived",
            ),
        ]
    for t in ("M1", "M2"):
        rows += [
            FeatureInfo(f"dchi_{t}N", "composite", f"N_chi − {t}_chi", "1", "derived"),
            FeatureInfo(
                f"rcov_{t}N",
                "composite",
                f"{t}_r_cov + N_r_cov (covalent {t}–N bond)",
                "Å",
                "derived",
            ),
            FeatureInfo(
                f"strain_{t}N",
                "composite",
                f"(d_{t}N_mean − rcov_{t}N) / rcov_{t}N",
                "1",
                "derived",
            ),
        ]
    xu = "Xu et al., Nat. Catal. 1, 339 (2018), alpha = 1"
    for t in ("M1", "M2"):
        rows += [
            FeatureInfo(
                f"phi_{t}",
                "corrected_d",
                f"{t}_n_d (chi_{t} + n_N chi_N + n_C chi_C) / chi_O",
                "1",
                xu,
            ),
            FeatureInfo(f"nd_chi_{t}", "corrected_d", f"{t}_n_d × {t}_chi", "1", "derived"),
            FeatureInfo(
                f"nd_per_r_{t}", "corrected_d", f"{t}_n_d / {t}_r_atomic", "1/Å", "derived"
            ),
            FeatureInfo(f"nd_ie1_{t}", "corrected_d", f"{t}_n_d × {t}_ie1", "eV", "derived"),
            FeatureInfo(
                f"nd_bond_{t}", "corrected_d", f"{t}_n_d × {t}_r_cov / d_{t}N_mean", "1", "derived"
            ),
        ]
    rows += [
        FeatureInfo("phi_mean", "corrected_d", "(phi_M1 + phi_M2) / 2", "1", xu),
        FeatureInfo("phi_diff", "corrected_d", "phi_M1 − phi_M2", "1", xu),
        FeatureInfo(
            "sumR_per_L3N",
            "corrected_d",
            "(M1_r_atomic + M2_r_atomic) / L3N (paper 002: lattice strain)",
            "1",
            "derived",
        ),
        FeatureInfo("dMM_per_rcov", "corrected_d", "d_MM / (M1_r_cov + M2_r_cov)", "1", "derived"),
        FeatureInfo(
            "chi_ie1_mean", "corrected_d", "(chi_M1 ie1_M1 + chi_M2 ie1_M2) / 2", "eV", "derived"
        ),
    ]
    rows += [
        FeatureInfo(n, "computed", d, u, "results DB (lisflow.db.queries bands/charges)")
        for n, (d, u) in COMPUTED_CATALOGUE.items()
    ]
    return rows + trimetallic_catalogue()


def trimetallic_catalogue() -> list[FeatureInfo]:
    """Features present only for trimetallic (M1M2M3–N8) sites."""
    rows = [
        FeatureInfo(f"M3_{p.key}", "element", f"{p.definition} of M3", p.unit, p.source)
        for p in ELEMENT_PROPERTIES
    ]
    geo_src = "built/relaxed structure (lisflow.ml.geometry)"
    rows += [
        FeatureInfo(n, "structure", d, u, geo_src) for n, (d, u) in TRIMETALLIC_GEOMETRY.items()
    ]
    units = {p.key: p.unit for p in ELEMENT_PROPERTIES}
    for k in COMPOSITE_KEYS:
        rows += [
            FeatureInfo(f"tri_mean_{k}", "composite", f"mean of M1_{k}, M2_{k}, M3_{k}",
                        units[k], "derived"),
            FeatureInfo(f"tri_range_{k}", "composite", f"max − min of M1_{k}, M2_{k}, M3_{k}",
                        units[k], "derived"),
        ]  # fmt: skip
    rows += [
        FeatureInfo("phi_M3", "corrected_d", "M3_n_d (chi_M3 + n_N chi_N + n_C chi_C) / chi_O",
                    "1", "Xu et al., Nat. Catal. 1, 339 (2018), alpha = 1"),
        FeatureInfo("nd_chi_M3", "corrected_d", "M3_n_d × M3_chi", "1", "derived"),
        FeatureInfo("dchi_M3N", "composite", "N_chi − M3_chi", "1", "derived"),
    ]  # fmt: skip
    return rows


def site_feature_names(trimetallic: bool = False) -> list[str]:
    """Catalogue features computable for any site (no computed/DB ones); with ``trimetallic``
    also the trimetallic-only ones."""
    tri = {f.name for f in trimetallic_catalogue()}
    return [
        f.name
        for f in feature_catalogue()
        if f.group != "computed" and (trimetallic or f.name not in tri)
    ]


def write_feature_catalogue(path: str | Path = CATALOGUE_PATH) -> Path:
    """Write the catalogue as CSV (atomic) and return its path."""
    frame = pd.DataFrame([asdict(f) for f in feature_catalogue()])
    return atomic_write_text(path, frame.to_csv(index=False))
