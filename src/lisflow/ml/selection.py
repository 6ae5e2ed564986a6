"""Three-stage feature selection of paper 002 (Fig. 1a): filter → wrapper → embedded XGBoost.

- :class:`FilterStage`: drop constant features, then for every pair with |Pearson r| above
  the threshold (paper: 0.7) drop one. Deterministic: features are visited in order of
  decreasing |r| with the target (ties: column order) and kept only if no kept feature
  correlates above the threshold, so of each correlated pair the one more correlated with the
  target survives.
- :class:`WrapperStage`: recursive feature elimination scored by cross-validated R²
  (``sklearn.feature_selection.RFECV`` around XGBoost, gain importance).
- :class:`EmbeddedStage`: XGBoost gain importance; keep the top-k features, k chosen by
  cross-validated R² among the cumulative-gain cut-offs :data:`GAIN_CUTOFFS`.
- :class:`FinalStage`: keep the selected features of the allowed groups (paper 002: "site,
  structural and component features") and pick XGBoost depth by cross-validated R².

All randomness is seeded; XGBoost runs with ``tree_method="hist"`` and a fixed ``n_jobs``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.feature_selection import RFECV
from sklearn.model_selection import KFold, cross_val_score
from xgboost import XGBRegressor

#: Cumulative normalised gain at which the embedded stage considers cutting the ranking.
GAIN_CUTOFFS = (0.6, 0.8, 0.9, 0.95, 1.0)
#: Tree depths tried by the final stage.
FINAL_DEPTHS = (2, 3, 4)


@dataclass(frozen=True)
class ModelConfig:
    """XGBoost and cross-validation settings shared by every stage."""

    n_estimators: int = 200
    max_depth: int = 3
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 1.0
    reg_lambda: float = 1.0
    n_jobs: int = 1
    seed: int = 0
    inner_folds: int = 3
    corr_threshold: float = 0.7
    wrapper_step: float = 0.1
    min_features: int = 1


def make_xgb(config: ModelConfig, seed: int | None = None, **overrides) -> XGBRegressor:
    """A seeded, deterministic XGBoost regressor (hist trees, gain importance)."""
    params = dict(
        n_estimators=config.n_estimators,
        max_depth=config.max_depth,
        learning_rate=config.learning_rate,
        subsample=config.subsample,
        colsample_bytree=config.colsample_bytree,
        min_child_weight=config.min_child_weight,
        reg_lambda=config.reg_lambda,
        tree_method="hist",
        importance_type="gain",
        n_jobs=config.n_jobs,
        random_state=config.seed if seed is None else seed,
    )
    params.update(overrides)
    return XGBRegressor(**params)


def inner_cv(config: ModelConfig) -> KFold:
    return KFold(config.inner_folds, shuffle=True, random_state=config.seed)


def cv_r2(config: ModelConfig, x: pd.DataFrame, y: np.ndarray, **overrides) -> float:
    """Mean inner-CV R² of XGBoost on ``x``."""
    model = make_xgb(config, **overrides)
    return float(np.mean(cross_val_score(model, x, y, cv=inner_cv(config), scoring="r2")))


@dataclass
class FilterStage:
    """Constant and |Pearson r| > threshold removal (see module docstring)."""

    threshold: float = 0.7
    selected_: list[str] = field(default_factory=list)
    constant_: list[str] = field(default_factory=list)
    correlated_: dict[str, str] = field(default_factory=dict)  # dropped -> kept partner

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> FilterStage:
        values = x.to_numpy(dtype=float)
        spread = values.max(axis=0) - values.min(axis=0)
        constant = spread <= 1e-12 * np.maximum(1.0, np.abs(values).max(axis=0))
        self.constant_ = [c for c, k in zip(x.columns, constant, strict=True) if k]
        cols = [c for c, k in zip(x.columns, constant, strict=True) if not k]
        v = values[:, ~constant]
        z = (v - v.mean(axis=0)) / v.std(axis=0)
        r_xx = np.abs(z.T @ z) / len(v)
        yz = (y - y.mean()) / (y.std() or 1.0)
        r_xy = np.abs(z.T @ yz) / len(v)
        order = sorted(range(len(cols)), key=lambda i: (-round(float(r_xy[i]), 12), i))
        kept: list[int] = []
        self.correlated_ = {}
        for i in order:
            partner = next((k for k in kept if r_xx[i, k] > self.threshold), None)
            if partner is None:
                kept.append(i)
            else:
                self.correlated_[cols[i]] = cols[partner]
        self.selected_ = [cols[i] for i in sorted(kept)]
        return self


@dataclass
class WrapperStage:
    """RFECV around XGBoost, scored by inner-CV R²."""

    config: ModelConfig
    selected_: list[str] = field(default_factory=list)
    cv_scores_: list[float] = field(default_factory=list)

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> WrapperStage:
        rfecv = RFECV(
            make_xgb(self.config),
            step=self.config.wrapper_step,
            min_features_to_select=min(self.config.min_features, x.shape[1]),
            cv=inner_cv(self.config),
            scoring="r2",
            n_jobs=1,
        )
        rfecv.fit(x, y)
        self.selected_ = [c for c, keep in zip(x.columns, rfecv.support_, strict=True) if keep]
        self.cv_scores_ = [float(s) for s in rfecv.cv_results_["mean_test_score"]]
        return self


@dataclass
class EmbeddedStage:
    """Top-k by XGBoost gain; k from :data:`GAIN_CUTOFFS` by inner-CV R² (smaller k on ties)."""

    config: ModelConfig
    selected_: list[str] = field(default_factory=list)
    importance_: dict[str, float] = field(default_factory=dict)

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> EmbeddedStage:
        model = make_xgb(self.config).fit(x, y)
        gain = np.asarray(model.feature_importances_, dtype=float)
        gain = gain / gain.sum() if gain.sum() > 0 else np.full(len(gain), 1.0 / len(gain))
        self.importance_ = dict(zip(x.columns, gain.tolist(), strict=True))
        ranking = [x.columns[i] for i in sorted(range(len(gain)), key=lambda i: (-gain[i], i))]
        cumulative = np.cumsum(sorted(gain, reverse=True))
        ks = sorted(
            {min(len(gain), int(np.searchsorted(cumulative, c - 1e-12)) + 1) for c in GAIN_CUTOFFS}
        )
        best_k, best = ks[-1], -np.inf
        for k in ks:
            score = cv_r2(self.config, x[ranking[:k]], y)
            if score > best + 1e-12:
                best_k, best = k, score
        self.selected_ = [c for c in x.columns if c in set(ranking[:best_k])]
        return self


@dataclass
class FinalStage:
    """Restrict to ``allowed`` features (None: all) and choose the depth by inner-CV R²."""

    config: ModelConfig
    allowed: Collection[str] | None = None
    selected_: list[str] = field(default_factory=list)
    max_depth_: int = 3

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> FinalStage:
        cols = [c for c in x.columns if self.allowed is None or c in self.allowed]
        self.selected_ = cols or list(x.columns)
        scores = {d: cv_r2(self.config, x[self.selected_], y, max_depth=d) for d in FINAL_DEPTHS}
        self.max_depth_ = max(FINAL_DEPTHS, key=lambda d: (round(scores[d], 12), -d))
        return self

    def final_config(self) -> ModelConfig:
        return replace(self.config, max_depth=self.max_depth_)


STAGES = ("all", "filter", "wrapper", "embedded", "final")


@dataclass
class Selection:
    """The features kept by each stage (``all`` = every input column) and the final depth."""

    features: dict[str, list[str]]
    final_config: ModelConfig
    filter_stage: FilterStage
    embedded_importance: dict[str, float]


def select_features(
    x: pd.DataFrame,
    y: np.ndarray,
    config: ModelConfig,
    final_allowed: Collection[str] | None = None,
) -> Selection:
    """Run filter → wrapper → embedded → final on (x, y); no data outside (x, y) is seen."""
    filt = FilterStage(config.corr_threshold).fit(x, y)
    wrap = WrapperStage(config).fit(x[filt.selected_], y)
    emb = EmbeddedStage(config).fit(x[wrap.selected_], y)
    final = FinalStage(config, final_allowed).fit(x[emb.selected_], y)
    features = {
        "all": list(x.columns),
        "filter": filt.selected_,
        "wrapper": wrap.selected_,
        "embedded": emb.selected_,
        "final": final.selected_,
    }
    return Selection(features, final.final_config(), filt, emb.importance_)
