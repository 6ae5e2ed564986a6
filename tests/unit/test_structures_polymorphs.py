"""Li2S2 polymorphs, antifluorite Li2S and simulated electron diffraction."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from lisflow.errors import InputError
from lisflow.structures import electron_diffraction_patterns, li2s2_polymorphs, li2s_antifluorite
from lisflow.structures.polymorphs import (
    A2B2_PROTOTYPES,
    PROTOTYPE_DIR,
    S2_BOND,
    prototype,
    substituted_li2s2,
)

EXPECTED_SPACE_GROUP = {
    "tetragonal": 136,  # P4_2/mnm
    "Li2O2": 194,  # P6_3/mmc
    "Na2Se2": 194,
    "Na2O2": 189,  # P-62m
    "Na2S2": 189,
    "K2O2": 189,
    "K2S2": 189,
    "Rb2S2": 189,
}


@pytest.fixture(scope="module")
def polymorphs():
    return li2s2_polymorphs()


def _space_group(s) -> int:
    return SpacegroupAnalyzer(s, symprec=1e-3).get_space_group_number()


def _neighbours(s, i: int, element: str, r: float = 4.0) -> list[float]:
    return sorted(n.nn_distance for n in s.get_neighbors(s[i], r) if n.specie.symbol == element)


def test_keys(polymorphs) -> None:
    assert list(polymorphs) == ["tetragonal", *A2B2_PROTOTYPES]
    assert set(polymorphs) == set(EXPECTED_SPACE_GROUP)


@pytest.mark.parametrize("key", list(EXPECTED_SPACE_GROUP))
def test_space_group_composition_and_bonds(polymorphs, key: str) -> None:
    s = polymorphs[key]
    assert _space_group(s) == EXPECTED_SPACE_GROUP[key]
    assert s.composition.reduced_formula == "LiS" and s.composition["Li"] == s.composition["S"]
    assert set(s.site_properties["label"]) == {"bulk"}
    for i, site in enumerate(s):
        if site.specie.symbol == "S":
            assert _neighbours(s, i, "S")[0] == pytest.approx(S2_BOND, abs=1e-3)  # S2 dimers
            assert _neighbours(s, i, "Li")[0] >= 2.2
    d = s.distance_matrix
    assert d[np.triu_indices(len(s), 1)].min() >= 2.1


@pytest.mark.parametrize("name", [*A2B2_PROTOTYPES, "Li2S2_P4_2mnm"])
def test_prototype_files_match_their_space_group(name: str) -> None:
    data = json.loads((PROTOTYPE_DIR / f"{name}.json").read_text())
    assert data["source"] and data["space_group"]
    proto = prototype(name)
    assert _space_group(proto) == data["space_group_number"]
    assert proto.lattice.a == pytest.approx(data["lattice"]["a"])
    assert proto.lattice.c == pytest.approx(data["lattice"]["c"])


def test_tetragonal_li_coordination(polymorphs) -> None:
    s = polymorphs["tetragonal"]
    assert len(s) == 8
    for i, site in enumerate(s):
        if site.specie.symbol == "Li":
            assert np.allclose(_neighbours(s, i, "S", 2.6), 2.45, atol=0.01)
            assert len(_neighbours(s, i, "S", 2.6)) == 4


def test_scaling_rule() -> None:
    # Na2S2 (a = 7.629 Å) scaled by (r_Li + r_S)/(r_Na + r_S) = 2.60/2.86 with Shannon radii
    s = substituted_li2s2("Na2S2")
    assert s.lattice.a == pytest.approx(7.629 * 2.60 / 2.86)
    assert s.lattice.c / s.lattice.a == pytest.approx(5.394 / 7.629)
    assert s.properties["scale"] == pytest.approx(2.60 / 2.86)


def test_which_candidates_coincide(polymorphs) -> None:
    """Hypothetical K2O2 (Na2O2 type, radius-scaled) and estimated Rb2S2 (radius-scaled K2S2)
    give the same Li2S2 as Na2O2 and K2S2 (documented in their prototype files)."""
    matcher = StructureMatcher(ltol=0.01, stol=0.01, angle_tol=0.5, scale=False)
    keys = list(polymorphs)
    same = {
        (a, b)
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
        if matcher.fit(polymorphs[a], polymorphs[b])
    }
    assert same == {("Na2O2", "K2O2"), ("K2S2", "Rb2S2")}


def test_bad_prototype() -> None:
    with pytest.raises(InputError) as err:
        substituted_li2s2("Cs2O2")
    assert err.value.field == "prototype" and "Li2O2" in err.value.allowed
    with pytest.raises(InputError) as err:
        prototype("nothing")
    assert err.value.field == "prototype"


def test_li2s_antifluorite() -> None:
    s = li2s_antifluorite()
    assert _space_group(s) == 225
    assert {el.symbol: int(n) for el, n in s.composition.items()} == {"Li": 8, "S": 4}
    assert s.lattice.abc == pytest.approx((5.71, 5.71, 5.71))
    li = next(i for i, x in enumerate(s) if x.specie.symbol == "Li")
    assert _neighbours(s, li, "S")[:4] == pytest.approx([5.71 * np.sqrt(3) / 4] * 4)
    assert li2s_antifluorite(5.6).lattice.a == pytest.approx(5.6)
    with pytest.raises(InputError) as err:
        li2s_antifluorite(-1.0)
    assert err.value.field == "a"


def test_electron_diffraction(tmp_path: Path) -> None:
    paths = electron_diffraction_patterns(tmp_path / "ed")
    names = [p.name for p in paths]
    assert names == [
        "Li2S2_tetragonal_001.png",
        "Li2S2_tetragonal_111.png",
        "Li2S_cubic_111.png",
        "Li2S_cubic_011.png",
        "Li2S_cubic_100.png",
        "electron_diffraction_spots.csv",
    ]
    for p in paths[:-1]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
    rows = list(csv.DictReader(paths[-1].open()))
    assert not list((tmp_path / "ed").glob("*.tmp*"))
    by_zone: dict[tuple[str, str], dict[tuple[int, int, int], dict]] = {}
    for r in rows:
        by_zone.setdefault((r["phase"], r["zone"]), {})[(int(r["h"]), int(r["k"]), int(r["l"]))] = r
    assert set(by_zone) == {
        ("Li2S2_tetragonal", "001"),
        ("Li2S2_tetragonal", "111"),
        ("Li2S_cubic", "111"),
        ("Li2S_cubic", "011"),
        ("Li2S_cubic", "100"),
    }
    for (_, zone), spots in by_zone.items():
        uvw = [int(c) for c in zone]
        strong = [hkl for hkl, r in spots.items() if float(r["intensity_norm"]) > 1e-4]
        assert len(strong) > 20
        for hkl, r in spots.items():
            assert np.dot(hkl, uvw) == 0  # Weiss zone law
            g = np.hypot(float(r["gx_inv_nm"]), float(r["gy_inv_nm"]))
            assert g == pytest.approx(10.0 / float(r["d_angstrom"]), rel=1e-3)  # g = 1/d
    tet = by_zone[("Li2S2_tetragonal", "001")]
    # P4_2/mnm: h00 with h odd is extinct (n glide), so (100)/(300) are absent kinematically
    assert float(tet[(1, 0, 0)]["intensity_norm"]) < 1e-10
    assert float(tet[(3, 0, 0)]["intensity_norm"]) < 1e-10
    assert float(tet[(2, 0, 0)]["intensity_norm"]) > 0.05
    cubic = by_zone[("Li2S_cubic", "100")]
    # fcc: mixed-parity (011) absent; (022) allowed
    assert float(cubic[(0, 1, 1)]["intensity_norm"]) < 1e-10
    assert float(cubic[(0, 2, 2)]["intensity_norm"]) > 0.5
