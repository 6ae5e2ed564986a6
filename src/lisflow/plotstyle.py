"""Axis labels for figures: "quantity (unit)" with readable units (no matplotlib import)."""

from __future__ import annotations

import re

#: Column-name suffix -> unit, for labels made from column names (``energy_ev`` -> eV).
SUFFIX_UNITS = {
    "_ev": "eV",
    "_mev": "meV",
    "_a": "Å",
    "_ps": "ps",
    "_ns": "ns",
    "_nm": "nm",
    "_pn": "pN",
    "_mub": "μB",
    "_cm2_s": "cm²/s",
    "_nm2_s": "nm²/s",
    "_k": "K",
}

#: Series unit -> the quantity it measures on an axis of MD analysis plots.
UNIT_QUANTITIES = {
    "ps": "time",
    "ns": "time",
    "Å": "distance",
    "Å^2": "mean squared displacement",
    "e/Å^3": "charge density",
    "count": "number",
    "S atoms": "cluster size",
}


#: Names of series quantities that the generic rule (underscores to spaces) would garble.
QUANTITY_NAMES = {
    "n_sulfur_0_15A": "S atoms 0–15 Å above the electrode",
    "n_clusters": "number of S clusters",
}


def pretty_unit(unit: str) -> str:
    """``Å^2`` -> ``Å²``, ``e/Å^3`` -> ``e/Å³``, ``A^2/ps`` -> ``Å²/ps``; others unchanged."""
    unit = re.sub(r"(?<![A-Za-z])A(?![A-Za-z])", "Å", unit)
    return unit.replace("^2", "²").replace("^3", "³").replace("^-1", "⁻¹")


def axis_label(quantity: str, unit: str | None = None) -> str:
    """``"quantity (unit)"``; without ``unit``, one taken from the name's suffix
    (``energy_per_atom_ev`` -> ``energy per atom (eV)``). Unitless names stay as they are."""
    name = QUANTITY_NAMES.get(quantity, quantity)
    if unit is None:
        for suffix, suffix_unit in SUFFIX_UNITS.items():
            if name.lower().endswith(suffix) and len(name) > len(suffix):
                name, unit = name[: -len(suffix)], suffix_unit
                break
    name = re.sub(r"_+", " ", name).strip()
    name = re.sub(r"^n ", "number of ", name)
    if unit in (None, "", "count", "1"):
        return name
    return f"{name} ({pretty_unit(unit)})"


def unit_axis_label(unit: str, x: bool = False, lag: bool = False) -> str:
    """Label of an axis that carries ``unit`` only (MD series): "time (ps)", "MSD (Å²)"."""
    unit = {"A": "Å", "A^2": "Å^2", "e/A^3": "e/Å^3"}.get(unit, unit)
    if x and unit in ("ps", "ns"):
        return axis_label("lag time" if lag else "time", unit)
    if x and unit in ("Å", "A"):
        return axis_label("z", unit)
    return axis_label(UNIT_QUANTITIES.get(unit, "value"), unit)
