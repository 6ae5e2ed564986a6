"""The fast paths of the MD boxes (issue 16) give pymatgen's numbers bit for bit: stacked
per-row products for fractional and Cartesian coordinates, charges read per site, element
symbols. No timing is asserted."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from lisflow.structures import md_boxes, md_memo
from lisflow.structures.md_charges import element_symbols, neutralise, site_charges


def _lattices(rng):
    yield Lattice.orthorhombic(98.4, 76.69, 100.0)
    yield Lattice.hexagonal(2.46, 25.0)
    for _ in range(4):
        yield Lattice(rng.normal(size=(3, 3)) * 3 + np.eye(3) * 12)


def test_rowwise_dot_has_the_bits_of_each_rows_own_dot():
    rng = np.random.default_rng(7)
    for lattice in _lattices(rng):
        rows = rng.uniform(-20.0, 120.0, (3000, 3))
        for matrix in (lattice.inv_matrix, lattice.matrix):
            slow = np.array([np.dot(row, matrix) for row in rows])
            assert md_memo.rowwise_dot(rows, matrix).tobytes() == slow.tobytes()
    assert md_memo.rowwise_dot(np.zeros((0, 3)), np.eye(3)).shape == (0, 3)
    strided = rng.uniform(-20.0, 120.0, (500, 6))[:, ::2]  # non-contiguous rows
    slow = np.array([np.dot(np.array(row), lattice.matrix) for row in strided])
    assert md_memo.rowwise_dot(strided, lattice.matrix).tobytes() == slow.tobytes()


def test_structure_from_cartesian_triclinic_equals_pymatgen_bit_for_bit():
    rng = np.random.default_rng(11)
    for lattice in _lattices(rng):
        cart = rng.uniform(-5.0, 40.0, (500, 3))
        symbols = list(rng.choice(["C", "N", "Mo", "Ti"], 500))
        props = {"label": [f"l{i % 4}" for i in range(500)], "charge": list(rng.normal(size=500))}
        ours = md_memo.structure_from_cartesian(lattice, symbols, cart, props)
        theirs = Structure(lattice, symbols, cart, coords_are_cartesian=True,
                           site_properties=props)  # fmt: skip
        assert ours.frac_coords.tobytes() == theirs.frac_coords.tobytes()
        assert ours.cart_coords.tobytes() == theirs.cart_coords.tobytes()
        assert ours.as_dict() == theirs.as_dict()
        ours[0].frac_coords = [0.5, 0.5, 0.5]  # each site owns its coordinates
        ours[2].properties["charge"] = 7.0  # and its property dict
        assert ours[1].frac_coords.tobytes() == theirs[1].frac_coords.tobytes()
        assert ours[3].properties == theirs[3].properties
    bare = md_memo.structure_from_cartesian(lattice, ["C", "N"], [[0, 0, 1], [1, 2, 3]], {})
    assert bare.as_dict() == Structure(lattice, ["C", "N"], [[0, 0, 1], [1, 2, 3]],
                                       coords_are_cartesian=True).as_dict()  # fmt: skip
    with pytest.raises(IndexError):
        md_memo.structure_from_cartesian(lattice, ["C", "N"], np.zeros((2, 3)), {"label": ["a"]})


def test_cart_coords_equals_pymatgens_cached_or_not_and_caches_nothing():
    rng = np.random.default_rng(5)
    lattice = Lattice(rng.normal(size=(3, 3)) + np.eye(3) * 9)
    s = Structure(lattice, ["C"] * 300, rng.uniform(-0.2, 1.2, (300, 3)))
    s[3].coords = [1.0, 2.0, 3.0]  # a site whose Cartesian coordinates were set, not derived
    fresh = md_memo.copy_structure(s)
    ours = md_memo.cart_coords(s)
    assert all(site._coords is None for i, site in enumerate(s) if i != 3)
    assert ours.tobytes() == s.cart_coords.tobytes()  # (pymatgen caches them now)
    assert md_memo.cart_coords(s).tobytes() == ours.tobytes()  # the cached ones: same bits
    assert md_memo.cart_coords(fresh).tobytes() == fresh.cart_coords.tobytes()
    assert fresh.frac_coords.tobytes() == s.frac_coords.tobytes()
    fresh[0].frac_coords[:] = 0.5  # in place: the copy's rows are its own, one per site
    assert s[0].frac_coords.tolist() != [0.5] * 3 and fresh[1].frac_coords.tolist() != [0.5] * 3
    assert md_memo.cart_coords(Structure(lattice, [], [])).shape == (0, 3)
    mixed = md_memo.copy_structure(s)
    mixed[5]._lattice = Lattice(lattice.matrix.copy())  # an equal Lattice, another object
    assert md_memo.cart_coords(mixed).tobytes() == mixed.cart_coords.tobytes()


def test_site_charges_equal_site_properties_and_keep_their_errors():
    s = Structure(Lattice.cubic(5.0), ["C", "N", "C"], [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0]],
                  site_properties={"charge": [0.1, -0.2, 0.3], "label": ["a", "b", "c"]})  # fmt: skip
    assert site_charges(s) == s.site_properties["charge"] == [0.1, -0.2, 0.3]
    del s[1].properties["charge"]
    assert site_charges(s) == s.site_properties["charge"] == [0.1, None, 0.3]
    for site in s:
        site.properties.pop("charge", None)
    with pytest.raises(KeyError):
        s.site_properties["charge"]
    with pytest.raises(KeyError):
        site_charges(s)


def test_electrode_box_is_neutral_and_matches_the_slow_formulas():
    spec = {"kind": "interface", "electrode": "ti0001", "n_li2s6": 2, "n_litfsi": 2,
            "n_dol": 4, "n_dme": 4, "box": [12.0, 10.0, 60.0], "charges": None}  # fmt: skip
    system = md_boxes.build_system(spec)
    e = system.electrode
    assert element_symbols(e) == [site.specie.symbol for site in e]
    assert site_charges(e) == e.site_properties["charge"]
    assert system.total_charge == pytest.approx(0.0, abs=1e-9)
    z0 = float(e.cart_coords[:, 2].max()) + md_boxes.GAP  # the slow (pymatgen) top
    assert system.regions[0].lo[2] == z0 + md_boxes.MARGIN
    again = md_memo.copy_system(system)
    before = site_charges(again.electrode)
    shift = neutralise(again)  # already neutral: the shift spreads the rounding residual
    assert abs(shift) < 1e-12 and len(before) == len(again.electrode)


def test_general_find_mic_equals_ases_bit_for_bit():
    from ase.geometry.geometry import general_find_mic as ase_general_find_mic

    from lisflow.io.vasp_neb import general_find_mic

    rng = np.random.default_rng(13)
    cells = [np.diag([12.3, 12.3, 20.0]),  # a slab with vacuum (the DASC NEB cells)
             np.array([[7.38, 0.0, 0.0], [-3.69, 6.39, 0.0], [0.0, 0.0, 25.0]]),  # hexagonal
             *(rng.normal(size=(3, 3)) * 2 + np.eye(3) * 8 for _ in range(3))]  # fmt: skip
    for cell in cells:
        for pbc in (np.array([True, True, True]), np.array([True, True, False])):
            v = rng.uniform(-30.0, 30.0, (4000, 3))
            ours, theirs = general_find_mic(v, cell, pbc=pbc), ase_general_find_mic(v, cell, pbc=pbc)
            assert ours[0].tobytes() == theirs[0].tobytes()
            assert ours[1].tobytes() == theirs[1].tobytes()


def test_electrode_xyz_is_the_plain_text_and_formatted_once_per_geometry():
    from lisflow.io.lammps_packmol import electrode_xyz

    e = md_boxes.ti_electrode(3, 2)[0]
    slow = f"{len(e)}\nelectrode\n" + "".join(
        f"{site.specie} {x:.6f} {y:.6f} {z:.6f}\n" for site, (x, y, z) in zip(e, e.cart_coords, strict=True)
    )
    recharged = md_memo.copy_structure(e)
    recharged.add_site_property("charge", [0.5] * len(e))
    moved = md_memo.copy_structure(e)
    moved.translate_sites([0], [0.0, 0.0, 0.25])
    assert electrode_xyz(e) == slow
    with md_memo.cached_builds():
        assert electrode_xyz(e) == slow
        assert electrode_xyz(recharged) == slow and len(md_memo._CACHE) == 1  # one geometry
        assert electrode_xyz(moved) != slow and len(md_memo._CACHE) == 2
        assert electrode_xyz(moved).splitlines()[2] != slow.splitlines()[2]  # (site 0)


def test_type_table_add_numbers_as_the_two_scan_version():
    from lisflow.io.lammps_data import _add

    def slow(table, coeff):
        if coeff not in table:
            table.append(coeff)
        return table.index(coeff) + 1

    coeffs = [("harmonic", 1.0), ("harmonic", 2.0), ("harmonic", 1.0), ("opls", 0.5),
              ("harmonic", 2.0), ("opls", 0.5), ("cosine", float("nan"))]  # fmt: skip
    ours: list = []
    theirs: list = []
    assert [_add(ours, c) for c in coeffs] == [slow(theirs, c) for c in coeffs] == [1, 2, 1, 3, 2, 3, 4]
    assert ours == theirs and len(ours) == 4
