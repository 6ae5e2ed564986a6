"""Per-element properties of the site atoms (M1, M2, coordinating N) used as ML features.

Every value comes from pymatgen's periodic table (``pymatgen.core.Element``, data file
``periodic_table.json``) except the covalent radius, which is Cordero et al., Dalton Trans.
2832 (2008), as tabulated in ``ase.data.covalent_radii``. Electron counts (d, s, p, valence,
unpaired) are read from pymatgen's ground-state configuration of the free atom
(``Element.full_electronic_structure``): the outermost shell of each kind; f electrons are not
counted as valence. Units: eV, Å, amu, K, cm³/mol, W/(m K).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ase.data import covalent_radii
from pymatgen.core import Element

from lisflow.errors import InputError


@dataclass(frozen=True)
class ElementProperty:
    """One tabulated property: short key, definition, unit and source."""

    key: str
    definition: str
    unit: str
    source: str


_PMG = "pymatgen Element"
_CONF = "pymatgen Element.full_electronic_structure (free-atom ground state)"

#: Properties taken for every site atom; the feature name is ``<atom>_<key>`` (atom M1, M2, N).
ELEMENT_PROPERTIES: tuple[ElementProperty, ...] = (
    ElementProperty("Z", "atomic number", "1", _PMG),
    ElementProperty("mass", "atomic mass", "amu", _PMG),
    ElementProperty("chi", "Pauling electronegativity", "1", _PMG + ".X"),
    ElementProperty("ie1", "first ionisation energy", "eV", _PMG + ".ionization_energies[0]"),
    ElementProperty("ie2", "second ionisation energy", "eV", _PMG + ".ionization_energies[1]"),
    ElementProperty("ie3", "third ionisation energy", "eV", _PMG + ".ionization_energies[2]"),
    ElementProperty("ea", "electron affinity", "eV", _PMG + ".electron_affinity"),
    ElementProperty("r_atomic", "empirical atomic radius (Slater 1964)", "Å", _PMG + ".atomic_radius"),
    ElementProperty("r_cov", "covalent radius (Cordero et al. 2008)", "Å", "ase.data.covalent_radii"),
    ElementProperty("r_vdw", "van der Waals radius", "Å", _PMG + ".van_der_waals_radius"),
    ElementProperty("r_ion", "average ionic radius", "Å", _PMG + ".average_ionic_radius"),
    ElementProperty("group", "periodic-table group", "1", _PMG + ".group"),
    ElementProperty("period", "periodic-table period (row)", "1", _PMG + ".row"),
    ElementProperty("mendeleev", "Mendeleev number (Pettifor)", "1", _PMG + ".mendeleev_no"),
    ElementProperty("n_d", "d electrons in the outermost d shell", "1", _CONF),
    ElementProperty("n_s", "electrons in the outermost s shell", "1", _CONF),
    ElementProperty("n_p", "electrons in the outermost p shell (valence p only)", "1", _CONF),
    ElementProperty("n_valence", "valence electrons: outer s + p + d", "1", _CONF),
    ElementProperty("n_unpaired_d", "unpaired d electrons by Hund's rule", "1", _CONF),
    ElementProperty("t_melt", "melting point of the element", "K", _PMG + ".melting_point"),
    ElementProperty("t_boil", "boiling point of the element", "K", _PMG + ".boiling_point"),
    ElementProperty("v_molar", "molar volume of the element", "cm^3/mol", _PMG + ".molar_volume"),
    ElementProperty("kappa", "thermal conductivity of the element", "W/(m K)", _PMG + ".thermal_conductivity"),
)  # fmt: skip

PROPERTY_KEYS: tuple[str, ...] = tuple(p.key for p in ELEMENT_PROPERTIES)


def _outer_counts(element: Element) -> dict[str, int]:
    """Electrons in the outermost s, p, d shells (p only if in the valence shell n = n_s)."""
    shells = element.full_electronic_structure
    n_s_shell = max(n for n, orb, _ in shells if orb == "s")
    counts = {"s": 0, "p": 0, "d": 0}
    outer_d = max((n for n, orb, _ in shells if orb == "d"), default=None)
    for n, orb, occupation in shells:
        if orb == "s" and n == n_s_shell:
            counts["s"] = occupation
        elif orb == "p" and n == n_s_shell:
            counts["p"] = occupation
        elif orb == "d" and n == outer_d and n == n_s_shell - 1:
            counts["d"] = occupation
    return counts


@functools.cache
def element_properties(symbol: str) -> dict[str, float]:
    """Every :data:`ELEMENT_PROPERTIES` value of ``symbol`` as floats (units as documented)."""
    el = Element(symbol)
    counts = _outer_counts(el)
    n_d = counts["d"]
    r_atomic = el.atomic_radius
    if r_atomic is None:
        raise InputError("element", f"pymatgen has no atomic radius for {symbol}")
    values = {
        "Z": el.Z,
        "mass": float(el.atomic_mass),
        "chi": el.X,
        "ie1": el.ionization_energies[0],
        "ie2": el.ionization_energies[1],
        "ie3": el.ionization_energies[2],
        "ea": el.electron_affinity,
        "r_atomic": float(r_atomic),
        "r_cov": float(covalent_radii[el.Z]),
        "r_vdw": float(el.van_der_waals_radius),
        "r_ion": float(el.average_ionic_radius),
        "group": el.group,
        "period": el.row,
        "mendeleev": el.mendeleev_no,
        "n_d": n_d,
        "n_s": counts["s"],
        "n_p": counts["p"],
        "n_valence": counts["s"] + counts["p"] + n_d,
        "n_unpaired_d": n_d if n_d <= 5 else 10 - n_d,
        "t_melt": float(el.melting_point),
        "t_boil": float(el.boiling_point),
        "v_molar": float(el.molar_volume),
        "kappa": float(el.thermal_conductivity),
    }
    return {key: float(values[key]) for key in PROPERTY_KEYS}
