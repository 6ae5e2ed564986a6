"""Write a fit to a directory: tables (CSV), plots (PNG, matplotlib Agg), models (XGBoost JSON).

Directory layout (written whole through ``atomic_directory``):

- ``stage_table.csv`` / ``stage_table.png``: stage, features kept, R² mean ± std (nested CV);
- ``features.json``: the final model's features and the stable set of every stage;
- ``stability.csv`` / ``stability.png``: selection frequency of every feature per stage over
  the outer-fold selections (stability selection) and the stable final set;
- ``importance.csv`` / ``importance.png``: gain importance of the final model (all rows) and
  outer-fold permutation importance (drop of R² on held-out rows); ``shap.csv`` if ``shap`` is
  installed (mean |SHAP value| per feature);
- ``predictions.csv`` / ``parity.png``: out-of-fold predictions of the final stage;
- ``correlation.csv`` / ``correlation.png``: Pearson r of the features kept by the filter;
- ``model.json`` (XGBoost) or ``model.joblib`` (random forest, linear), ``ensemble/member_<i>``:
  final model (the candidate chosen by inner CV) and bootstrap ensemble;
- ``meta.json``: target, features, settings, known sites, library versions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
import xgboost  # noqa: E402
from xgboost import XGBRegressor  # noqa: E402

from lisflow.errors import InputError  # noqa: E402
from lisflow.fsutil import atomic_directory  # noqa: E402
from lisflow.ml.models import importance, model_kind, predict_with_spread  # noqa: E402
from lisflow.ml.pipeline import STABLE_THRESHOLD, FitResult  # noqa: E402
from lisflow.ml.selection import ModelConfig  # noqa: E402

if TYPE_CHECKING:
    from lisflow.ml.transfer import TransferredModel

#: PNG resolution (dots per inch).
DPI = 120


def importance_table(result: FitResult) -> pd.DataFrame:
    """Importance of the final model's features (gain / impurity / |standardised coefficient|,
    normalised) and the outer-fold permutation importance of the final stage."""
    table = pd.DataFrame(
        {"feature": result.features, "gain": importance(result.model, result.features)}
    )
    table = table.merge(result.permutation, on="feature", how="left")
    return table.sort_values(["gain", "feature"], ascending=[False, True], kind="mergesort")


def _save_png(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    path.write_bytes(buffer.getvalue())


def stage_figure(table: pd.DataFrame):
    """R² (nested CV) per candidate with ±std error bars; features kept written above the
    error bar (never on it)."""
    colours = {"stage": "#4477aa", "baseline": "#bbbbbb", "inner-CV choice": "#ee6677"}
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.bar(table["candidate"], table["r2_mean"], yerr=table["r2_std"], capsize=4,
           color=[colours[k] for k in table["kind"]])  # fmt: skip
    tops = [max(m + (s if s == s else 0.0), 0.0) for m, s in zip(table["r2_mean"], table["r2_std"], strict=True)]
    pad = 0.03 * max(max(tops, default=1.0), 0.1)
    for i, (row, top) in enumerate(zip(table.itertuples(), tops, strict=True)):
        label = f"{row.features_kept}" + (" (skip)" if row.skipped_folds else "")
        ax.annotate(label, (i, top + pad), ha="center", va="bottom", fontsize=7)
    ax.set_ylim(top=max(max(tops, default=1.0) * 1.15 + pad, 0.1))
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    ax.legend(handles, list(colours), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_ylabel("R² (nested CV, mean ± std)")
    ax.set_xlabel("candidate model (number: features kept)")
    ax.tick_params(axis="x", rotation=30)
    return fig


def _stage_plot(table: pd.DataFrame, path: Path) -> None:
    _save_png(stage_figure(table), path)


def _stability_plot(table: pd.DataFrame, n_selections: int, path: Path) -> None:
    top = table.head(30).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(top) + 1.4))
    colours = ["#228833" if s else "#bbbbbb" for s in top["stable_final"]]
    ax.barh(top["feature"], top["freq_final"], color=colours)
    ax.axvline(STABLE_THRESHOLD, color="k", ls="--", lw=1, label=f"threshold {STABLE_THRESHOLD}")
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(f"selection frequency, final stage ({n_selections} outer-fold selections)")
    ax.set_ylabel("feature (green: stable set)")
    ax.legend(loc="lower right", fontsize=8)
    _save_png(fig, path)


def parity_figure(pred: pd.DataFrame, target: str):
    """Out-of-fold prediction against reference, one colour per outer fold; R² and MAE of all
    out-of-fold rows in the legend; axes "target (unit)"."""
    from lisflow.plotstyle import axis_label

    y, p = pred["y_true"].to_numpy(float), pred["y_pred"].to_numpy(float)
    r2 = 1.0 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2))
    mae = float(np.mean(np.abs(y - p)))
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    for fold, rows in pred.groupby("fold", sort=True):
        ax.scatter(rows["y_true"], rows["y_pred"], s=14, alpha=0.8, label=f"fold {fold}")
    lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
    label = axis_label(target)
    unit = label[label.rfind("(") + 1 : -1] if label.endswith(")") else ""
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label=f"y = x; R² = {r2:.3f}, MAE = {mae:.3g} {unit}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"reference {label}")
    ax.set_ylabel(f"predicted {label} (out-of-fold)")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def _parity_plot(pred: pd.DataFrame, target: str, path: Path) -> None:
    _save_png(parity_figure(pred, target), path)


def _importance_plot(table: pd.DataFrame, path: Path) -> None:
    top = table.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(top) + 1))
    ax.barh(top["feature"], 100 * top["gain"], color="#228833")
    ax.set_xlabel("gain importance (%)")
    ax.set_ylabel("feature")
    _save_png(fig, path)


def correlation_figure(corr: pd.DataFrame):
    """Pearson r heat map; the figure grows with the features so labels stay at 7 pt."""
    n = len(corr)
    side = max(4.0, 0.16 * n + 2.5)
    fig, ax = plt.subplots(figsize=(side + 1.0, side))
    image = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(n), corr.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(n), corr.columns, fontsize=7)
    ax.set_title(f"Pearson r of the {n} features kept by the filter stage", fontsize=9)
    fig.colorbar(image, ax=ax, label="Pearson r", shrink=0.8)
    return fig


def _correlation_plot(corr: pd.DataFrame, path: Path) -> None:
    _save_png(correlation_figure(corr), path)


def _shap_table(result: FitResult, x: pd.DataFrame) -> pd.DataFrame | None:
    if importlib.util.find_spec("shap") is None:
        return None
    import shap

    values = shap.TreeExplainer(result.model).shap_values(x[result.features])
    return pd.DataFrame({"feature": result.features, "mean_abs_shap": np.abs(values).mean(axis=0)})


def _save_model(model, path: Path) -> str:
    """XGBoost: native JSON; scikit-learn models: joblib. Returns the file name."""
    if model_kind(model) == "xgb":
        model.save_model(path.with_suffix(".json"))
        return path.with_suffix(".json").name
    joblib.dump(model, path.with_suffix(".joblib"))
    return path.with_suffix(".joblib").name


def model_params(model) -> dict:
    """JSON-safe hyper-parameters of an XGBoost model (empty for other kinds)."""
    if model_kind(model) != "xgb":
        return {}
    params = model.get_xgb_params()
    return {k: v for k, v in params.items() if isinstance(v, int | float | str) and v is not None}


def _load_model(path: Path):
    if path.suffix == ".json":
        model = XGBRegressor()
        model.load_model(path)
        return model
    return joblib.load(path)


def write_fit(
    result: FitResult,
    x: pd.DataFrame,
    out: str | Path,
    known_sites: list[str] | None = None,
    encoding: dict | None = None,
) -> Path:
    """Write every output of ``result`` (fitted on ``x``) to directory ``out`` atomically.

    ``encoding``: how the table was turned into features (drop/categorical levels), kept in
    ``meta.json`` so that ``ml screen`` can encode candidate rows the same way."""
    with atomic_directory(out) as tmp:
        result.stage_table.to_csv(tmp / "stage_table.csv", index=False)
        _stage_plot(result.stage_table, tmp / "stage_table.png")
        (tmp / "features.json").write_text(
            json.dumps({"final_model": result.features, "stable": result.stable_sets}, indent=1)
        )
        result.stability.to_csv(tmp / "stability.csv", index=False)
        _stability_plot(result.stability, result.folds * result.repeats, tmp / "stability.png")
        imp = importance_table(result)
        imp.to_csv(tmp / "importance.csv", index=False)
        _importance_plot(imp, tmp / "importance.png")
        shap_table = _shap_table(result, x)
        if shap_table is not None:
            shap_table.to_csv(tmp / "shap.csv", index=False)
        result.predictions.to_csv(tmp / "predictions.csv", index=False)
        _parity_plot(result.predictions, result.target, tmp / "parity.png")
        corr = x[result.filter_stage.selected_].corr(method="pearson")
        corr.to_csv(tmp / "correlation.csv")
        _correlation_plot(corr, tmp / "correlation.png")
        model_file = _save_model(result.model, tmp / "model")
        (tmp / "ensemble").mkdir()
        for i, member in enumerate(result.ensemble):
            _save_model(member, tmp / "ensemble" / f"member_{i}")
        meta = {
            "target": result.target,
            "features": result.features,
            "chosen": result.chosen,
            "model_kind": model_kind(result.model),
            "model_file": model_file,
            "folds": result.folds,
            "repeats": result.repeats,
            "stable_threshold": STABLE_THRESHOLD,
            "config": dataclasses.asdict(result.config),
            "final_max_depth": result.final_max_depth,
            "model_params": model_params(result.model),
            "n_rows": len(x),
            "known_sites": known_sites or [],
            "encoding": encoding or {},
            "versions": {"xgboost": xgboost.__version__, "scikit-learn": sklearn.__version__},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return Path(out)


def write_transfer(model, table: pd.DataFrame, out: str | Path, meta: dict) -> Path:
    """Write a transferred model (:mod:`lisflow.ml.transfer`) like a fit directory."""
    with atomic_directory(out) as tmp:
        table.to_csv(tmp / "transfer_table.csv", index=False)
        model_file = _save_model(model.model, tmp / "model")
        (tmp / "ensemble").mkdir()
        for i, member in enumerate(model.ensemble):
            _save_model(member, tmp / "ensemble" / f"member_{i}")
        full = {**model.meta, **meta, "model_file": model_file}
        full["versions"] = {"xgboost": xgboost.__version__, "scikit-learn": sklearn.__version__}
        (tmp / "meta.json").write_text(json.dumps(full, indent=1))
    return Path(out)


@dataclass
class SavedModel:
    """A model directory read back: final model, ensemble and metadata."""

    meta: dict
    model: object
    ensemble: list

    @property
    def features(self) -> list[str]:
        return list(self.meta["features"])

    @property
    def config(self) -> ModelConfig:
        return ModelConfig(**self.meta["config"])

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and its uncertainty (target units)."""
        return predict_with_spread(self.model, self.ensemble, x[self.features])


def load_fit(directory: str | Path) -> SavedModel | TransferredModel:
    """Read a directory written by :func:`write_fit`."""
    root = Path(directory)
    meta_path = root / "meta.json"
    if not meta_path.is_file():
        raise InputError("--model", f"{root} is not a model directory (no meta.json)")
    meta = json.loads(meta_path.read_text())
    model_path = root / meta.get("model_file", "model.json")
    if not model_path.is_file():
        raise InputError("--model", f"{root} has no model file {model_path.name}")
    ensemble = [
        _load_model(path)
        for path in sorted(
            (p for p in (root / "ensemble").glob("member_*") if p.suffix in (".json", ".joblib")),
            key=lambda p: int(p.stem.split("_")[1]),
        )
    ]
    if meta.get("transfer"):
        from lisflow.ml.transfer import TransferredModel

        return TransferredModel.from_saved(meta, _load_model(model_path), ensemble)
    return SavedModel(meta, _load_model(model_path), ensemble)
