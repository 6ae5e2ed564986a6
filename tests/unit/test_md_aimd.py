"""AIMD model of paper 000: Mo4/N-G + 3 Li2S6, 3 LiTFSI, 12 DOL, 12 DME + 6 Li below the sheet."""

from __future__ import annotations

import numpy as np
import pytest

from lisflow.structures.aimd import DEUTERIUM_MASS, aimd_interface_model, electrode_li_indices


@pytest.fixture(scope="module")
def model():
    return aimd_interface_model()


def test_composition(model):
    comp = model.composition
    # support 106 C + 4 N + 4 Mo; solution: 3 Li2S6 (6 Li, 18 S), 3 LiTFSI (3 Li, 3 N, 6 C,
    # 6 S, 12 O, 18 F), 12 DOL (36 C, 24 O, 72 H), 12 DME (48 C, 24 O, 120 H); 6 Li below.
    expected = {
        "Mo": 4,
        "C": 106 + 6 + 36 + 48,
        "N": 4 + 3,
        "Li": 6 + 3 + 6,
        "S": 18 + 6,
        "O": 12 + 24 + 24,
        "F": 18,
        "H": 72 + 120,
    }
    assert {el.symbol: int(n) for el, n in comp.items()} == expected
    labels = model.site_properties["label"]
    assert labels.count("metal") == 4 and labels.count("electrode_Li") == 6
    assert labels.count("coordinating_N") == 4
    assert labels.count("adsorbate") == 8 * 3 + 16 * 3 + 11 * 12 + 16 * 12
    assert model.charge == 0


def test_electrode_li_below_sheet(model):
    idx = electrode_li_indices(model)
    assert len(idx) == 6 and all(model[i].specie.symbol == "Li" for i in idx)
    sheet = [s.coords[2] for s in model if s.properties["label"] == "support"]
    li_z = np.array([model[i].coords[2] for i in idx])
    assert np.all(li_z < min(sheet))
    solution = [s.coords[2] for s in model if s.properties["label"] == "adsorbate"]
    assert min(solution) > max(s.coords[2] for s in model if s.properties["label"] == "metal")


def test_deuterated_and_distances(model):
    hydrogens = [s for s in model if s.specie.symbol == "H"]
    assert hydrogens and all(s.properties["isotope"] == "D" for s in hydrogens)
    assert all(s.properties["mass"] == DEUTERIUM_MASS for s in hydrogens)
    d = model.distance_matrix + np.eye(len(model)) * 99
    assert d.min() >= 1.0
    assert model.lattice.a == pytest.approx(17.09) and model.lattice.b == pytest.approx(17.22)


def test_deterministic(model):
    again = aimd_interface_model()
    assert np.allclose(again.cart_coords, model.cart_coords)


def test_layer_charges_group_ions_by_lateral_distance(model):
    """ED Fig. 8g: S6 ions ranked by x-y distance of their S centroid from the Mo centre."""
    from lisflow.analysis.aimd_layers import LAYERS, layer_charges, polysulfide_ions

    ions = polysulfide_ions(model)
    assert sorted(ions) == ["Li2S6:0", "Li2S6:1", "Li2S6:2"]
    assert all(len(idx) == 6 for idx in ions.values())
    q = np.zeros(len(model))
    for k, idx in enumerate(sorted(ions.values())):
        q[idx] = -0.1 * (k + 1)  # ion k: -0.6 (k+1) e in total
    q[[i for i, s in enumerate(model) if s.specie.symbol == "Li"]] = 0.9  # not in an ion
    layers = layer_charges(model, q)
    mo = model.cart_coords[[i for i, s in enumerate(model) if s.specie.symbol == "Mo"], :2]
    ab = np.array([model.lattice.a, model.lattice.b])
    dist = {}
    for name, idx in ions.items():
        d = model.cart_coords[idx, :2].mean(axis=0) - mo.mean(axis=0)  # packed ions unwrapped
        dist[name] = float(np.hypot(*(d - ab * np.round(d / ab))))
    order = sorted(dist, key=dist.get)
    for layer, name in zip(LAYERS, order, strict=True):
        k = sorted(ions).index(name)
        assert layers[layer]["ions"] == [name]
        assert layers[layer]["charges_e"] == pytest.approx([-0.6 * (k + 1)])
        assert layers[layer]["lateral_distance_a"] == pytest.approx([dist[name]])
    with pytest.raises(Exception, match="charges"):
        layer_charges(model, q[:-1])


def test_aimd_layer_series_uses_the_runs_gth_valences(tmp_path, monkeypatch):
    """The cube Bader partition gets qN of the GTH-PBE pseudopotentials the run used
    (CP2K data file GTH_POTENTIALS: H q1, Li q3, C q4, N q5, O q6, F q7, S q6, Mo q14)."""
    import lisflow.analysis.aimd_layers as aimd_layers
    from lisflow import WORKFLOWS_DIR
    from lisflow.engines.cp2k import PROJECT, aimd_layer_series
    from lisflow.spec import load_spec
    from lisflow.workflows.plan import plan

    calc = plan(load_spec(WORKFLOWS_DIR / "aimd_charge_transfer.yaml"))[0]
    cube = tmp_path / f"{PROJECT}-ELECTRON_DENSITY-1_0.cube"
    cube.write_text("")
    seen = {}

    def fake_layer_series(structure, cubes, timestep_fs, valence):
        seen.update(cubes=list(cubes), timestep_fs=timestep_fs, valence=valence)
        return {("aimd_layers", "q_x"): "sentinel"}

    monkeypatch.setattr(aimd_layers, "layer_series", fake_layer_series)
    assert aimd_layer_series(calc, tmp_path) == {("aimd_layers", "q_x"): "sentinel"}
    assert seen["cubes"] == [cube]
    assert seen["timestep_fs"] == calc.inputs.aimd.timestep_fs
    assert seen["valence"] == {"H": 1.0, "Li": 3.0, "C": 4.0, "N": 5.0, "O": 6.0, "F": 7.0,
                               "S": 6.0, "Mo": 14.0}  # fmt: skip
