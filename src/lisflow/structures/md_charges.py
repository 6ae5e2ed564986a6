"""Charges of an MD electrode (paper 000 Methods MD): Bader charges mapped by local motif
(:mod:`lisflow.forcefield.charges`) and a whole box made exactly neutral."""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Structure

from lisflow.forcefield.charges import ChargeSource, load_charge_table, map_by_motif


def element_symbols(structure: Structure) -> list[str]:
    """``site.specie.symbol`` of every site of an ordered structure (an electrode), read
    from each site's composition without pymatgen's per-site order check; electrode sites
    share one Composition per element (:func:`lisflow.structures.md_memo.structure_from_cartesian`),
    so each distinct composition is read once (~10x faster on 10^4-site electrodes)."""
    by_composition: dict[int, str] = {}  # id(Composition) -> symbol (all alive: held by sites)
    compositions = [site._species for site in structure.sites]  # (= site.species, no call)
    for species in {id(c): c for c in compositions}.values():
        if len(species) != 1:
            site = structure[compositions.index(species)]
            raise ValueError(f"site {site!r} is disordered: no single element")
        by_composition[id(species)] = next(iter(species)).symbol
    return [by_composition[id(c)] for c in compositions]


def site_charges(structure: Structure) -> list[Any]:
    """``structure.site_properties["charge"]`` without collecting every other site property
    of every site (pymatgen's own, with None for a site without one, if any site lacks it)."""
    try:
        return [site.properties["charge"] for site in structure.sites]
    except KeyError:
        return list(structure.site_properties["charge"])


def _assign_charges(electrode: Structure, source: ChargeSource, reference) -> None:
    """Set site property ``charge`` and ``electrode.properties["charges"]`` (provenance)."""
    if source is None or str(source) == "neutral":
        electrode.add_site_property("charge", [0.0] * len(electrode))
        electrode.properties["charges"] = {
            "source": "none: every electrode atom 0 e" + (" (user choice)" if source else ""),
            "motifs": {},
        }
        return
    table = load_charge_table(source, reference)
    mapped = map_by_motif(table, electrode)
    electrode.add_site_property("charge", [float(q) for q in mapped.charges])
    electrode.add_site_property("motif", mapped.motifs)
    symbols = element_symbols(electrode)
    totals = {  # (summed in site order, as always)
        el: float(sum(q for q, s in zip(mapped.charges, symbols, strict=True) if s == el))
        for el in sorted(set(symbols))
    }
    electrode.properties["charges"] = {
        "source": table.source,
        "method": table.method,
        "reference": {k: table.meta[k] for k in ("cp2k_version", "settings", "mo_total_charge",
                                                  "calculation", "database")
                      if k in table.meta},
        "mapping": "same element + same first neighbour shell -> mean reference charge",
        "motifs": mapped.table,
        "unmatched_element_mean": mapped.unmatched,
        "element_totals_before_neutralising": totals,
    }


def neutralise(system) -> float:
    """Make the whole box neutral: spread minus its net charge evenly over the electrode C
    atoms (Ti slabs: Ti atoms). Returns the correction per atom (e); recorded in
    ``electrode.properties["charges"]``."""
    if system.electrode is None:
        return 0.0
    q = np.array(site_charges(system.electrode), float)
    symbols = np.array(element_symbols(system.electrode))
    target = symbols == ("C" if "C" in set(symbols) else symbols[0])
    residual = system.total_charge
    shift = -residual / int(target.sum())
    q[target] += shift
    system.electrode.add_site_property("charge", [float(v) for v in q])
    record = system.electrode.properties.setdefault("charges", {})
    record["neutralisation"] = (
        f"system net charge {residual:+.6f} e spread over {int(target.sum())} electrode "
        f"{symbols[target][0]} atoms ({shift:+.3e} e each)"
    )
    record["shift_per_atom_e"] = float(shift)
    mo = symbols == "Mo"
    if mo.any():
        record["mo_total_charge"] = float(q[mo].sum())
        record["mo_per_centre_charge"] = float(q[mo].sum()) / (int(mo.sum()) / 4)
    return shift
