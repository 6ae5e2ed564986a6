"""Electrolyte force-field values equal the official files they cite.

``tests/data/forcefield_sources.txt`` holds the lines copied verbatim from GROMACS'
``oplsaa.ff`` (kJ/mol, nm, Ryckaert–Bellemans), Tinker's ``oplsaa08.prm`` (kcal/mol, OPLS
Fourier with torsionunit 0.5) and CL&P's ``il.ff`` (kJ/mol, Å, k/2 form). Each YAML value of
DOL, DME, TFSI, Li and the S of Li2S6 is recomputed from those lines here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lisflow.forcefield import load_forcefield

DATA = Path(__file__).parents[1] / "data" / "forcefield_sources.txt"
KJ = 4.184  # kJ per kcal (thermochemical)


def _sections() -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    current = ""
    for line in DATA.read_text().splitlines():
        if line.startswith("["):
            current = line[1 : line.index("]")]
            out[current] = []
        elif line.strip() and not line.startswith(("#", ";")):
            out[current].append(line.split(";")[0].split())
    return out


SRC = _sections()


def _key(classes) -> tuple[str, ...]:
    classes = tuple(classes)
    return min(classes, classes[::-1])


def _rb_to_fourier(c: list[float]) -> tuple[float, ...]:
    """GROMACS RB C0..C5 (kJ/mol) -> OPLS V1..V4 (kcal/mol); GROMACS manual, RB <-> Fourier."""
    v3 = -c[3] / 2
    v1 = -2 * c[1] - 1.5 * c[3]
    v4 = -c[4] / 4
    v2 = -c[2] - c[4]
    assert c[0] == pytest.approx(v2 + (v1 + v3) / 2, abs=2e-4)  # a true Fourier series
    return tuple(v / KJ for v in (v1, v2, v3, v4))


def _gromacs() -> dict:
    nb = {r[0]: r for r in SRC["gromacs ffnonbonded"]}
    bonds = {
        _key(r[:2]): (float(r[4]) / 2 / KJ / 100, float(r[3]) * 10)
        for r in SRC["gromacs bondtypes"]
    }
    angles = {_key(r[:3]): (float(r[5]) / 2 / KJ, float(r[4])) for r in SRC["gromacs angletypes"]}
    dihedrals = {
        _key(r[:4]): _rb_to_fourier([float(x) for x in r[5:11]])
        for r in SRC["gromacs dihedraltypes"]
    }
    return {"nb": nb, "bond": bonds, "angle": angles, "dihedral": dihedrals}


def _clandp() -> dict:
    rows = SRC["clandp"]
    atoms = {r[0]: r for r in rows if len(r) == 7 and r[4] == "lj"}
    bonds = {_key(r[:2]): (float(r[4]) / 2 / KJ, float(r[3])) for r in rows if len(r) == 5}
    angles = {_key(r[:3]): (float(r[5]) / 2 / KJ, float(r[4])) for r in rows if len(r) == 6}
    dihedrals = {
        _key(r[:4]): tuple(float(x) / KJ for x in r[5:9])
        for r in rows
        if len(r) == 9 and r[4] == "opls"
    }
    return {"nb": atoms, "bond": bonds, "angle": angles, "dihedral": dihedrals}


#: YAML type -> (GROMACS opls type) for the OPLS-AA ethers and the acetal.
OPLS_TYPES = {
    "DOL_OS": "opls_186",
    "DOL_CA": "opls_189",
    "DOL_CE": "opls_182",
    "DOL_HA": "opls_190",
    "DOL_HC": "opls_185",
    "DME_OS": "opls_180",
    "DME_CM": "opls_181",
    "DME_CE": "opls_182",
    "DME_HC": "opls_185",
    # user-solvent example (tests/data/solvents/THF.yaml)
    "THF_OS": "opls_180",
    "THF_CA": "opls_182",
    "THF_CB": "opls_136",
    "THF_HA": "opls_185",
    "THF_HB": "opls_140",
}
CLANDP_TYPES = {
    "TFSI_F": "F1",
    "TFSI_C": "CBT",
    "TFSI_S": "SBT",
    "TFSI_O": "OBT",
    "TFSI_N": "NBT",
    "Li": "Li",
}


@pytest.fixture(scope="module")
def ff():
    from lisflow.forcefield.custom import load_custom_species, register

    register(load_custom_species("THF", [DATA.parent / "solvents"]))
    return load_forcefield(["DOL", "DME", "LiTFSI", "Li2S6", "THF"])


def test_source_file_holds_the_cited_lines():
    assert len(SRC["gromacs ffnonbonded"]) == 10 and len(SRC["gromacs dihedraltypes"]) == 12
    assert ["opls_189", "CO", "6", "12.01100", "0.200", "A", "3.50000e-01", "2.76144e-01"] in SRC[
        "gromacs ffnonbonded"
    ]
    assert len(SRC["clandp"]) == 21 and len(SRC["tinker"]) > 20


@pytest.mark.parametrize("species", ["DOL", "DME", "THF"])
def test_opls_ether_and_acetal_values_equal_gromacs_oplsaa(ff, species):
    src = _gromacs()
    sp = ff.species[species]
    for type_name, charge in zip(sp.atom_types, sp.charges, strict=True):
        row = src["nb"][OPLS_TYPES[type_name]]
        t = ff.types[type_name]
        assert t.bonded_class == row[1]
        assert charge == pytest.approx(float(row[4]), abs=1e-9)
        assert t.sigma == pytest.approx(float(row[6]) * 10, abs=1e-9)
        assert t.epsilon == pytest.approx(float(row[7]) / KJ, abs=5e-5)
    _check_bonded(ff, species, src)


@pytest.mark.parametrize("species", ["TFSI", "Li"])
def test_tfsi_and_li_values_equal_clandp(ff, species):
    src = _clandp()
    sp = ff.species[species]
    for type_name, charge in zip(sp.atom_types, sp.charges, strict=True):
        row = src["nb"][CLANDP_TYPES[type_name]]
        t = ff.types[type_name]
        assert charge == pytest.approx(float(row[3]), abs=1e-9)
        assert t.sigma == pytest.approx(float(row[5]), abs=1e-9)
        assert t.epsilon == pytest.approx(float(row[6]) / KJ, abs=5e-5)
        if species == "TFSI":
            assert t.bonded_class == row[1]
    _check_bonded(ff, species, src)


def _check_bonded(ff, species: str, src: dict) -> None:
    """Every bonded term the molecule uses has the source's (converted) coefficients.

    Tolerance: the YAML keeps converted values to 4-5 significant digits (rel 1e-4).
    """
    sp = ff.species[species]
    used = 0
    for kind, items in (("bond", sp.bonds), ("angle", sp.angles), ("dihedral", sp.dihedrals)):
        for atoms in items:
            coeff = ff.coeff(species, kind, atoms)
            expected = src[kind][_key(coeff.classes)]
            assert coeff.values == pytest.approx(expected, rel=1e-4, abs=1e-5), (
                kind,
                coeff.classes,
            )
            used += 1
    assert used == len(sp.bonds) + len(sp.angles) + len(sp.dihedrals)


def test_dol_acetal_torsion_is_the_official_one_not_the_recalled_one(ff):
    """O-C-O-C of the acetal: GROMACS RB row and Tinker `torsion 13 20 51 20` agree."""
    coeff = ff.coeff("DOL", "dihedral", (4, 0, 1, 2))  # O3-C2-O1-C5
    assert coeff.classes in (("CT", "OS", "CO", "OS"), ("OS", "CO", "OS", "CT"))
    tinker = next(r for r in SRC["tinker"] if r[:5] == ["torsion", "13", "20", "51", "20"])
    assert coeff.values == pytest.approx(
        (float(tinker[5]), float(tinker[8]), float(tinker[11]), 0.0), abs=5e-4
    )
    assert coeff.values[:2] != (-0.574, -0.997)


def test_li2s6_sulfur_values_equal_tinker_oplsaa(ff):
    rows = {tuple(r[:3]): r for r in SRC["tinker"]}
    assert ff.types["S6_ST"].sigma == float(rows["vdw", "145", "3.5500"][2])
    assert ff.types["S6_ST"].epsilon == float(rows["vdw", "145", "3.5500"][3])
    bond = ff.coeff("Li2S6", "bond", (2, 3)).values
    assert bond == (float(rows["bond", "16", "16"][3]), float(rows["bond", "16", "16"][4]))
    assert ff.coeff("Li2S6", "angle", (2, 3, 4)).values[0] == float(rows["angle", "13", "16"][4])
    torsion = next(r for r in SRC["tinker"] if r[:5] == ["torsion", "13", "16", "16", "13"])
    assert ff.coeff("Li2S6", "dihedral", (2, 3, 4, 5)).values == (
        float(torsion[5]),
        float(torsion[8]),
        float(torsion[11]),
        0.0,
    )


def test_electrode_metal_lj_equal_uff(ff):
    """UFF x1 is the LJ minimum distance: sigma = x1 / 2^(1/6); D1 is epsilon (kcal/mol)."""
    rows = {r[1]: r for r in SRC["uff"]}
    for type_name, uff in (("E_Mo", "Mo6+6"), ("E_Ti", "Ti3+4")):
        x1, d1 = float(rows[uff][4]), float(rows[uff][5])
        assert ff.types[type_name].sigma == pytest.approx(x1 / 2 ** (1 / 6), abs=5e-4)
        assert ff.types[type_name].epsilon == d1
    n = next(r for r in SRC["gromacs ffnonbonded"] if r[0] == "opls_520")  # pyridine N
    assert ff.types["E_N"].sigma == pytest.approx(float(n[6]) * 10)
    assert ff.types["E_N"].epsilon == pytest.approx(float(n[7]) / KJ, abs=5e-5)
