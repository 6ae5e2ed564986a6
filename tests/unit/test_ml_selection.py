"""Stages and baselines in one nested CV on planted data: stable sets, no skill on noise,
reproducible (also with parallel folds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisflow.fsutil import hash_directory
from lisflow.ml.datasets import planted_table
from lisflow.ml.explain import load_fit, write_fit
from lisflow.ml.models import BASELINES
from lisflow.ml.pipeline import STABLE_THRESHOLD, fit_pipeline, format_stage_table
from lisflow.ml.selection import STAGES, FilterStage, ModelConfig, select_features

#: Small models keep the suite fast (25 trees, learning rate 0.25).
CONFIG = ModelConfig(n_estimators=25, learning_rate=0.25, seed=7, inner_folds=3)


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


CANDIDATE_ROWS = [*STAGES, *BASELINES, "chosen"]


def test_stage_table_has_stages_baselines_and_the_choice(result, planted):
    table = result.stage_table.set_index("candidate")
    assert list(table.index) == CANDIDATE_ROWS
    assert table.loc[list(BASELINES), "kind"].eq("baseline").all()
    assert table.loc[list(STAGES), "kind"].eq("stage").all()
    assert table.loc[["all", *BASELINES], "features_kept"].eq(planted.x.shape[1]).all()
    assert table.loc["chosen", "chosen_folds"] == 3  # one inner-CV choice per outer fold
    assert table.loc[[*STAGES, *BASELINES], "chosen_folds"].sum() == 3
    assert table.loc["all", "skipped_folds"] == 0
    assert (table.loc[list(STAGES), "skipped_folds"] <= 3).all()
    # the final model is the candidate with the highest mean inner-CV R²
    inner = table.loc[[*STAGES, *BASELINES], "inner_r2_mean"]
    assert table["final_model"].sum() == 1 and table.index[table["final_model"]][0] == result.chosen
    assert inner[result.chosen] == inner.max()
    text = format_stage_table(result.stage_table)
    assert "selection helped: " in text and "final model: " + result.chosen in text
    for name in CANDIDATE_ROWS:
        assert name in text


def test_skipped_stage_keeps_its_input(planted):
    sel = select_features(planted.x, planted.y, CONFIG)
    for before, stage in zip(STAGES, STAGES[1:], strict=False):
        if sel.skipped[stage]:
            assert sel.features[stage] == sel.features[before]
            assert sel.inner_r2[stage] == sel.inner_r2[before]
        else:
            assert sel.inner_r2[stage] > sel.inner_r2[before]
    assert sel.inner_r2["final"] == max(sel.inner_r2.values())


def test_selected_sets_contain_the_informative_features(result, planted):
    for stage in ("wrapper", "embedded", "final"):
        assert set(planted.informative) <= set(result.stable_sets[stage]), stage
        assert not {"const_0", "const_1"} & set(result.stable_sets[stage])
    table = result.stage_table.set_index("candidate")
    assert table.loc["final", "r2_mean"] > 0.8 and table.loc["chosen", "r2_mean"] > 0.8
    freq = result.stability.set_index("feature")
    assert (freq.loc[planted.informative, "freq_final"] >= STABLE_THRESHOLD).all()
    assert freq["stable_final"].sum() == len(result.stable_sets["final"])
    assert set(freq.index[freq["stable_final"]]) == set(result.stable_sets["final"])
    assert (freq.loc[freq["stable_final"], "freq_final"] >= STABLE_THRESHOLD).all()


def test_stable_set_holds_the_informative_features_over_five_seeds(planted):
    sizes = []
    for seed in range(5):
        cfg = ModelConfig(n_estimators=25, learning_rate=0.25, seed=seed, inner_folds=3)
        res = fit_pipeline(planted.x, planted.y, "y", cfg, folds=3, n_ensemble=0, baselines=())
        stable = res.stable_sets["final"]
        assert set(planted.informative) <= set(stable), (seed, stable)
        assert not {"const_0", "const_1"} & set(stable)
        sizes.append(len(stable))
    assert max(sizes) <= 12, sizes  # of 22 columns: 4 informative, 4 copies, 12 noise, 2 const


def test_pure_noise_target_has_no_nested_cv_skill(planted):
    noise = planted_table(n_rows=100, n_noise=12, seed=11, pure_noise_target=True)
    res = fit_pipeline(noise.x, noise.y, "y", CONFIG, folds=3, n_ensemble=0)
    table = res.stage_table
    assert list(table["candidate"]) == CANDIDATE_ROWS
    assert (table["r2_mean"] <= 0.1).all(), table


def test_same_seed_gives_bit_identical_results(result, planted, tmp_path):
    again = fit_pipeline(planted.x, planted.y, "y", CONFIG, folds=3, n_ensemble=3)
    assert again.stable_sets == result.stable_sets and again.chosen == result.chosen
    pd.testing.assert_frame_equal(again.stage_table, result.stage_table, check_exact=True)
    pd.testing.assert_frame_equal(again.predictions, result.predictions, check_exact=True)
    pd.testing.assert_frame_equal(again.stability, result.stability, check_exact=True)
    pred_a, std_a = result.predict(planted.x)
    pred_b, std_b = again.predict(planted.x)
    assert np.array_equal(pred_a, pred_b) and np.array_equal(std_a, std_b)
    names = [
        "stage_table.csv",
        "features.json",
        "stability.csv",
        "importance.csv",
        "predictions.csv",
        "correlation.csv",
        "meta.json",
    ]
    write_fit(result, planted.x, tmp_path / "a")
    write_fit(again, planted.x, tmp_path / "b")
    assert hash_directory(tmp_path / "a", names) == hash_directory(tmp_path / "b", names)
    pngs = ("parity.png", "correlation.png", "stage_table.png", "importance.png", "stability.png")
    for png in pngs:
        assert (tmp_path / "a" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = load_fit(tmp_path / "a")
    pred_c, std_c = loaded.predict(planted.x)
    assert np.allclose(pred_c, pred_a, atol=1e-6) and np.allclose(std_c, std_a, atol=1e-6)


def test_parallel_folds_give_the_same_fit():
    small = planted_table(n_rows=40, n_informative=2, n_copies=1, n_noise=4, seed=3)
    args = (small.x, small.y, "y", CONFIG, 2)
    one = fit_pipeline(*args, n_ensemble=0, baselines=("linear",), repeats=2)
    two = fit_pipeline(*args, n_ensemble=0, baselines=("linear",), repeats=2, jobs=2)
    pd.testing.assert_frame_equal(one.stage_table, two.stage_table, check_exact=True)
    pd.testing.assert_frame_equal(one.stability, two.stability, check_exact=True)
    assert one.stage_table["r2_seed_std"].gt(0).any()  # two outer-CV seeds differ


def test_outputs_describe_the_fit(result, planted, tmp_path):
    write_fit(result, planted.x, tmp_path / "fit")
    importance = pd.read_csv(tmp_path / "fit" / "importance.csv")
    assert importance["gain"].sum() == pytest.approx(1.0)
    assert set(importance["feature"]) == set(result.features)
    assert importance["feature"].iloc[0] in planted.informative
    top_perm = result.permutation.iloc[0]["feature"]
    assert top_perm in planted.informative
    predictions = pd.read_csv(tmp_path / "fit" / "predictions.csv", float_precision="round_trip")
    assert len(predictions) == 100 and sorted(predictions["fold"].unique()) == [0, 1, 2]
    assert np.array_equal(predictions["y_true"].to_numpy(), planted.y)
    assert set(predictions["candidate"]) <= set(CANDIDATE_ROWS)
    stability = pd.read_csv(tmp_path / "fit" / "stability.csv")
    assert sorted(stability["feature"]) == sorted(planted.x.columns)
    # constants survive the filter only in folds where the filter stage was skipped
    skipped = result.stage_table.set_index("candidate").loc["filter", "skipped_folds"]
    assert stability.loc[stability["feature"] == "const_0", "freq_filter"].item() == skipped / 3
    corr = pd.read_csv(tmp_path / "fit" / "correlation.csv", index_col=0)
    assert list(corr.columns) == result.filter_stage.selected_
