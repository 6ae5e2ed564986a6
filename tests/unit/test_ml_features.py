"""Site features of paper 002's catalysts: element data, built structures, catalogue."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from ase.data import covalent_radii
from pymatgen.core import Element

from lisflow.errors import InputError
from lisflow.ml.features import (
    COMPUTED_CATALOGUE,
    feature_catalogue,
    feature_frame,
    parse_site_name,
    site_features,
    site_name,
    trimetallic_catalogue,
    write_feature_catalogue,
)
from lisflow.ml.validate import FEATURE_GROUPS
from lisflow.structures.support import dasc_graphene

#: d electrons of the free atoms (3d^6 4s^2 Fe, 3d^7 Co, 3d^8 Ni, 3d^10 4s^1 Cu).
D_ELECTRONS = {"Fe": 6, "Co": 7, "Ni": 8, "Cu": 10}
SITES = {
    "FeCo-N6": ("Fe", "Co"),
    "FeNi-N6": ("Fe", "Ni"),
    "FeCu-N6": ("Fe", "Cu"),
    "Fe-N4": ("Fe",),
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return feature_frame(list(SITES.values()))


def _metal_and_n(structure):
    metals = [i for i, s in enumerate(structure) if s.properties["label"] == "metal"]
    n_idx = [i for i, s in enumerate(structure) if s.properties["label"] == "coordinating_N"]
    return metals, n_idx


@pytest.mark.parametrize("name", list(SITES))
def test_element_features_match_pymatgen(frame, name):
    metals = SITES[name]
    row = frame.loc[name]
    m1, m2 = Element(metals[0]), Element(metals[-1])
    assert row["M1_chi"] == m1.X and row["M2_chi"] == m2.X
    assert row["M1_ie1"] == pytest.approx(m1.ionization_energies[0], abs=0)
    assert row["M2_ie2"] == m2.ionization_energies[1]
    assert row["M1_r_atomic"] == float(m1.atomic_radius)
    assert row["M2_mass"] == float(m2.atomic_mass)
    assert row["M2_group"] == m2.group and row["M2_period"] == 4
    assert row["M2_r_cov"] == covalent_radii[m2.Z]
    assert row["M1_n_d"] == D_ELECTRONS[metals[0]] and row["M2_n_d"] == D_ELECTRONS[metals[-1]]
    assert row["N_chi"] == Element("N").X and row["N_n_p"] == 3 and row["N_n_d"] == 0
    # composites
    assert row["diff_chi"] == pytest.approx(m1.X - m2.X, abs=1e-12)
    assert row["prod_n_d"] == D_ELECTRONS[metals[0]] * D_ELECTRONS[metals[-1]]
    assert row["absdiff_group"] == abs(m1.group - m2.group)
    assert row["n_metals"] == len(metals)


@pytest.mark.parametrize("name", list(SITES))
def test_structure_features_match_built_site(frame, name):
    metals = SITES[name]
    structure = dasc_graphene(list(metals))
    metal_idx, n_idx = _metal_and_n(structure)
    row = frame.loc[name]
    assert row["n_N_site"] == len(n_idx) == (6 if len(metals) == 2 else 4)
    m1 = min(metal_idx, key=lambda i: (structure[i].specie.Z, i))
    bonds = sorted(d for n in n_idx if (d := structure.get_distance(m1, n)) < 2.6)
    assert row["n_N_M1"] == len(bonds) == 4
    assert row["d_M1N_mean"] == pytest.approx(np.mean(bonds), abs=1e-9)
    assert row["d_M1N_1"] == pytest.approx(bonds[0], abs=1e-9)
    assert row["d_M1N_max"] == pytest.approx(bonds[-1], abs=1e-9)
    if len(metals) == 2:
        assert row["d_MM"] == pytest.approx(structure.get_distance(*metal_idx), abs=1e-9)
        assert 2.1 <= row["d_MM"] <= 2.2  # paper 002: M-M 2.1-2.2 A (HAADF)
    else:
        assert row["d_MM"] == 0.0
        # rectangular N4 cage: any three N give the triangle (side a, side b, diagonal)
        sides = [structure.get_distance(a, b) for a, b in combinations(n_idx[:3], 2)]
        assert row["L3N"] == pytest.approx(np.mean(sides), abs=1e-9)
    expected = (row["M1_r_atomic"] + row["M2_r_atomic"]) / row["L3N"]
    assert row["sumR_per_L3N"] == pytest.approx(expected, rel=1e-12)


def test_relaxed_structure_changes_structural_features_only():
    built = dasc_graphene(["Fe", "Co"])
    relaxed = built.copy()
    metal_idx, _ = _metal_and_n(relaxed)
    co = max(metal_idx, key=lambda i: relaxed[i].specie.Z)
    fe = min(metal_idx, key=lambda i: relaxed[i].specie.Z)
    direction = relaxed[co].coords - relaxed[fe].coords
    relaxed.translate_sites([co], 0.1 * direction / np.linalg.norm(direction), frac_coords=False)
    a = site_features(["Co", "Fe"], built)
    b = site_features(["Fe", "Co"], relaxed)
    assert b["d_MM"] == pytest.approx(a["d_MM"] + 0.1, abs=1e-9)
    assert b["d_M2N_mean"] != a["d_M2N_mean"] and b["d_M1N_mean"] == a["d_M1N_mean"]
    assert b["M2_chi"] == a["M2_chi"] == Element("Co").X


def test_catalogue_documents_every_feature(tmp_path, frame):
    catalogue = feature_catalogue()
    names = [f.name for f in catalogue]
    tri = {f.name for f in trimetallic_catalogue()}
    # trimetallic only: 23 M3 element, 12 M3 geometry + d_M2M3 + d_M1M3, 2 x 14 three-metal
    # composites, phi_M3, nd_chi_M3, dchi_M3N
    assert len(tri) == 23 + 14 + 28 + 3
    assert len(names) == len(set(names)) == 184 + len(tri)
    assert set(names) == set(frame.columns) | set(COMPUTED_CATALOGUE) | tri
    assert sorted({f.group for f in catalogue}) == list(FEATURE_GROUPS)
    assert list(frame.columns) == [n for n in names if n in frame.columns]
    path = write_feature_catalogue(tmp_path / "cat.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == ["name", "group", "definition", "unit", "source"]
    assert table["definition"].str.len().min() > 3 and not table["unit"].isna().any()
    assert table.loc[table["name"] == "M1_ie1", "unit"].item() == "eV"
    assert table.loc[table["name"] == "L3N", "unit"].item() == "Å"


def test_computed_features_are_added():
    values = site_features(["Fe"], computed={"eps_d_M1": -1.25, "q_N": 6.21})
    assert values["eps_d_M1"] == -1.25 and values["q_N"] == 6.21
    with pytest.raises(InputError, match="computed"):
        site_features(["Fe"], computed={"bogus": 1.0})


@pytest.mark.parametrize(
    "name, metals",
    [
        ("FeCo-N6", ("Fe", "Co")),
        ("Fe-N4", ("Fe",)),
        ("FeFe-N6", ("Fe", "Fe")),
        ("FeCu-N6/G", ("Fe", "Cu")),
        ("FeCoNi-N8", ("Fe", "Co", "Ni")),
    ],
)
def test_parse_site_name(name, metals):
    assert parse_site_name(name) == metals
    assert site_name(list(metals)) == name.removesuffix("/G")


@pytest.mark.parametrize(
    "bad", ["FeCo", "Fe-N6", "FeCo-N4", "FeS-N6", "Xx-N4", "", "FeCoNi-N6", "FeCo-N8"]
)
def test_parse_site_name_rejects(bad):
    with pytest.raises(InputError, match="site"):
        parse_site_name(bad)


def test_unlabelled_structure_gives_the_same_features():
    """A relaxed structure read from a file carries no labels: metals/N are found by element."""
    from pymatgen.core import Structure

    built = dasc_graphene(["Fe", "Ni"])
    bare = Structure(built.lattice, built.species, built.frac_coords)
    assert site_features(["Fe", "Ni"], bare) == site_features(["Fe", "Ni"], built)


def test_shipped_catalogue_is_current(tmp_path):
    from lisflow.ml.features import CATALOGUE_PATH

    fresh = write_feature_catalogue(tmp_path / "fresh.csv")
    assert CATALOGUE_PATH.read_text() == fresh.read_text(), "run: lisflow ml features"


def test_trimetallic_site_features():
    """Trimetallic M1M2M3-N8 (paper 002's extension): 3 metals in Z order along the chain."""
    from lisflow.ml.trimetallic import metal_distances, trimetallic_graphene

    structure = trimetallic_graphene(["Ni", "Fe", "Co"])
    assert structure.composition["N"] == 8 and structure.composition["C"] == 7 * 7 * 2 - 6 - 8
    d12, d23, d13 = metal_distances(structure)
    assert d13 == pytest.approx(d12 + d23, abs=1e-6)  # collinear chain, Co in the centre
    row = feature_frame([("Ni", "Fe", "Co")]).loc["FeCoNi-N8"]
    assert row["n_metals"] == 3 and row["n_N_site"] == 8 and row["homonuclear"] == 0
    assert row["M1_chi"] == Element("Fe").X and row["M2_chi"] == Element("Co").X
    assert row["M3_chi"] == Element("Ni").X and row["M3_n_d"] == 8
    assert row["d_MM"] == pytest.approx(d12) and row["d_M1M3"] == pytest.approx(d13)
    assert row["tri_mean_chi"] == pytest.approx((1.83 + 1.88 + 1.91) / 3)
    assert row["tri_range_n_d"] == 2  # d^6 Fe .. d^8 Ni
    for tag in ("M1", "M2", "M3"):  # every metal has >= 3 N within 2.6 A, none closer than 1.85
        assert row[f"n_N_{tag}"] >= 3 and row[f"d_{tag}N_min"] >= 1.85 - 1e-6
    with pytest.raises(InputError, match="metals"):
        trimetallic_graphene(["Fe", "Co"])
