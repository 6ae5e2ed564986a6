"""Force-field files, topology, Lorentz–Berthelot mixing and electrode charges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lisflow.errors import InputError
from lisflow.forcefield import (
    electrode_charges,
    load_forcefield,
    lorentz_berthelot,
    pair_coeff_lines,
)
from lisflow.forcefield.params import FORCEFIELD_DIR
from lisflow.forcefield.topology import angles_from_bonds, dihedrals_from_bonds
from lisflow.structures.molecules import molecule

SPECIES = ("DOL", "DME", "TFSI", "Li", "Li2S6")


@pytest.fixture(scope="module")
def ff():
    return load_forcefield(["DOL", "DME", "LiTFSI", "Li2S6"])


def test_every_species_file_names_its_sources():
    for path in FORCEFIELD_DIR.glob("*.yaml"):
        text = path.read_text()
        assert "SOURCE" in text or "source" in text, path.name


@pytest.mark.parametrize("name", SPECIES)
def test_atoms_match_xyz_order_and_charge(ff, name):
    sp, mol = ff.species[name], molecule(name)
    assert sp.n_atoms == len(mol)
    for type_name, site in zip(sp.atom_types, mol, strict=True):
        assert ff.types[type_name].element == site.specie.symbol
    assert sum(sp.charges) == pytest.approx(mol.charge, abs=1e-9)
    assert sum(sp.charges) == pytest.approx(sp.charge, abs=1e-9)


@pytest.mark.parametrize("name", SPECIES)
def test_bonds_are_the_covalent_contacts_of_the_geometry(ff, name):
    """Listed bonds = atom pairs closer than 1.2 x the sum of covalent radii (Li excluded)."""
    mol = molecule(name)
    geometric = set()
    for i in range(len(mol)):
        for j in range(i + 1, len(mol)):
            a, b = mol[i].specie, mol[j].specie
            if "Li" in (a.symbol, b.symbol):
                continue
            limit = 1.2 * _covalent(a.symbol, b.symbol)
            if mol.get_distance(i, j) < limit:
                geometric.add((i, j))
    listed = {tuple(sorted(b)) for b in ff.species[name].bonds}
    assert listed == geometric


_COVALENT = {"H": 0.31, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57, "S": 1.05}  # Cordero 2008


def _covalent(a: str, b: str) -> float:
    return _COVALENT[a] + _COVALENT[b]


@pytest.mark.parametrize("name", SPECIES)
def test_every_bonded_term_has_parameters(ff, name):
    sp = ff.species[name]
    for kind, items in (("bond", sp.bonds), ("angle", sp.angles), ("dihedral", sp.dihedrals)):
        for atoms in items:
            coeff = ff.coeff(name, kind, atoms)
            assert all(math.isfinite(v) for v in coeff.values) and coeff.source


def test_topology_counts_of_dme_chain():
    bonds = [(0, 1), (1, 2), (2, 3)]
    assert angles_from_bonds(bonds) == [(0, 1, 2), (1, 2, 3)]
    assert dihedrals_from_bonds(bonds) == [(0, 1, 2, 3)]
    ring = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]  # five-membered ring (DOL)
    assert len(angles_from_bonds(ring)) == 5 and len(dihedrals_from_bonds(ring)) == 5


def test_known_published_values(ff):
    assert ff.types["TFSI_S"].sigma == 3.55 and ff.types["TFSI_S"].epsilon == pytest.approx(
        1.046 / 4.184
    )
    assert ff.types["DOL_OS"].epsilon == 0.140 and ff.types["DME_HC"].sigma == 2.50
    assert ff.types["E_C"].epsilon == pytest.approx(28.0 * 0.0019872, rel=1e-3)  # 28 K (Steele)


def test_lorentz_berthelot_against_formula(ff):
    rng = np.random.default_rng(7)
    for _ in range(20):
        s1, s2, e1, e2 = rng.uniform(1.5, 4.0, 2).tolist() + rng.uniform(0.01, 0.5, 2).tolist()
        sigma, eps = lorentz_berthelot(s1, e1, s2, e2)
        assert sigma == pytest.approx((s1 + s2) / 2) and eps == pytest.approx(math.sqrt(e1 * e2))
    types = list(ff.types.values())
    lines = pair_coeff_lines(types)
    assert len(lines) == len(types) * (len(types) + 1) // 2
    for line in lines:
        i, j, eps, sigma = line.split()[1:5]
        ti, tj = types[int(i) - 1], types[int(j) - 1]
        assert float(sigma) == pytest.approx((ti.sigma + tj.sigma) / 2, abs=1e-6)
        assert float(eps) == pytest.approx(math.sqrt(ti.epsilon * tj.epsilon), abs=1e-6)


def test_electrode_charges_sources(tmp_path):
    assert electrode_charges(3) == [0.0, 0.0, 0.0]
    assert electrode_charges(3, {1: 7.37}) == [0.0, 7.37, 0.0]
    assert electrode_charges(3, lambda: {0: -1.5}) == [-1.5, 0.0, 0.0]
    csv = tmp_path / "bader.csv"
    csv.write_text("site_index,charge\n0,0.25\n2,-0.25\n")
    assert electrode_charges(3, csv) == [0.25, 0.0, -0.25]
    with pytest.raises(InputError, match="charges.site_index"):
        electrode_charges(2, {5: 1.0})
    bad = tmp_path / "bad.csv"
    bad.write_text("index,q\n0,1\n")
    with pytest.raises(InputError, match="site_index,charge"):
        electrode_charges(2, bad)
