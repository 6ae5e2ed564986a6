"""Gas-phase starting geometries (lisflow.structures.molecules)."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
from pymatgen.symmetry.analyzer import PointGroupAnalyzer

from lisflow.errors import InputError
from lisflow.structures import MOLECULES, POLYSULFIDES, molecule
from lisflow.structures.molecules import MOLECULE_DIR

FORMULAS = {
    "Li2S": {"Li": 2, "S": 1},
    "Li2S2": {"Li": 2, "S": 2},
    "Li2S4": {"Li": 2, "S": 4},
    "Li2S6": {"Li": 2, "S": 6},
    "Li2S8": {"Li": 2, "S": 8},
    "S8": {"S": 8},
    "DOL": {"C": 3, "H": 6, "O": 2},
    "DME": {"C": 4, "H": 10, "O": 2},
    "TFSI": {"C": 2, "F": 6, "N": 1, "O": 4, "S": 2},
    "Li": {"Li": 1},
}
CHARGES = {"TFSI": -1, "Li": 1}


def _bonds(mol, a: str, b: str, cutoff: float) -> list[float]:
    out = []
    for i, j in itertools.combinations(range(len(mol)), 2):
        if {mol[i].specie.symbol, mol[j].specie.symbol} == {a, b} or (
            a == b == mol[i].specie.symbol == mol[j].specie.symbol
        ):
            d = mol.get_distance(i, j)
            if d < cutoff:
                out.append(d)
    return out


def test_catalogue_names() -> None:
    assert POLYSULFIDES == ("Li2S", "Li2S2", "Li2S4", "Li2S6", "Li2S8", "S8")
    assert set(MOLECULES) == set(FORMULAS)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_composition_charge_spin_labels(name: str) -> None:
    mol = molecule(name)
    counts = {el.symbol: int(n) for el, n in mol.composition.items()}
    assert counts == FORMULAS[name]
    assert mol.charge == CHARGES.get(name, 0)
    assert mol.spin_multiplicity == 1  # all closed shell (even electron count)
    assert set(mol.site_properties["label"]) == {"adsorbate"}
    assert mol.properties["name"] == name
    assert mol.properties["source"]
    # the comment line of the committed xyz records how the geometry was made
    assert "source=" in (MOLECULE_DIR / f"{name}.xyz").read_text().splitlines()[1]


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_no_overlapping_atoms(name: str) -> None:
    mol = molecule(name)
    if len(mol) > 1:
        d = mol.distance_matrix[np.triu_indices(len(mol), 1)]
        assert d.min() >= 1.0  # shortest real bond here is C-H 1.09 Å


@pytest.mark.parametrize("name", ["Li2S2", "Li2S4", "Li2S6", "Li2S8", "S8"])
def test_sulfur_bond_lengths(name: str) -> None:
    mol = molecule(name)
    ss = _bonds(mol, "S", "S", 2.5)
    n_s = FORMULAS[name]["S"]
    assert len(ss) == (n_s if name == "S8" else n_s - 1)  # ring vs open chain
    assert all(2.04 <= d <= 2.11 for d in ss)


@pytest.mark.parametrize("name", ["Li2S2", "Li2S4", "Li2S6", "Li2S8"])
def test_both_li_bridge_the_terminal_sulfurs(name: str) -> None:
    mol = molecule(name)
    s_idx = [i for i, s in enumerate(mol) if s.specie.symbol == "S"]
    n_ss = {i: sum(1 for j in s_idx if j != i and mol.get_distance(i, j) < 2.5) for i in s_idx}
    terminal = [i for i in s_idx if n_ss[i] == 1]
    assert len(terminal) == 2
    for li in (i for i, s in enumerate(mol) if s.specie.symbol == "Li"):
        assert all(2.30 <= mol.get_distance(li, t) <= 2.40 for t in terminal)
        inner = [mol.get_distance(li, j) for j in s_idx if j not in terminal]
        assert not inner or min(inner) > 2.8


def test_li2s_is_bent() -> None:
    mol = molecule("Li2S")
    li_s = _bonds(mol, "Li", "S", 2.5)
    assert len(li_s) == 2 and all(abs(d - 2.10) < 0.01 for d in li_s)
    assert 3.0 < mol.get_distance(1, 2) < 4.2  # Li-S-Li 110°, not linear (4.2 Å)


def test_s8_crown_is_d4d() -> None:
    mol = molecule("S8")
    assert PointGroupAnalyzer(mol, tolerance=0.05).sch_symbol == "D4d"
    angles = [mol.get_angle((i - 1) % 8, i, (i + 1) % 8) for i in range(8)]
    assert np.allclose(angles, 108.0, atol=0.1)


def test_electrolyte_bond_lengths() -> None:
    tfsi = molecule("TFSI")
    assert len(_bonds(tfsi, "S", "N", 1.8)) == 2
    assert all(1.50 < d < 1.65 for d in _bonds(tfsi, "S", "N", 1.8))
    assert len(_bonds(tfsi, "S", "O", 1.6)) == 4
    assert all(1.40 < d < 1.50 for d in _bonds(tfsi, "S", "O", 1.6))
    assert len(_bonds(tfsi, "C", "F", 1.5)) == 6
    for name, n_co in (("DOL", 4), ("DME", 4)):
        co = _bonds(molecule(name), "C", "O", 1.6)
        assert len(co) == n_co and all(1.39 < d < 1.46 for d in co)
    assert len(_bonds(molecule("DME"), "C", "H", 1.2)) == 10


def test_returns_independent_copies() -> None:
    first = molecule("Li2S6")
    first.translate_sites(list(range(len(first))), [5.0, 0.0, 0.0])
    assert np.allclose(molecule("Li2S6").cart_coords, molecule("Li2S6").cart_coords)
    assert not np.allclose(first.cart_coords, molecule("Li2S6").cart_coords)
    assert molecule("TFSI").charge == -1  # pymatgen's Molecule.copy() would drop it


def test_unknown_molecule_names_field_and_allowed() -> None:
    with pytest.raises(InputError) as err:
        molecule("Li2S3")
    assert err.value.field == "molecule"
    assert "Li2S6" in err.value.allowed and "TFSI" in err.value.allowed


def _chain_geometry(lines: list[str]) -> tuple[list[str], np.ndarray]:
    symbols = [line.split()[0] for line in lines[2:]]
    xyz = np.array([[float(v) for v in line.split()[1:4]] for line in lines[2:]])
    return symbols, xyz


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    return float(np.degrees(np.arccos(u.dot(v) / np.linalg.norm(u) / np.linalg.norm(v))))


def test_polysulfide_files_match_the_generator_geometry(tmp_path) -> None:
    """Committed xyz files and a fresh run of generate_molecules.py agree on what matters.

    The chains' torsions come from a scipy minimisation whose end point may move with the scipy
    version, so the comparison is by internal coordinates (bond lengths, angles, the terminal
    S...S target, Li bridging distances), not by Cartesian coordinates.
    """
    spec = importlib.util.spec_from_file_location("gen", MOLECULE_DIR / "generate_molecules.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.build_polysulfides(tmp_path)
    for name in (*POLYSULFIDES, "Li"):
        new, old = (
            p.read_text().splitlines()
            for p in (tmp_path / f"{name}.xyz", MOLECULE_DIR / f"{name}.xyz")
        )
        assert new[:2] == old[:2]
        for lines in (new, old):
            symbols, xyz = _chain_geometry(lines)
            assert symbols == _chain_geometry(new)[0]
            if not (name.startswith("Li2S") and symbols.count("S") >= 4):
                continue
            s, li = xyz[2:], xyz[:2]
            bonds = np.linalg.norm(np.diff(s, axis=0), axis=1)
            assert np.allclose(bonds, gen.CHAIN_BOND, atol=1e-4), name
            angles = [_angle(s[k - 1], s[k], s[k + 1]) for k in range(1, len(s) - 1)]
            assert np.allclose(angles, gen.CHAIN_ANGLE, atol=1e-2), name
            assert abs(np.linalg.norm(s[0] - s[-1]) - gen.TERMINAL_SS) < 0.05, name
            for lithium in li:
                for terminal in (s[0], s[-1]):
                    assert abs(np.linalg.norm(lithium - terminal) - gen.LI_S_BRIDGE) < 0.05, name
            n = len(s)
            for i in range(n):
                for j in range(i + 3, n):
                    if (i, j) != (0, n - 1):
                        assert np.linalg.norm(s[i] - s[j]) > 3.0, (name, i, j)
