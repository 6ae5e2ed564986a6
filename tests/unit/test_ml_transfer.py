"""Paper 002's transfer step, trimetallic screening, and ``ml screen`` on any table model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lisflow.cli import app
from lisflow.ml.datasets import trimetallic_sites
from lisflow.ml.explain import load_fit
from lisflow.ml.features import feature_frame
from lisflow.ml.transfer import TransferredModel, transfer_fit

runner = CliRunner()
FAST = ["--estimators", "30", "--folds", "3", "--ensemble", "2"]


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _source(n: int, seed: int, shift: float) -> pd.DataFrame:
    """Catalogue-named columns: M1_chi (element), d_MM (structure), phi_M1 (corrected_d), noise.
    y = sin(4 chi) + 40 (d_MM - 2.3)² + phi + shift (eV, SYNTHETIC)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "M1_chi": rng.uniform(1.2, 2.4, n),
            "d_MM": rng.uniform(2.0, 2.6, n),
            "phi_M1": rng.uniform(0.0, 1.0, n),
            "M2_ie1": rng.normal(size=n),
            "h_M1": rng.normal(size=n),
        }
    )
    y = np.sin(4 * x["M1_chi"]) + 40 * (x["d_MM"] - 2.3) ** 2 + x["phi_M1"] + shift
    return x.assign(e=y + 0.02 * rng.normal(size=n))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    root = tmp_path_factory.mktemp("transfer")
    _source(300, 0, 0.0).to_csv(root / "source.csv", index=False)
    _source(30, 1, 2.0).to_csv(root / "site.csv", index=False)
    result = _invoke("ml", "fit", "--table", str(root / "source.csv"), "--target", "e",
                     "--baseline", "none", "--out", str(root / "pre"), *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def test_transfer_continues_the_pretrained_booster(pretrained):
    pre = load_fit(pretrained / "pre")
    assert pre.meta["model_kind"] == "xgb" and {"M1_chi", "d_MM", "phi_M1"} <= set(pre.features)
    site = pd.read_csv(pretrained / "site.csv")
    x, y = site.drop(columns="e"), site["e"].to_numpy()
    model, table = transfer_fit(pre, x, y, ("element", "structure"), extra_trees=20, folds=3)
    assert model.features == ["M1_chi", "d_MM"]  # phi_M1 (corrected_d) masked as missing
    booster = model.model.get_booster()
    n_pre = pre.model.get_booster().num_boosted_rounds()
    assert booster.num_boosted_rounds() == n_pre + 20
    params = model.model.get_xgb_params()
    for key in ("max_depth", "learning_rate", "subsample", "max_bin"):  # hyper-parameters carried
        assert params[key] == pre.meta["model_params"][key], key
    values = model.matrix(x)
    assert np.isnan(values[:, pre.features.index("phi_M1")]).all()
    # weights carried: the first n_pre trees are the pre-trained model, unchanged
    first = booster.inplace_predict(values, iteration_range=(0, n_pre))
    assert np.allclose(first, pre.model.get_booster().inplace_predict(values), atol=1e-6)
    # the new trees split only on kept features
    trees = booster.trees_to_dataframe()
    new = trees[(trees["Tree"] >= n_pre) & (trees["Feature"] != "Leaf")]
    used = {pre.features[int(f[1:])] if f.startswith("f") else f for f in new["Feature"]}
    assert used and used <= {"M1_chi", "d_MM"}
    scores = table.set_index("model")["r2_mean"]
    assert list(table["model"]) == ["transfer", "scratch", "pretrained_only"]
    assert scores["transfer"] > max(scores["scratch"], scores["pretrained_only"]), table


def test_transfer_cli_writes_a_model_that_screens(pretrained, tmp_path):
    result = _invoke("ml", "transfer", "--pretrained", str(pretrained / "pre"),
                     "--table", str(pretrained / "site.csv"), "--target", "e",
                     "--groups", "element", "--groups", "structure", "--extra-trees", "10",
                     "--folds", "3", "--ensemble", "2", "--out", str(tmp_path / "tr"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "transfer" in result.output and "scratch" in result.output
    meta = json.loads((tmp_path / "tr" / "meta.json").read_text())
    assert meta["transfer"]["kept"] == ["M1_chi", "d_MM"] and meta["transfer"]["extra_trees"] == 10
    loaded = load_fit(tmp_path / "tr")
    assert isinstance(loaded, TransferredModel) and len(loaded.ensemble) == 2
    site = pd.read_csv(pretrained / "site.csv")
    pred, std = loaded.predict(site)
    assert pred.shape == (30,) and (std >= 0).all()
    screen = _invoke("ml", "screen", "--model", str(tmp_path / "tr"), "--metal", "Fe",
                     "--metal", "Co", "--top", "2", "--out", str(tmp_path / "next.yaml"))  # fmt: skip
    assert screen.exit_code == 0, screen.output
    assert len(yaml.safe_load((tmp_path / "next.yaml").read_text())["substrates"]) == 2
    bad = _invoke("ml", "transfer", "--pretrained", str(tmp_path), "--table",
                  str(pretrained / "site.csv"), "--target", "e")  # fmt: skip
    assert bad.exit_code == 2 and "--pretrained" in bad.stderr


def test_trimetallic_fit_and_screen(tmp_path):
    pool = ["Fe", "Co", "Ni", "Cu", "Mn"]
    sites = trimetallic_sites(pool)
    assert len(sites) == 35  # triples with repetition of 5 metals
    frame = feature_frame(sites).reset_index()
    frame["e"] = -1.0 - 0.2 * frame["tri_mean_n_d"] + 0.1 * frame["M3_chi"]  # SYNTHETIC
    train = frame.iloc[::2].drop(columns=[c for c in frame.columns if c.startswith("n_") and
                                          frame[c].nunique() == 1])  # fmt: skip
    train.to_csv(tmp_path / "tri.csv", index=False)
    fit = _invoke("ml", "fit", "--table", str(tmp_path / "tri.csv"), "--target", "e",
                  "--baseline", "linear", "--out", str(tmp_path / "fit"), *FAST)  # fmt: skip
    assert fit.exit_code == 0, fit.output
    out = tmp_path / "next.csv"
    args = ["ml", "screen", "--model", str(tmp_path / "fit"), "--top", "4",
            "--ranking", str(tmp_path / "rank.csv")] + sum((["--metal", m] for m in pool), [])  # fmt: skip
    result = _invoke(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert sorted(ranking["site"]) == sorted(frame["site"].iloc[1::2])  # the 17 unseen triples
    assert ranking["site"].str.endswith("-N8").all()
    best = ranking.iloc[0]["site"]
    truth = frame.set_index("site")["e"]
    assert truth[best] <= truth[ranking["site"]].median()  # learned trend: best is below median
    assert len(pd.read_csv(out)) == 4
    yaml_out = _invoke(*args, "--out", str(tmp_path / "next.yaml"))
    assert yaml_out.exit_code == 2 and "--out" in yaml_out.stderr


def _literature_table() -> pd.DataFrame:
    """A catalyst × adsorbate table (categorical only), additive SYNTHETIC energies, 4 gaps."""
    rng = np.random.default_rng(2)
    catalysts = {"Fe": -1.0, "Co": -0.8, "Ni": -0.6, "Cu": -0.3, "Mo": -1.4, "Ti": -1.6,
                 "V": -1.3, "Cr": -1.1, "Mn": -0.9, "Zn": -0.2}  # fmt: skip
    adsorbates = {"Li2S": -0.5, "Li2S2": -0.2, "Li2S4": 0.0, "Li2S6": 0.2, "Li2S8": 0.3}
    rows = [
        {"catalyst": c, "adsorbate": a, "e": ec + ea + 0.02 * rng.normal()}
        for c, ec in catalysts.items()
        for a, ea in adsorbates.items()
    ]
    gaps = {("Mo", "Li2S"), ("Ti", "Li2S4"), ("Cu", "Li2S8"), ("Fe", "Li2S6")}
    return pd.DataFrame([r for r in rows if (r["catalyst"], r["adsorbate"]) not in gaps])


def test_screen_on_a_table_model(tmp_path):
    _literature_table().to_csv(tmp_path / "lit.csv", index=False)
    cat = ["--categorical", "catalyst", "--categorical", "adsorbate"]
    out = tmp_path / "next.csv"
    result = _invoke("ml", "screen", "--table", str(tmp_path / "lit.csv"), "--target", "e", *cat,
                     "--top", "2", "--folds", "3", "--estimators", "20",
                     "--out", str(out), "--ranking", str(tmp_path / "rank.csv"))  # fmt: skip
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert sorted(ranking["candidate"]) == sorted(
        ["catalyst=Mo, adsorbate=Li2S", "catalyst=Ti, adsorbate=Li2S4",
         "catalyst=Cu, adsorbate=Li2S8", "catalyst=Fe, adsorbate=Li2S6"]
    )  # fmt: skip
    assert ranking.iloc[0]["candidate"] == "catalyst=Mo, adsorbate=Li2S"  # true -1.9 eV, lowest
    assert len(pd.read_csv(out)) == 2
    # a saved table model screens too, on the gaps or on a candidate table
    fit = _invoke("ml", "fit", "--table", str(tmp_path / "lit.csv"), "--target", "e", *cat,
                  "--out", str(tmp_path / "fit"), *FAST)  # fmt: skip
    assert fit.exit_code == 0, fit.output
    pd.DataFrame({"catalyst": ["Ti", "Cu"], "adsorbate": ["Li2S", "Li2S"]}).to_csv(
        tmp_path / "cand.csv", index=False
    )
    saved = _invoke("ml", "screen", "--model", str(tmp_path / "fit"), "--candidates",
                    str(tmp_path / "cand.csv"), "--top", "1", "--out", str(out))  # fmt: skip
    assert saved.exit_code == 0, saved.output
    assert pd.read_csv(out)["candidate"].tolist() == ["catalyst=Ti, adsorbate=Li2S"]
    bad = pd.DataFrame({"catalyst": ["Pt"], "adsorbate": ["Li2S"]})
    bad.to_csv(tmp_path / "bad.csv", index=False)
    unknown = _invoke("ml", "screen", "--model", str(tmp_path / "fit"), "--candidates",
                      str(tmp_path / "bad.csv"), "--out", str(out))  # fmt: skip
    assert unknown.exit_code == 2 and "catalyst: categories not in the training table" in (
        unknown.stderr
    )
    as_study = _invoke("ml", "screen", "--model", str(tmp_path / "fit"), "--out",
                       str(tmp_path / "next.yaml"))  # fmt: skip
    assert as_study.exit_code == 2 and "--out" in as_study.stderr
