"""Baseline models scored next to the selection stages, and prediction with uncertainty.

Baselines (all on every input feature, scikit-learn/XGBoost defaults unless stated):

- ``rf``: ``RandomForestRegressor()`` (100 trees), inner score = out-of-bag R² of the fit on the
  training part (no extra fits; bootstrap out-of-bag rows play the inner held-out rows);
- ``xgb_default``: ``XGBRegressor()`` with default hyper-parameters (100 trees, depth 6,
  learning rate 0.3), inner score = inner K-fold R²;
- ``linear``: standardised features → ``RidgeCV`` (alphas 10^-3 … 10^3, 13 values, efficient
  leave-one-out), inner score = inner K-fold R².

Uncertainty (target units): standard deviation over the bootstrap ensemble; for ``rf`` over its
trees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBRegressor

from lisflow.ml.selection import ModelConfig, inner_cv

#: Baseline candidates, in table order.
BASELINES = ("rf", "xgb_default", "linear")
#: Ridge penalties tried by the linear baseline.
RIDGE_ALPHAS = tuple(np.logspace(-3, 3, 13))


def make_baseline(name: str, config: ModelConfig, seed: int | None = None):
    """An unfitted baseline model (defaults; seeded, ``n_jobs`` fixed)."""
    seed = config.seed if seed is None else seed
    if name == "rf":
        return RandomForestRegressor(random_state=seed, n_jobs=config.n_jobs, oob_score=True)
    if name == "xgb_default":
        return XGBRegressor(random_state=seed, n_jobs=config.n_jobs)
    if name == "linear":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS))
    raise ValueError(f"unknown baseline {name!r}")


def fit_baseline(
    name: str, config: ModelConfig, x: np.ndarray, y: np.ndarray
) -> tuple[Any, float]:
    """Fit ``name`` on (x, y); return the fitted scikit-learn model and its inner score (see
    module docstring)."""
    model = make_baseline(name, config).fit(x, y)
    if name == "rf":
        return model, float(model.oob_score_)
    scores = []
    for train, test in inner_cv(config).split(x):
        member = clone(model).fit(x[train], y[train])
        scores.append(r2_score(y[test], member.predict(x[test])))
    return model, float(np.mean(scores))


def model_kind(model) -> str:
    """``xgb`` (XGBoost), ``rf`` (random forest) or ``linear`` (scaler + ridge pipeline)."""
    if isinstance(model, XGBRegressor):
        return "xgb"
    if isinstance(model, RandomForestRegressor):
        return "rf"
    return "linear"


def predict_with_spread(model, ensemble: list, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and its uncertainty (ensemble std; tree std for a random forest)."""
    values = x.to_numpy(dtype=float)
    prediction = np.asarray(model.predict(values), dtype=float)
    if isinstance(model, RandomForestRegressor):
        spread = np.array([tree.predict(values) for tree in model.estimators_])
    elif ensemble:
        spread = np.array([m.predict(values) for m in ensemble])
    else:
        return prediction, np.zeros(len(x))
    return prediction, spread.std(axis=0).astype(float)


def importance(model, features: list[str]) -> np.ndarray:
    """Normalised importance: gain (XGBoost), impurity (RF), |standardised coefficient| (linear)."""
    if hasattr(model, "feature_importances_"):
        values = np.asarray(model.feature_importances_, dtype=float)
    else:
        values = np.abs(np.asarray(model[-1].coef_, dtype=float))
    total = values.sum()
    return values / total if total > 0 else np.zeros(len(features))
