"""The computed-data-set pieces without a model run: relaxed sites of any n×n cell are
recognised, screening builds candidates in the training cell, slices and the study mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisflow.ml.dataset_study import DatasetSettings, dataset_sites, dataset_study
from lisflow.ml.features import site_features
from lisflow.ml.screen import rank_candidates
from lisflow.ml.tables import relaxed_structure
from lisflow.structures.support import dasc_graphene


@pytest.mark.parametrize("metals,cell", [(["Fe"], 4), (["Fe", "Co"], 4), (["Mo", "W"], 6)])
def test_relaxed_site_of_any_cell_is_recognised(tmp_path, metals, cell):
    built = dasc_graphene(metals, supercell=cell)
    moved = built.copy()
    moved.translate_sites([len(moved) - 1], [0.0, 0.0, 0.3], frac_coords=False)  # metal out of plane
    moved.remove_site_property("label")
    moved.to(filename=str(tmp_path / "CONTCAR"), fmt="poscar")
    relaxed = relaxed_structure(str(tmp_path), metals)
    assert relaxed is not None and len(relaxed) == len(built)
    assert relaxed.site_properties["label"] == built.site_properties["label"]
    f_relaxed, f_built = site_features(metals, relaxed), site_features(metals, built)
    assert f_relaxed["h_M2"] == pytest.approx(0.3, abs=0.05)  # the moved metal's height
    assert f_built["h_M2"] == pytest.approx(0.0, abs=1e-6)


def test_a_structure_of_other_atoms_is_not_taken_for_the_site(tmp_path):
    dasc_graphene(["Fe", "Ni"], supercell=4).to(filename=str(tmp_path / "CONTCAR"), fmt="poscar")
    assert relaxed_structure(str(tmp_path), ["Fe", "Co"]) is None
    assert relaxed_structure(str(tmp_path / "missing"), ["Fe", "Co"]) is None


class _Linear:
    """A predictor of two structural features (prediction = L3N + d_MN_mean_all, no spread)."""

    features = ["L3N", "d_MN_mean_all"]

    def predict(self, x: pd.DataFrame):
        values = x[self.features].sum(axis=1).to_numpy(float)
        return values, np.zeros(len(values))


@pytest.mark.parametrize("cell", [4, 6])
def test_screen_builds_candidates_in_the_training_cell(cell):
    ranked = rank_candidates(_Linear(), ["Fe", "Co"], exclude=["Fe-N4"], cell=cell).set_index("site")
    assert sorted(ranked.index) == ["Co-N4", "CoCo-N6", "FeCo-N6", "FeFe-N6"]
    expected = site_features(["Fe", "Co"], dasc_graphene(["Fe", "Co"], supercell=cell))
    assert ranked.loc["FeCo-N6", "prediction"] == pytest.approx(
        expected["L3N"] + expected["d_MN_mean_all"], abs=1e-9
    )


def test_study_states_the_reduced_cell_and_relaxation():
    sites = dataset_sites("dasc", ["Fe", "Co", "Ni"], order="catalogue")
    assert sites == [("Fe", "Fe"), ("Fe", "Co"), ("Fe", "Ni"), ("Co", "Co"), ("Co", "Ni"),
                     ("Ni", "Ni")]  # fmt: skip
    shuffled = dataset_sites("all", ["Fe", "Co", "Ni"], seed=1)
    assert shuffled[:3] == [("Fe",), ("Co",), ("Ni",)] and sorted(shuffled[3:]) == sorted(sites)
    study = dataset_study(sites, "x", DatasetSettings(supercell=5, fmax=0.2, steps=50))
    assert {s["supercell"] for s in study["substrates"]} == {5}
    assert study["overrides"] == {"OPTIMIZER": "BFGS", "FMAX": 0.2, "STEPS": 50}
    assert "5x5 graphene cell (reduced from the papers' 6x6" in study["description"]
