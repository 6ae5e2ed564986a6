"""pymatgen's ``Structure.copy()``, ``Structure.from_sites`` and per-site species reads,
without re-validating every site (the planning phase of a dry-run makes ~10^4 of them).

pymatgen rebuilds each site from its Composition and coordinates (``PeriodicSite`` checks,
a Composition walk for the label) and reads ``site.species_string`` / ``site.specie`` by
walking the Composition again. Here each site is made with ``PeriodicSite(...,
skip_checks=True)`` from the very fields pymatgen would pass (the same Composition object,
a copy of the same fractional coordinates, the same property values and labels), and the
string / electronegativity / specie of an ordered Composition is read once per species.
The results equal pymatgen's field for field (tests/unit/test_plan_fast_paths.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, TypeVar

from pymatgen.core import Composition, Molecule, PeriodicSite, Structure
from pymatgen.core.periodic_table import DummySpecies, Element, Species

_S = TypeVar("_S", bound=Structure)
_Row = tuple[str, float, "Element | Species | DummySpecies | None"]


class SpeciesReader:
    """``site.species_string``, ``site.species.average_electroneg`` and ``site.specie`` of
    many sites, each computed once per Composition object and once per ordered species (one
    species, occupancy 1: then they depend on that species only)."""

    def __init__(self) -> None:
        # id(Composition) -> (that Composition, kept alive so that its id is not reused; row)
        self._by_id: dict[int, tuple[Composition, _Row]] = {}
        self._ordered: dict[Any, _Row] = {}

    def fields(self, comp: Composition) -> _Row:
        """(species string, average electronegativity, specie or None if disordered)."""
        hit = self._by_id.get(id(comp))
        if hit is not None:
            return hit[1]
        data = comp._data
        row: _Row | None = None
        if len(data) == 1 and comp._n_atoms == 1:  # = Site.is_ordered
            ((sp, amount),) = data.items()
            if amount == 1:  # (electronegativity X * 1 / 1: the species' X)
                row = self._ordered.get(sp)
                if row is None:
                    row = self._ordered[sp] = (str(sp), comp.average_electroneg, sp)
            else:  # (an amount of -1)
                row = (str(sp), comp.average_electroneg, sp)
        if row is None:  # disordered: = Site.species_string of a disordered site
            text = ", ".join(f"{sp}:{comp[sp]:.3}" for sp in sorted(comp))
            row = (text, comp.average_electroneg, None)
        self._by_id[id(comp)] = (comp, row)
        return row

    def species_string(self, site: PeriodicSite) -> str:
        return self.fields(site._species)[0]

    def electroneg(self, site: PeriodicSite) -> float:
        return self.fields(site._species)[1]

    def specie(self, site: PeriodicSite) -> Element | Species | DummySpecies:
        """``site.specie`` (AttributeError on a disordered site, as pymatgen)."""
        specie = self.fields(site._species)[2]
        if specie is None:
            raise AttributeError("specie property only works for ordered sites!")
        return specie

    def label(self, site: PeriodicSite) -> str:
        """``site.label``: its own label, else its species string."""
        label = site._label
        return label if label is not None else self.fields(site._species)[0]


def structure_from_sites(
    cls: type[_S],
    sites: Sequence[PeriodicSite],
    charge: float | None = None,
    properties: dict | None = None,
    reader: SpeciesReader | None = None,
) -> _S:
    """``cls.from_sites(sites, charge=charge, properties=properties)`` (no proximity check,
    no wrapping): the same lattice object, species objects, coordinates, property values
    (None where a site lacks a key, with pymatgen's warning) and labels."""
    if not sites:
        raise ValueError(f"You need at least 1 site to construct a {cls.__name__}")
    reader = reader or SpeciesReader()
    lattice = sites[0]._lattice
    prop_keys: list[str] = []
    columns: dict[str, list] = {}
    for idx, site in enumerate(sites):
        if site._lattice is not lattice and site._lattice != lattice:
            raise ValueError("Sites must belong to the same lattice")
        for key, val in site.properties.items():
            if key not in columns:
                prop_keys.append(key)
                columns[key] = [None] * len(sites)
            columns[key][idx] = val
    for key, column in columns.items():
        if any(v is None for v in column):
            warnings.warn(
                f"Not all sites have property {key}. Missing values are set to None.",
                stacklevel=2,
            )
    label = reader.label
    new = [
        _site(
            site._species,
            site._frac_coords.copy(),
            lattice,
            {key: columns[key][idx] for key in prop_keys},
            label(site),
        )
        for idx, site in enumerate(sites)
    ]
    return _assembled(cls, lattice, new, charge, properties)


def copied(structure: _S, reader: SpeciesReader | None = None) -> _S:
    """``structure.copy()``: new sites from the same species objects, copies of the
    fractional coordinates, every site property key on every site (None where missing, keys
    in pymatgen's order), labels materialised; ``properties`` is the same dict object and
    the charge the same, as in pymatgen."""
    reader = reader or SpeciesReader()
    sites = structure._sites
    keys: set[str] = set()  # built as Structure.site_properties builds it (same key order)
    for site in sites:
        keys.update(site.properties)
    lattice = structure._lattice
    label = reader.label
    new = [
        _site(
            site._species,
            site._frac_coords.copy(),
            lattice,
            {key: site.properties.get(key) for key in keys},
            label(site),
        )
        for site in sites
    ]
    return _assembled(type(structure), lattice, new, structure._charge, structure.properties)


_new = object.__new__


def _site(species: Composition, frac_coords, lattice, properties: dict, label) -> PeriodicSite:
    """``PeriodicSite(species, frac_coords, lattice, properties=properties, label=label,
    skip_checks=True)`` with the attributes set directly (the same six fields; a quarter of
    the cost); ``frac_coords`` a float64 array the site may own."""
    site = _new(PeriodicSite)
    site._lattice = lattice
    site._frac_coords = frac_coords
    site._species = species
    site._coords = None
    site.properties = properties
    site._label = label
    return site


def _assembled(cls: type[_S], lattice, sites: list[PeriodicSite], charge, properties) -> _S:
    out = cls(lattice, [], [], charge=charge, properties=properties)  # (keeps that dict)
    out._sites = sites if isinstance(out._sites, list) else tuple(sites)  # Structure: a list
    return out


def structure_key(structure: Structure | Molecule) -> tuple:
    """Everything a builder can read of a structure or molecule (type, lattice, species,
    coordinate bits, site labels and properties, properties, charge, spin): equal keys,
    equal inputs (a memo key; ``repr`` of it is deterministic)."""
    sites = tuple(
        (tuple(site._species._data.items()), site._label, repr(site.properties))
        for site in structure
    )
    if isinstance(structure, Structure):
        cell: tuple = (structure._lattice.matrix.tobytes(), structure._lattice.pbc)
        coords = structure.frac_coords.tobytes()
        charge: tuple = (structure._charge,)
    else:
        cell, coords = (), structure.cart_coords.tobytes()
        charge = (structure._charge, structure._spin_multiplicity)
    return (type(structure).__name__, cell, coords, sites, repr(structure.properties), charge)
