"""Write a fit to a directory: tables (CSV), plots (PNG, matplotlib Agg), models (XGBoost JSON).

Directory layout (written whole through ``atomic_directory``):

- ``stage_table.csv`` / ``stage_table.png``: stage, features kept, R² mean ± std (nested CV);
- ``features.json``: the features kept by every stage;
- ``importance.csv`` / ``importance.png``: gain importance of the final model (all rows) and
  outer-fold permutation importance (drop of R² on held-out rows); ``shap.csv`` if ``shap`` is
  installed (mean |SHAP value| per feature);
- ``predictions.csv`` / ``parity.png``: out-of-fold predictions of the final stage;
- ``correlation.csv`` / ``correlation.png``: Pearson r of the features kept by the filter;
- ``model.json``, ``ensemble/member_<i>.json``: final model and bootstrap ensemble;
- ``meta.json``: target, features, settings, known sites, library versions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
from dataclasses import dataclass
from pathlib import Path

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
from lisflow.ml.pipeline import FitResult  # noqa: E402
from lisflow.ml.selection import ModelConfig  # noqa: E402

#: PNG resolution (dots per inch).
DPI = 120


def importance_table(result: FitResult) -> pd.DataFrame:
    """Gain (final model, normalised) and permutation importance of the final features."""
    gain = np.asarray(result.model.feature_importances_, dtype=float)
    gain = gain / gain.sum() if gain.sum() > 0 else gain
    table = pd.DataFrame({"feature": result.features, "gain": gain})
    table = table.merge(result.permutation, on="feature", how="left")
    return table.sort_values(["gain", "feature"], ascending=[False, True], kind="mergesort")


def _save_png(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    path.write_bytes(buffer.getvalue())


def _stage_plot(table: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(table["stage"], table["r2_mean"], yerr=table["r2_std"], capsize=4, color="#4477aa")
    for i, row in enumerate(table.itertuples()):
        ax.annotate(
            f"{row.features_kept}", (i, max(row.r2_mean, 0)), ha="center", va="bottom", fontsize=8
        )
    ax.set_ylabel("R² (nested CV)")
    ax.set_title("feature count above bars")
    _save_png(fig, path)


def _parity_plot(pred: pd.DataFrame, target: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(pred["y_true"], pred["y_pred"], s=12, c=pred["fold"], cmap="viridis")
    lo = float(min(pred["y_true"].min(), pred["y_pred"].min()))
    hi = float(max(pred["y_true"].max(), pred["y_pred"].max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel(f"{target} (reference)")
    ax.set_ylabel(f"{target} (out-of-fold prediction)")
    _save_png(fig, path)


def _importance_plot(table: pd.DataFrame, path: Path) -> None:
    top = table.head(20).iloc[::-1]
    fig, ax = plt.subplots(figsize=(5, 0.3 * len(top) + 1))
    ax.barh(top["feature"], 100 * top["gain"], color="#228833")
    ax.set_xlabel("gain importance (%)")
    _save_png(fig, path)


def _correlation_plot(corr: pd.DataFrame, path: Path) -> None:
    n = len(corr)
    fig, ax = plt.subplots(figsize=(2 + 0.15 * n, 1.5 + 0.15 * n))
    image = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(n), corr.columns, rotation=90, fontsize=5)
    ax.set_yticks(range(n), corr.columns, fontsize=5)
    fig.colorbar(image, ax=ax, label="Pearson r")
    _save_png(fig, path)


def _shap_table(result: FitResult, x: pd.DataFrame) -> pd.DataFrame | None:
    if importlib.util.find_spec("shap") is None:
        return None
    import shap

    values = shap.TreeExplainer(result.model).shap_values(x[result.features])
    return pd.DataFrame({"feature": result.features, "mean_abs_shap": np.abs(values).mean(axis=0)})


def write_fit(
    result: FitResult, x: pd.DataFrame, out: str | Path, known_sites: list[str] | None = None
) -> Path:
    """Write every output of ``result`` (fitted on ``x``) to directory ``out`` atomically."""
    with atomic_directory(out) as tmp:
        result.stage_table.to_csv(tmp / "stage_table.csv", index=False)
        _stage_plot(result.stage_table, tmp / "stage_table.png")
        (tmp / "features.json").write_text(json.dumps(result.selection.features, indent=1))
        imp = importance_table(result)
        imp.to_csv(tmp / "importance.csv", index=False)
        _importance_plot(imp, tmp / "importance.png")
        shap_table = _shap_table(result, x)
        if shap_table is not None:
            shap_table.to_csv(tmp / "shap.csv", index=False)
        result.predictions.to_csv(tmp / "predictions.csv", index=False)
        _parity_plot(result.predictions, result.target, tmp / "parity.png")
        corr = x[result.selection.features["filter"]].corr(method="pearson")
        corr.to_csv(tmp / "correlation.csv")
        _correlation_plot(corr, tmp / "correlation.png")
        result.model.save_model(tmp / "model.json")
        (tmp / "ensemble").mkdir()
        for i, member in enumerate(result.ensemble):
            member.save_model(tmp / "ensemble" / f"member_{i}.json")
        meta = {
            "target": result.target,
            "features": result.features,
            "folds": result.folds,
            "config": dataclasses.asdict(result.config),
            "final_max_depth": result.selection.final_config.max_depth,
            "n_rows": len(x),
            "known_sites": known_sites or [],
            "versions": {"xgboost": xgboost.__version__, "scikit-learn": sklearn.__version__},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return Path(out)


@dataclass
class SavedModel:
    """A model directory read back: final model, ensemble and metadata."""

    meta: dict
    model: XGBRegressor
    ensemble: list[XGBRegressor]

    @property
    def features(self) -> list[str]:
        return list(self.meta["features"])

    @property
    def config(self) -> ModelConfig:
        return ModelConfig(**self.meta["config"])

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and ensemble standard deviation (target units)."""
        cols = x[self.features]
        spread = np.array([m.predict(cols) for m in self.ensemble])
        std = spread.std(axis=0) if len(self.ensemble) else np.zeros(len(x))
        return self.model.predict(cols).astype(float), std.astype(float)


def load_fit(directory: str | Path) -> SavedModel:
    """Read a directory written by :func:`write_fit`."""
    root = Path(directory)
    if not (root / "meta.json").is_file() or not (root / "model.json").is_file():
        raise InputError("--model", f"{root} is not a model directory (no meta.json/model.json)")
    meta = json.loads((root / "meta.json").read_text())
    model = XGBRegressor()
    model.load_model(root / "model.json")
    ensemble = []
    for path in sorted(
        (root / "ensemble").glob("member_*.json"), key=lambda p: int(p.stem.split("_")[1])
    ):
        member = XGBRegressor()
        member.load_model(path)
        ensemble.append(member)
    return SavedModel(meta, model, ensemble)
