"""Nested cross-validation of the three-stage selection and the final XGBoost model.

Outer K-fold (shuffled, seeded): in every outer fold the whole selection
(:func:`lisflow.ml.selection.select_features`, which runs its own inner CV) is fitted on the
training part only; every stage's feature set is then scored by the R² of an XGBoost model
trained on the training part and evaluated on the held-out part. Nothing of the held-out rows
is seen by any selection step, so the R² is honest even on small data (no leakage). The
reported features per stage come from one more selection on all rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from xgboost import XGBRegressor

from lisflow.errors import InputError
from lisflow.ml.selection import STAGES, ModelConfig, Selection, make_xgb, select_features

#: Permutation-importance repeats per outer fold.
PERMUTATION_REPEATS = 5


@dataclass
class FitResult:
    """Everything a fit produces (units of the target are the caller's)."""

    target: str
    config: ModelConfig
    folds: int
    selection: Selection
    stage_table: pd.DataFrame
    predictions: pd.DataFrame  # out-of-fold predictions of the final stage
    permutation: pd.DataFrame  # outer-fold permutation importance of the final stage
    model: XGBRegressor
    ensemble: list[XGBRegressor]

    @property
    def features(self) -> list[str]:
        return self.selection.features["final"]

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Final-model prediction and ensemble standard deviation (uncertainty) for ``x``."""
        cols = x[self.features]
        spread = np.array([m.predict(cols) for m in self.ensemble]) if self.ensemble else None
        std = spread.std(axis=0) if spread is not None else np.zeros(len(x))
        return self.model.predict(cols).astype(float), std.astype(float)


def check_folds(n_rows: int, folds: int) -> None:
    if folds < 2:
        raise InputError("--folds", f"{folds} folds", ">= 2")
    if n_rows < 2 * folds:
        raise InputError(
            "--folds",
            f"{n_rows} rows are too few for {folds}-fold nested CV",
            f">= {2 * folds} rows",
        )


def nested_cv(
    x: pd.DataFrame,
    y: np.ndarray,
    config: ModelConfig,
    folds: int = 5,
    final_allowed: Collection[str] | None = None,
) -> tuple[dict[str, list[float]], dict[str, list[int]], pd.DataFrame, pd.DataFrame]:
    """Per-stage fold R², fold feature counts, out-of-fold predictions, permutation importance."""
    check_folds(len(x), folds)
    outer = KFold(folds, shuffle=True, random_state=config.seed)
    r2: dict[str, list[float]] = {s: [] for s in STAGES}
    counts: dict[str, list[int]] = {s: [] for s in STAGES}
    oof = np.full(len(x), np.nan)
    fold_of = np.zeros(len(x), dtype=int)
    perm: dict[str, list[float]] = {c: [0.0] * folds for c in x.columns}
    for k, (train, test) in enumerate(outer.split(x)):
        xt, yt, xv, yv = x.iloc[train], y[train], x.iloc[test], y[test]
        sel = select_features(xt, yt, config, final_allowed)
        for stage in STAGES:
            cols = sel.features[stage]
            cfg = sel.final_config if stage == "final" else config
            model = make_xgb(cfg).fit(xt[cols], yt)
            pred = model.predict(xv[cols])
            r2[stage].append(float(r2_score(yv, pred)))
            counts[stage].append(len(cols))
            if stage == "final":
                oof[test] = pred
                fold_of[test] = k
                imp = permutation_importance(
                    model, xv[cols], yv, scoring="r2", n_repeats=PERMUTATION_REPEATS,
                    random_state=config.seed, n_jobs=1,
                )  # fmt: skip
                for c, v in zip(cols, imp.importances_mean, strict=True):
                    perm[c][k] = float(v)
    predictions = pd.DataFrame({"row": x.index, "fold": fold_of, "y_true": y, "y_pred": oof})
    permutation = pd.DataFrame(
        {
            "feature": list(perm),
            "permutation_r2_drop_mean": [float(np.mean(v)) for v in perm.values()],
            "permutation_r2_drop_std": [float(np.std(v)) for v in perm.values()],
        }
    )
    permutation = permutation.sort_values(
        ["permutation_r2_drop_mean", "feature"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    return r2, counts, predictions, permutation


def stage_table(
    selection: Selection, r2: dict[str, list[float]], counts: dict[str, list[int]]
) -> pd.DataFrame:
    """Paper-style table: stage, features kept (all rows), mean kept in CV, R² mean ± std."""
    return pd.DataFrame(
        {
            "stage": list(STAGES),
            "features_kept": [len(selection.features[s]) for s in STAGES],
            "features_kept_cv_mean": [float(np.mean(counts[s])) for s in STAGES],
            "r2_mean": [float(np.mean(r2[s])) for s in STAGES],
            "r2_std": [float(np.std(r2[s])) for s in STAGES],
        }
    )


def fit_pipeline(
    x: pd.DataFrame,
    y: np.ndarray,
    target: str,
    config: ModelConfig | None = None,
    folds: int = 5,
    final_allowed: Collection[str] | None = None,
    n_ensemble: int = 8,
) -> FitResult:
    """Nested-CV scores, then selection and final model on all rows, plus a bootstrap ensemble
    (``n_ensemble`` models on resampled rows, seeds ``seed + i``) for uncertainties."""
    config = config or ModelConfig()
    y = np.asarray(y, dtype=float)
    r2, counts, predictions, permutation = nested_cv(x, y, config, folds, final_allowed)
    selection = select_features(x, y, config, final_allowed)
    cols = selection.features["final"]
    model = make_xgb(selection.final_config).fit(x[cols], y)
    rng = np.random.default_rng(config.seed)
    ensemble = []
    for i in range(n_ensemble):
        rows = rng.integers(0, len(x), len(x))
        member = make_xgb(selection.final_config, seed=config.seed + i + 1)
        ensemble.append(member.fit(x[cols].iloc[rows], y[rows]))
    table = stage_table(selection, r2, counts)
    return FitResult(
        target, config, folds, selection, table, predictions, permutation, model, ensemble
    )


def format_stage_table(table: pd.DataFrame) -> str:
    """Plain-text stage table (R² as mean ± std)."""
    lines = [f"{'stage':<10} {'features':>8} {'cv mean':>8}  R² (nested CV)"]
    for row in table.itertuples():
        lines.append(
            f"{row.stage:<10} {row.features_kept:>8d} {row.features_kept_cv_mean:>8.1f}"
            f"  {row.r2_mean:.3f} ± {row.r2_std:.3f}"
        )
    return "\n".join(lines)
