"""Substrate builders: Mo_n/N-G, SASC/DASC graphene, Ti(0001) (lisflow.structures.support)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymatgen.core import Element, Structure

from lisflow.errors import InputError
from lisflow.structures import TRANSITION_METALS, dasc_graphene, mo_ngraphene, ti0001


def _idx(s: Structure, label: str) -> list[int]:
    return [i for i, lab in enumerate(s.site_properties["label"]) if lab == label]


def _counts(s: Structure) -> dict[str, int]:
    return {el.symbol: int(n) for el, n in s.composition.items()}


def _vacuum(s: Structure) -> float:
    z = s.cart_coords[:, 2]
    return s.lattice.c - (z.max() - z.min())


def _min_distance(s: Structure) -> float:
    d = s.distance_matrix  # periodic minimum-image distances
    return float(d[np.triu_indices(len(s), 1)].min())


# --- Mo_n clusters on N-doped graphene (paper 000, Methods DFT) -----------------------------


@pytest.fixture(scope="module", params=[1, 4, 9])
def mo_ng(request) -> tuple[int, Structure]:
    return request.param, mo_ngraphene(request.param)


def test_mo_ng_counts_and_cell(mo_ng) -> None:
    n, s = mo_ng
    assert _counts(s) == {"C": 106, "N": 4, "Mo": n}
    assert s.lattice.abc == pytest.approx((17.09, 17.22, 22.0), abs=1e-9)
    assert s.lattice.angles == pytest.approx((90.0, 90.0, 90.0))
    assert len(_idx(s, "metal")) == n and {s[i].specie.symbol for i in _idx(s, "metal")} == {"Mo"}
    assert {s[i].specie.symbol for i in _idx(s, "coordinating_N")} == {"N"}
    assert len(_idx(s, "coordinating_N")) == 4 and len(_idx(s, "support")) == 106
    assert s.properties["builder"] == "mo_ngraphene" and s.properties["vacuum_axis"] == 2
    assert _vacuum(s) >= 14.5
    assert all(s.lattice.pbc)


def test_mo_ng_geometry(mo_ng) -> None:
    n, s = mo_ng
    mo, nn, c = _idx(s, "metal"), _idx(s, "coordinating_N"), _idx(s, "support")
    d = s.distance_matrix
    assert 2.0 <= d[np.ix_(mo, nn)].min() <= 2.2  # bottom Mo anchored on the pyridinic N
    assert d[np.ix_(mo, c)].min() >= 2.0
    if n > 1:
        mm = d[np.ix_(mo, mo)] + np.eye(n) * 99
        assert np.allclose(mm.min(axis=1), 2.70, atol=1e-6)  # compact cluster, Mo-Mo 2.7 Å
    # every pyridinic N has exactly two C neighbours at ~1.42 Å (it sits at the divacancy edge)
    for i in nn:
        assert int(((d[i, c] > 1.3) & (d[i, c] < 1.5)).sum()) == 2
    assert _min_distance(s) >= 1.3


def test_mo_ng_layers() -> None:
    z9 = np.sort(mo_ngraphene(9).cart_coords[_idx(mo_ngraphene(9), "metal"), 2])
    assert np.allclose(z9[:6], z9[0]) and np.allclose(z9[6:], z9[6])  # 6 + 3 two-layer Mo9
    assert z9[6] - z9[0] == pytest.approx(2.7 * np.sqrt(2 / 3))


@pytest.mark.parametrize("bad", [0, 2, 3, 40])
def test_mo_ng_bad_size(bad: int) -> None:
    with pytest.raises(InputError) as err:
        mo_ngraphene(bad)
    assert err.value.field == "substrates[].n_mo" and err.value.allowed == "1, 4, 9"


# --- SASC / DASC sites (paper 002) ------------------------------------------------------------


def _check_site(s: Structure, metals: list[str]) -> None:
    m, nn = _idx(s, "metal"), _idx(s, "coordinating_N")
    ordered = sorted(metals, key=lambda x: Element(x).Z)
    assert [s[i].specie.symbol for i in m] == ordered == s.properties["metals"]
    assert s.lattice.a == pytest.approx(6 * 2.47) and s.lattice.b == pytest.approx(6 * 2.47)
    assert s.lattice.gamma == pytest.approx(120.0)
    assert _vacuum(s) >= 14.5
    assert all(s.lattice.pbc)
    d = s.distance_matrix
    if len(metals) == 2:
        assert _counts(s) == {"C": 62, "N": 6, **{x: metals.count(x) for x in metals}}
        assert 2.1 <= d[m[0], m[1]] <= 2.2
        assert len(nn) == 6
        for i in m:  # each metal: 2 own + 2 bridging N
            assert int((d[i, nn] <= 2.3).sum()) == 4
    else:
        assert _counts(s) == {"C": 66, "N": 4, metals[0]: 1}
        assert len(nn) == 4
    assert (d[np.ix_(m, nn)].min(axis=0) <= 2.3).all()  # every coordinating N binds a metal
    assert d[np.ix_(m, nn)].min() >= 1.8
    assert _min_distance(s) >= 1.25


@pytest.mark.parametrize(
    "metals", [["Fe"], ["Co"], ["Fe", "Co"], ["Ni", "Fe"], ["Fe", "Cu"]], ids="-".join
)
def test_paper_sites(metals: list[str]) -> None:
    s = dasc_graphene(metals)
    _check_site(s, metals)
    assert s.properties["builder"] == "dasc_graphene" and s.properties["vacuum_axis"] == 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.lists(st.sampled_from(TRANSITION_METALS), min_size=2, max_size=2))
def test_any_transition_metal_pair_builds(pair: list[str]) -> None:
    _check_site(dasc_graphene(pair), pair)


def test_transition_metal_set() -> None:
    assert len(TRANSITION_METALS) == 30
    assert {"Sc", "Zn", "Y", "Cd", "La", "Hf", "Hg"} <= set(TRANSITION_METALS)
    assert not {"Ce", "Lu", "Al", "Li"} & set(TRANSITION_METALS)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metals": ["Fe", "S"]}, "metals"),
        ({"metals": ["Si"]}, "metals"),
        ({"metals": ["Fe", "Co", "Ni"]}, "metals"),
        ({"metals": []}, "metals"),
        ({"metals": "Fe"}, "metals"),
        ({"metals": ["Fe"], "supercell": 3}, "supercell"),
        ({"metals": ["Fe"], "a": 4.0}, "a"),
        ({"metals": ["Fe"], "vacuum": 2.0}, "vacuum"),
    ],
)
def test_dasc_bad_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        dasc_graphene(**kwargs)
    assert err.value.field == field
    if (
        field == "metals"
        and len(kwargs["metals"]) in (1, 2)
        and not isinstance(kwargs["metals"], str)
    ):
        assert "Fe" in err.value.allowed and "Hg" in err.value.allowed


def test_dasc_larger_supercell_and_vacuum() -> None:
    s = dasc_graphene(["Fe", "Co"], supercell=7, vacuum=20.0)
    assert _counts(s) == {"C": 7 * 7 * 2 - 4 - 6, "N": 6, "Fe": 1, "Co": 1}
    assert s.lattice.c == pytest.approx(20.0)


# --- Ti(0001) ---------------------------------------------------------------------------------


def test_ti0001_default() -> None:
    s = ti0001()
    assert _counts(s) == {"Ti": 96}
    assert set(s.site_properties["label"]) == {"slab"}
    z = np.round(s.cart_coords[:, 2], 4)
    layers = np.unique(z)
    assert len(layers) == 6 and np.allclose(np.diff(layers), 4.68 / 2)
    assert s.lattice.a == pytest.approx(4 * 2.93) and s.lattice.b == pytest.approx(4 * 2.93)
    assert s.lattice.c == pytest.approx(5 * 4.68 / 2 + 15.0)
    assert _vacuum(s) == pytest.approx(15.0)
    assert all(s.lattice.pbc)  # ase builds it non-periodic along z; VASP cells are periodic
    bottom = s.cart_coords[z == layers[0]]
    in_plane = np.linalg.norm(bottom[1:, :2] - bottom[0, :2], axis=1).min()
    assert in_plane == pytest.approx(2.93)
    # ABAB stacking: layers 0 and 2 coincide laterally, layers 0 and 1 do not
    frac = s.frac_coords
    xy = [np.sort(np.round(frac[z == lz, :2] % 1, 4), axis=0) for lz in layers[:3]]
    assert np.allclose(xy[0], xy[2]) and not np.allclose(xy[0], xy[1])
    assert _min_distance(s) >= 2.8
    assert s.properties["vacuum_axis"] == 2 and s.properties["builder"] == "ti0001"


def test_ti0001_custom_and_bad() -> None:
    assert len(ti0001(layers=3, size=(2, 3))) == 18
    with pytest.raises(InputError) as err:
        ti0001(layers=1)
    assert err.value.field == "layers"
    with pytest.raises(InputError) as err:
        ti0001(size=(0, 4))
    assert err.value.field == "size"
