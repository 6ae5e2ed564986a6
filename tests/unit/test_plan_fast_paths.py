"""Issue 16 item 3 (planning): each planning fast path builds what the pymatgen path it
replaces builds, field for field (``as_dict()``, coordinate bytes, labels, properties)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Molecule, PeriodicSite, Species, Structure

from lisflow.structures import adsorption
from lisflow.structures.md_memo import cached_builds, structure_from_cartesian
from lisflow.structures.site_fields import (
    SpeciesReader,
    copied,
    structure_from_sites,
)
from lisflow.structures.sorted_sites import sorted_by_electronegativity
from lisflow.structures.support import dasc_graphene


def _mixed() -> Structure:
    """Sites with and without labels and property keys, an oxidation-state species, a
    disordered site, a charge and structure properties."""
    rng = np.random.default_rng(3)
    species = ["S", "Li", "C", "N", "Fe", {"Co": 0.5, "Ni": 0.5}, "C", Species("O", -2), "H"]
    s = Structure(
        Lattice.from_parameters(7.1, 7.3, 18.0, 90, 90, 117),
        species,
        rng.random((len(species), 3)) * [1, 1, 0.5] - [0.0, 0.0, 0.1],
        charge=-1,
        labels=["S1", None, None, "N7", None, None, "C9", None, None],
        properties={"name": "mixed", "min_vacuum": 12.0},
    )
    s.add_site_property("label", ["adsorbate", "adsorbate"] + ["slab"] * 7)
    s[3].properties["magmom"] = 2.0  # only one site has this key
    return s


def _same(ours: Structure, theirs: Structure) -> None:
    assert type(ours) is type(theirs)
    assert ours.as_dict() == theirs.as_dict()
    assert ours.frac_coords.tobytes() == theirs.frac_coords.tobytes()
    assert ours.cart_coords.tobytes() == theirs.cart_coords.tobytes()
    assert [s._label for s in ours] == [s._label for s in theirs]
    assert [s.properties for s in ours] == [s.properties for s in theirs]
    assert [list(s.properties) for s in ours] == [list(s.properties) for s in theirs]  # key order
    assert ours._charge == theirs._charge
    assert all(s.lattice is ours.lattice for s in ours)


def test_copied_equals_structure_copy():
    slab = _mixed()
    ours, theirs = copied(slab), slab.copy()
    _same(ours, theirs)
    assert ours.properties is slab.properties  # pymatgen's copy shares this dict too
    assert all(a._species is b._species for a, b in zip(ours, slab, strict=True))
    assert all(a._frac_coords is not b._frac_coords for a, b in zip(ours, slab, strict=True))
    ours[0].properties["label"] = "changed"  # own property dicts
    assert slab[0].properties["label"] == "adsorbate"
    bare = Structure(Lattice.cubic(5.0), ["Li", "S"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    _same(copied(bare), bare.copy())  # no site properties, no structure properties


def test_structure_from_sites_equals_pymatgens():
    slab = _mixed()
    order = [8, 2, 5, 0, 7, 3, 1, 6, 4]
    sites = [slab[i] for i in order]
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = structure_from_sites(Structure, sites, charge=slab._charge, properties={"x": 1})
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = Structure.from_sites(sites, charge=slab._charge, properties={"x": 1})
    _same(ours, theirs)
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
    assert len(ours_w) == 1  # magmom: missing on 8 sites
    with pytest.raises(ValueError, match="at least 1 site"):
        structure_from_sites(Structure, [])
    other = PeriodicSite("Li", [0, 0, 0], Lattice.cubic(3.0))
    with pytest.raises(ValueError, match="same lattice"):
        structure_from_sites(Structure, [slab[0], other])


def test_species_reader_equals_site_properties():
    slab = _mixed()
    negative = PeriodicSite(Composition({"Fe": -1}, allow_negative=True), [0, 0, 0], slab.lattice)  # ordered, -1
    reader = SpeciesReader()
    for site in [*slab, *slab, negative]:  # second pass: the memo
        assert reader.species_string(site) == site.species_string
        assert reader.label(site) == site.label
        x_ours, x_theirs = reader.electroneg(site), site.species.average_electroneg
        assert np.array([x_ours]).tobytes() == np.array([x_theirs]).tobytes()
        if site.is_ordered:
            assert reader.specie(site) == site.specie
        else:
            with pytest.raises(AttributeError):
                reader.specie(site)


def test_sorted_by_electronegativity_with_disorder_and_labels():
    slab = _mixed()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(sorted_by_electronegativity(slab), slab.get_sorted_structure())


@pytest.fixture(scope="module")
def dasc() -> Structure:
    return dasc_graphene(["Fe", "Co"], supercell=4)


def test_labels_equal_site_properties(dasc):
    assert adsorption._labels(dasc) == list(dasc.site_properties["label"])
    bare = Structure(Lattice.cubic(5.0), ["Li", "S"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert adsorption._labels(bare) == ["support", "support"]
    partial = bare.copy()
    partial[1].properties["label"] = "metal"
    assert adsorption._labels(partial) == list(partial.site_properties["label"]) == [None, "metal"]


def test_adsorption_configurations_equal_copy_and_append(dasc):
    """Each configuration is ``slab.copy()`` plus the adsorbate appended the pymatgen way."""
    li2s2 = Molecule(["Li", "S", "S", "Li"], [[0, 0, 0], [1.5, 1.2, 0], [2.1, -0.8, 0.3],
                                               [3.6, 0.4, 0.2]])  # fmt: skip
    configs = adsorption.adsorption_configurations(dasc, li2s2, 2, li_towards_n=True)
    for config in configs:
        expected = dasc.copy()
        for site in config[len(dasc) :]:
            expected.append(site.species_string, site.coords, coords_are_cartesian=True,
                            properties={"label": "adsorbate"})  # fmt: skip
        expected.properties = config.properties
        _same(config, expected)
        assert config.properties["slab"] == "FeCo-N6/G" == dasc.properties["name"]
    unnamed = dasc.copy(properties={})
    unnamed.properties = {k: v for k, v in dasc.properties.items() if k != "name"}
    (config,) = adsorption.adsorption_configurations(unnamed, Molecule(["S"], [[0, 0, 0]]))
    assert config.properties["slab"] == dasc.composition.reduced_formula == "FeCo(C11N3)2"
    assert config.properties["name"] == "S@FeCo(C11N3)2#0"


def _with_vacuum_pymatgen(structures: list[Structure], min_vacuum: float) -> list[Structure]:
    """with_vacuum as it was: every gap and thickness read from the structure each time,
    ``s.species`` and ``Structure(..., coords_are_cartesian=True)``."""
    thick = adsorption._thickness
    c_old = adsorption._height(structures[0])
    c_new = max(c_old, max(thick(s) for s in structures) + min_vacuum)
    bottoms = [adsorption.vacuum_gap(s)[2] * c_old for s in structures]
    shift = 0.0
    if max(b + thick(s) for s, b in zip(structures, bottoms, strict=True)) > c_new - 1e-6:
        shift = min_vacuum / 2 - min(bottoms)
    out = []
    for s, bottom in zip(structures, bottoms, strict=True):
        rel = (s.frac_coords[:, 2] - bottom / c_old) % 1.0 * c_old
        cart = s.cart_coords.copy()
        cart[:, 2] = rel + bottom + shift
        matrix = s.lattice.matrix.copy()
        matrix[2] = [0.0, 0.0, c_new]
        out.append(Structure(Lattice(matrix), s.species, cart, coords_are_cartesian=True,
                             site_properties=s.site_properties))  # fmt: skip
    return out


@pytest.mark.parametrize("top", [14.5, 9.0])  # adsorbate across the cell top / inside
def test_with_vacuum_equals_the_pymatgen_construction(dasc, top):
    adslab = dasc.copy()
    adslab.append("S", [1.0, 1.0, top], coords_are_cartesian=True,
                  properties={"label": "adsorbate"})  # fmt: skip
    fitted = adsorption.with_vacuum([dasc, adslab], 15.0)
    expected = _with_vacuum_pymatgen([dasc, adslab], 15.0)
    for ours, theirs in zip(fitted, expected, strict=True):
        assert ours.lattice.matrix.tobytes() == theirs.lattice.matrix.tobytes()
        assert ours.frac_coords.tobytes() == theirs.frac_coords.tobytes()
        assert [s.species for s in ours] == [s.species for s in theirs]
        assert ours.site_properties == theirs.site_properties
        assert ours.properties["min_vacuum"] == 15.0


def _li2s2() -> Molecule:
    return Molecule(["Li", "S", "S", "Li"], [[0, 0, 0], [1.5, 1.2, 0], [2.1, -0.8, 0.3],
                                             [3.6, 0.4, 0.2]])  # fmt: skip


@pytest.mark.parametrize(
    ("li_towards_n", "counts"),
    [(True, (2, 1)), (True, (1, 2)), (False, (3, 2)), (False, (3, 1)), (False, (2, 2))],
)
def test_configurations_memo_equals_a_fresh_placement(dasc, li_towards_n, counts):
    """Inside a dry-run scope a placement is reused for a smaller count only when the first
    orientations are the same; every answer equals a placement made from scratch."""
    fresh = {
        n: adsorption.adsorption_configurations(dasc, _li2s2(), n, li_towards_n=li_towards_n)
        for n in counts
    }
    with cached_builds():
        for n in counts:
            got = adsorption.adsorption_configurations(
                dasc.copy(), _li2s2(), n, li_towards_n=li_towards_n
            )
            assert len(got) == n
            for ours, theirs in zip(got, fresh[n], strict=True):
                _same(ours, theirs)
                assert ours.properties == theirs.properties
            got[0].properties["charge"] = 5  # callers' edits stay theirs
            got[0][0].properties["label"] = "x"
        again = adsorption.adsorption_configurations(dasc, _li2s2(), n, li_towards_n=li_towards_n)
        _same(again[0], fresh[n][0])
        assert "charge" not in again[0].properties


def test_direct_sites_have_pymatgens_fields():
    """site_fields sets a PeriodicSite's attributes itself: the same attribute names and
    values as PeriodicSite(..., skip_checks=True) and as the checked constructor."""
    slab = _mixed()
    for ours, site in zip(copied(slab), slab, strict=True):
        made = PeriodicSite(site.species, site.frac_coords, site.lattice,
                            properties=dict(ours.properties), label=site.label)  # fmt: skip
        assert vars(ours).keys() == vars(made).keys()
        assert ours._coords is None  # Cartesian coordinates computed on first use, as pymatgen
        assert ours == made and ours.as_dict() == made.as_dict()
        assert ours.coords.tobytes() == made.coords.tobytes()


def test_from_cartesian_equals_pymatgens_constructor(dasc):
    lattice = Lattice(dasc.lattice.matrix * [1.0, 1.0, 1.3])
    cart = dasc.cart_coords + [0.1, -0.2, 0.7]
    props = dasc.site_properties
    ours = structure_from_cartesian(lattice, dasc.species, cart, props)  # (with_vacuum's path)
    theirs = Structure(lattice, dasc.species, cart, coords_are_cartesian=True,
                       site_properties=props)  # fmt: skip
    _same(ours, theirs)
    assert ours.properties == {} and ours._charge is None


def test_row_minima_equal_per_spin_minima(dasc):
    """_li_towards_n takes each spin's minimum distance from one ``min(axis=1)``: the same
    floats as the former ``float(row.min())`` per spin (distances to a real slab)."""
    rng = np.random.default_rng(11)
    frac = rng.random((36 * 4, 3)) * [1, 1, 0.3] + [0, 0, 0.35]
    to_slab = dasc.lattice.get_all_distances(frac, dasc.frac_coords).reshape(36, -1)
    to_a = dasc.lattice.get_all_distances(frac[::4], dasc.frac_coords[:1])
    to_b = dasc.lattice.get_all_distances(frac[::4], dasc.frac_coords[5:9])
    rows = to_slab.min(axis=1).tolist()
    margins = (to_b.min(axis=1) - to_a.min(axis=1)).tolist()
    assert np.array(rows).tobytes() == np.array([float(r.min()) for r in to_slab]).tobytes()
    per_spin = [float(to_b[j].min() - to_a[j].min()) for j in range(36)]
    assert np.array(margins).tobytes() == np.array(per_spin).tobytes()
