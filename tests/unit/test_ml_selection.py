"""Three-stage selection and nested CV on planted data: copies removed, no leakage, reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisflow.fsutil import hash_directory
from lisflow.ml.datasets import planted_table
from lisflow.ml.explain import load_fit, write_fit
from lisflow.ml.pipeline import fit_pipeline
from lisflow.ml.selection import FilterStage, ModelConfig

#: Small models keep the suite fast (25 trees, learning rate 0.25); RFECV drops 25 % per step.
CONFIG = ModelConfig(n_estimators=25, learning_rate=0.25, seed=7, inner_folds=3, wrapper_step=0.25)


@pytest.fixture(scope="module")
def planted():
    return planted_table(n_rows=100, n_informative=4, n_copies=4, n_noise=12, seed=11)


@pytest.fixture(scope="module")
def result(planted):
    return fit_pipeline(planted.x, planted.y, "y", CONFIG, folds=3, n_ensemble=3)


def test_filter_drops_constants_and_planted_copies(planted):
    stage = FilterStage(0.7).fit(planted.x, planted.y)
    assert stage.constant_ == ["const_0", "const_1"]
    assert stage.correlated_ == planted.copies  # each copy dropped in favour of its original
    assert set(planted.informative) <= set(stage.selected_)
    assert set(stage.selected_) == set(planted.informative) | set(planted.noise)
    kept = planted.x[stage.selected_].to_numpy()
    r = np.corrcoef(kept.T)
    assert np.abs(r[np.triu_indices_from(r, 1)]).max() <= 0.7


def test_filter_keeps_the_feature_more_correlated_with_target():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    y = a + 0.1 * rng.normal(size=50)
    x = pd.DataFrame({"weak": a + 0.4 * rng.normal(size=50), "strong": a, "twin": a.copy()})
    stage = FilterStage(0.7).fit(x, y)
    # strong and twin are identical (tie): the earlier column wins, deterministically
    assert stage.selected_ == ["strong"]
    assert stage.correlated_ == {"twin": "strong", "weak": "strong"}


def test_selected_set_contains_the_informative_features(result, planted):
    features = result.selection.features
    assert features["all"] == list(planted.x.columns)
    for stage in ("wrapper", "embedded", "final"):
        assert set(planted.informative) <= set(features[stage]), stage
        assert not set(planted.copies) & set(features[stage])
    table = result.stage_table
    assert list(table["stage"]) == ["all", "filter", "wrapper", "embedded", "final"]
    assert table["features_kept"].tolist()[:2] == [22, 16]
    assert (table["features_kept"].diff().dropna() <= 0).all()
    assert table.loc[table["stage"] == "final", "r2_mean"].item() > 0.8


def test_pure_noise_target_has_no_nested_cv_skill(planted):
    noise = planted_table(n_rows=100, n_noise=12, seed=11, pure_noise_target=True)
    res = fit_pipeline(noise.x, noise.y, "y", CONFIG, folds=3, n_ensemble=0)
    assert (res.stage_table["r2_mean"] <= 0.1).all(), res.stage_table


def test_same_seed_gives_bit_identical_results(result, planted, tmp_path):
    again = fit_pipeline(planted.x, planted.y, "y", CONFIG, folds=3, n_ensemble=3)
    assert again.selection.features == result.selection.features
    pd.testing.assert_frame_equal(again.stage_table, result.stage_table, check_exact=True)
    pd.testing.assert_frame_equal(again.predictions, result.predictions, check_exact=True)
    pred_a, std_a = result.predict(planted.x)
    pred_b, std_b = again.predict(planted.x)
    assert np.array_equal(pred_a, pred_b) and np.array_equal(std_a, std_b)
    names = [
        "stage_table.csv",
        "features.json",
        "importance.csv",
        "predictions.csv",
        "correlation.csv",
        "model.json",
        "meta.json",
        "ensemble/member_2.json",
    ]
    write_fit(result, planted.x, tmp_path / "a")
    write_fit(again, planted.x, tmp_path / "b")
    assert hash_directory(tmp_path / "a", names) == hash_directory(tmp_path / "b", names)
    for png in ("parity.png", "correlation.png", "stage_table.png", "importance.png"):
        assert (tmp_path / "a" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = load_fit(tmp_path / "a")
    pred_c, std_c = loaded.predict(planted.x)
    assert np.allclose(pred_c, pred_a, atol=1e-6) and np.allclose(std_c, std_a, atol=1e-6)


def test_outputs_describe_the_fit(result, planted, tmp_path):
    write_fit(result, planted.x, tmp_path / "fit")
    importance = pd.read_csv(tmp_path / "fit" / "importance.csv")
    assert importance["gain"].sum() == pytest.approx(1.0)
    assert set(importance["feature"]) == set(result.features)
    assert importance["feature"].iloc[0] in planted.informative
    top_perm = importance.sort_values("permutation_r2_drop_mean").iloc[-1]["feature"]
    assert top_perm in planted.informative
    predictions = pd.read_csv(tmp_path / "fit" / "predictions.csv", float_precision="round_trip")
    assert len(predictions) == 100 and sorted(predictions["fold"].unique()) == [0, 1, 2]
    assert np.array_equal(predictions["y_true"].to_numpy(), planted.y)
    corr = pd.read_csv(tmp_path / "fit" / "correlation.csv", index_col=0)
    assert list(corr.columns) == result.selection.features["filter"]
