"""Adsorbate placement over the active site (lisflow.structures.adsorption)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule, Structure

from lisflow.errors import InputError
from lisflow.structures import (
    POLYSULFIDES,
    adsorption_configurations,
    dasc_graphene,
    mo_ngraphene,
    molecule,
    ti0001,
)


def _idx(s: Structure, label: str) -> list[int]:
    return [i for i, lab in enumerate(s.site_properties["label"]) if lab == label]


def _ads_slab_distances(config: Structure) -> np.ndarray:
    ads = _idx(config, "adsorbate")
    slab = [i for i in range(len(config)) if i not in ads]
    return config.lattice.get_all_distances(config.frac_coords[ads], config.frac_coords[slab])


@pytest.fixture(scope="module")
def slabs() -> dict[str, Structure]:
    return {
        "Mo1": mo_ngraphene(1),
        "Mo4": mo_ngraphene(4),
        "Mo9": mo_ngraphene(9),
        "FeCo": dasc_graphene(["Fe", "Co"]),
        "Fe": dasc_graphene(["Fe"]),
        "Ti": ti0001(),
    }


@pytest.mark.parametrize("slab_name", ["Mo1", "Mo4", "Mo9", "FeCo", "Fe", "Ti"])
@pytest.mark.parametrize("name", POLYSULFIDES)
def test_configurations_distinct_clear_and_s_down(slabs, slab_name: str, name: str) -> None:
    slab = slabs[slab_name]
    mol = molecule(name)
    configs = adsorption_configurations(slab, mol)
    assert [c.properties["configuration"] for c in configs] == [0, 1, 2]
    ads_xyz = []
    for c in configs:
        ads = _idx(c, "adsorbate")
        assert len(c) == len(slab) + len(mol) and ads == list(range(len(slab), len(c)))
        assert c.properties["adsorbate"] == name
        assert np.allclose(c.cart_coords[: len(slab)], slab.cart_coords)  # slab untouched
        assert c.composition == slab.composition + mol.composition
        assert _ads_slab_distances(c).min() >= 1.6
        # the adsorbate atom closest to the active metal (or to the slab) is an S atom
        target = _idx(c, "metal") or list(range(len(slab)))
        d = c.distance_matrix[np.ix_(ads, target)].min(axis=1)
        assert c[ads[int(np.argmin(d))]].specie.symbol == "S"
        # intramolecular geometry is preserved (rigid rotation + translation)
        assert np.allclose(c.distance_matrix[np.ix_(ads, ads)], mol.distance_matrix, atol=1e-8)
        ads_xyz.append(c.cart_coords[ads])
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        assert np.abs(ads_xyz[a] - ads_xyz[b]).max() > 0.5  # distinct orientations


def test_anchor_height_over_the_site(slabs) -> None:
    slab = slabs["Mo4"]
    config = adsorption_configurations(slab, molecule("Li2S"), n_orientations=1, height=2.4)[0]
    metal = slab.cart_coords[_idx(slab, "metal")]
    s_xyz = config.cart_coords[
        [i for i in _idx(config, "adsorbate") if config[i].specie.symbol == "S"]
    ][0]
    assert s_xyz[:2] == pytest.approx(metal[:, :2].mean(axis=0))
    assert s_xyz[2] == pytest.approx(metal[:, 2].max() + 2.4)
    assert config.properties["height"] == pytest.approx(2.4)


def test_fallback_site_is_top_centre(slabs) -> None:
    slab = slabs["Ti"]
    config = adsorption_configurations(slab, molecule("S8"), n_orientations=1)[0]
    ads = _idx(config, "adsorbate")
    lowest = config.cart_coords[ads][np.argmin(config.cart_coords[ads, 2])]
    centre = slab.lattice.get_cartesian_coords([0.5, 0.5, 0.0])
    assert lowest[:2] == pytest.approx(centre[:2])
    assert lowest[2] == pytest.approx(slab.cart_coords[:, 2].max() + 2.4)


def test_deterministic(slabs) -> None:
    a = adsorption_configurations(slabs["FeCo"], molecule("Li2S6"), li_towards_n=True)
    b = adsorption_configurations(slabs["FeCo"], molecule("Li2S6"), li_towards_n=True)
    assert all(np.array_equal(x.cart_coords, y.cart_coords) for x, y in zip(a, b, strict=True))


def test_lifted_when_height_too_low(slabs) -> None:
    config = adsorption_configurations(slabs["Mo4"], molecule("Li2S"), height=0.5, min_distance=2.0)
    for c in config:
        assert _ads_slab_distances(c).min() >= 2.0
        assert c.properties["height"] > 0.5


def test_li_towards_n(slabs) -> None:
    slab = slabs["FeCo"]
    nn = _idx(slab, "coordinating_N")
    for li_mode, check in ((True, lambda d: d <= 2.5), (False, lambda d: d > 3.0)):
        for c in adsorption_configurations(slab, molecule("Li2S"), li_towards_n=li_mode):
            li = [i for i in _idx(c, "adsorbate") if c[i].specie.symbol == "Li"]
            assert check(c.distance_matrix[np.ix_(li, nn)].min())
            assert _ads_slab_distances(c).min() >= 1.6
    # S8 has no Li: li_towards_n falls back to rotations about z
    s8 = adsorption_configurations(slab, molecule("S8"), li_towards_n=True)
    plain = adsorption_configurations(slab, molecule("S8"))
    assert all(np.allclose(x.cart_coords, y.cart_coords) for x, y in zip(s8, plain, strict=True))


def test_single_atom_adsorbate(slabs) -> None:
    atom = Molecule(["S"], [[0.0, 0.0, 0.0]])
    configs = adsorption_configurations(slabs["Fe"], atom, n_orientations=3)
    assert len(configs) == 1
    fe = slabs["Fe"].cart_coords[_idx(slabs["Fe"], "metal")[0]]
    assert configs[0].cart_coords[-1] == pytest.approx(fe + [0, 0, 2.4])
    assert configs[0].properties["adsorbate"] == "S"


def test_bad_arguments(slabs) -> None:
    with pytest.raises(InputError) as err:
        adsorption_configurations(slabs["Mo4"], molecule("Li2S"), n_orientations=0)
    assert err.value.field == "n_orientations"
    with pytest.raises(InputError) as err:
        adsorption_configurations(
            slabs["Fe"], molecule("Li2S"), n_orientations=5, li_towards_n=True
        )
    assert err.value.field == "n_orientations"
    with pytest.raises(InputError) as err:  # no place in a 22 Å cell is 12 Å from every atom
        adsorption_configurations(slabs["Mo4"], molecule("Li2S"), min_distance=12.0)
    assert err.value.field == "min_distance"
    with pytest.raises(InputError) as err:  # S8 (~5 Å wide) touches its image in a 2.93 Å cell
        adsorption_configurations(ti0001(size=(1, 1)), molecule("S8"))
    assert err.value.field == "adsorbate"
    with pytest.raises(InputError) as err:
        adsorption_configurations(slabs["Mo4"], molecule("Li2S"), height=-1.0)
    assert err.value.field == "height"
