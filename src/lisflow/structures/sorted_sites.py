"""``Structure.get_sorted_structure()`` (sites by electronegativity, VASP's one POSCAR block per
element) without pymatgen's per-comparison cost.

pymatgen sorts the sites with ``Site.__lt__``, which recomputes both sites' average
electronegativity (a Composition walk) on every comparison: ~10^4 comparisons for a 200-site
slab. Here each site's (electronegativity, species string) is read once (once per species,
:class:`~lisflow.structures.site_fields.SpeciesReader`) and compared by the same rule, so
``sorted`` makes the same comparisons with the same outcomes (NaN electronegativities
included) and returns the same order; the sorted structure is assembled as ``from_sites``
assembles it, without re-validating each site (:mod:`lisflow.structures.site_fields`).
"""

from __future__ import annotations

from typing import TypeVar

from pymatgen.core import Structure

from lisflow.structures.site_fields import SpeciesReader, structure_from_sites

_S = TypeVar("_S", bound=Structure)


class _SiteKey:
    """The two values ``Site.__lt__`` compares, read once per site."""

    __slots__ = ("electroneg", "species")

    def __init__(self, electroneg: float, species: str) -> None:
        self.electroneg = electroneg
        self.species = species

    def __lt__(self, other: _SiteKey) -> bool:  # = pymatgen.core.sites.Site.__lt__
        if self.electroneg < other.electroneg:
            return True
        if self.electroneg > other.electroneg:
            return False
        return self.species < other.species


def sorted_by_electronegativity(structure: _S) -> _S:
    """The structure's sites in pymatgen's default sort order (equal to
    ``structure.get_sorted_structure()``: same sites, properties, charge and labels)."""
    reader = SpeciesReader()
    rows = [reader.fields(site._species) for site in structure]  # (string, electroneg, specie)
    keys = [_SiteKey(row[1], row[0]) for row in rows]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    sites = [structure[i] for i in order]
    return structure_from_sites(
        type(structure),
        sites,
        charge=structure._charge,  # as get_sorted_structure passes it (None: from oxidation states)
        properties=structure.properties,
        reader=reader,
    )
