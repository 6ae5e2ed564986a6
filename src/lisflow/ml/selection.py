"""Three-stage feature selection of paper 002 (Fig. 1a): filter → wrapper → embedded XGBoost.

- :class:`FilterStage`: drop constant features, then for every pair with |Pearson r| above
  the threshold (paper: 0.7) drop one. Deterministic: features are visited in order of
  decreasing |r| with the target (ties: column order) and kept only if no kept feature
  correlates above the threshold, so of each correlated pair the one more correlated with the
  target survives.
- :class:`WrapperStage`: backward elimination by halving: rank by XGBoost gain (averaged over
  the inner-CV models), keep the better half, re-score, and stop after
  :data:`WRAPPER_PATIENCE` halvings without improvement (early stopping); the best-scored set
  wins (smaller on ties). Cost: ~log2(n) inner CVs instead of RFECV's n/step.
- :class:`EmbeddedStage`: XGBoost gain importance; keep the top-k features, k chosen by
  cross-validated R² among the cumulative-gain cut-offs :data:`GAIN_CUTOFFS`.
- :class:`FinalStage`: keep the selected features of the allowed groups (paper 002: "site,
  structural and component features") and pick XGBoost depth by cross-validated R².

Every stage is scored by the inner-CV R² (:class:`InnerScorer`, cached per feature set and
depth); a stage that does not improve on the stage before it is *skipped* (its output is its
input) and recorded as such, unless it is a required restriction (``final_allowed``).

All randomness is seeded; XGBoost runs with ``tree_method="hist"`` and a fixed ``n_jobs``.
Selection models use :attr:`ModelConfig.max_bin` = 32 histogram bins (3× cheaper than 256 on
150 × 60, measured in benchmarks/bench_ml.py; with ≤ 500 rows few features have more levels).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from xgboost import XGBRegressor

#: Cumulative normalised gain at which the embedded stage considers cutting the ranking.
GAIN_CUTOFFS = (0.6, 0.8, 0.9, 0.95, 1.0)
#: Tree depths tried by the final stage.
FINAL_DEPTHS = (2, 3, 4)
#: Halvings without improvement after which the wrapper stops.
WRAPPER_PATIENCE = 2
#: Stages in order; ``all`` is every input column.
STAGES = ("all", "filter", "wrapper", "embedded", "final")


@dataclass(frozen=True)
class ModelConfig:
    """XGBoost and cross-validation settings shared by every stage."""

    n_estimators: int = 50
    max_depth: int = 3
    learning_rate: float = 0.2
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 1.0
    reg_lambda: float = 1.0
    max_bin: int = 32
    n_jobs: int = 1
    seed: int = 0
    inner_folds: int = 3
    corr_threshold: float = 0.7
    wrapper_step: float = 0.5  # fraction dropped per wrapper step (0.5: halving)
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
        max_bin=config.max_bin,
        tree_method="hist",
        importance_type="gain",
        n_jobs=config.n_jobs,
        random_state=config.seed if seed is None else seed,
    )
    params.update(overrides)
    return XGBRegressor(**params)


def inner_cv(config: ModelConfig) -> KFold:
    return KFold(config.inner_folds, shuffle=True, random_state=config.seed)


class InnerScorer:
    """Inner-CV R² of XGBoost on feature subsets of (x, y), cached by (features, depth).

    Also keeps the mean normalised gain of the inner-CV models (for rankings without refits).
    """

    def __init__(self, x: pd.DataFrame, y: np.ndarray, config: ModelConfig) -> None:
        self.x, self.y, self.config = x, np.asarray(y, dtype=float), config
        self.splits = list(inner_cv(config).split(x))
        self._cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def _run(self, cols: tuple[str, ...], depth: int) -> tuple[float, np.ndarray]:
        key = (cols, depth)
        if key not in self._cache:
            values = self.x[list(cols)].to_numpy(dtype=float)
            scores, gain = [], np.zeros(len(cols))
            for train, test in self.splits:
                model = make_xgb(self.config, max_depth=depth).fit(values[train], self.y[train])
                scores.append(r2_score(self.y[test], model.predict(values[test])))
                g = np.asarray(model.feature_importances_, dtype=float)
                gain += g / g.sum() if g.sum() > 0 else 0.0
            self._cache[key] = (float(np.mean(scores)), gain / len(self.splits))
        return self._cache[key]

    def score(self, cols: list[str], depth: int | None = None) -> float:
        return self._run(tuple(cols), depth or self.config.max_depth)[0]

    def gain(self, cols: list[str]) -> np.ndarray:
        return self._run(tuple(cols), self.config.max_depth)[1]


def cv_r2(config: ModelConfig, x: pd.DataFrame, y: np.ndarray, **overrides) -> float:
    """Mean inner-CV R² of XGBoost on ``x`` (uncached; ``overrides``: XGBoost parameters)."""
    scores = []
    values = x.to_numpy(dtype=float)
    for train, test in inner_cv(config).split(values):
        model = make_xgb(config, **overrides).fit(values[train], y[train])
        scores.append(r2_score(y[test], model.predict(values[test])))
    return float(np.mean(scores))


def _ranking(cols: list[str], gain: np.ndarray) -> list[str]:
    return [cols[i] for i in sorted(range(len(cols)), key=lambda i: (-gain[i], i))]


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
    """Backward elimination by halving with early stopping (module docstring)."""

    config: ModelConfig
    selected_: list[str] = field(default_factory=list)
    path_: list[tuple[int, float]] = field(default_factory=list)  # (n features, inner R²)

    def fit(self, x: pd.DataFrame, y: np.ndarray, scorer: InnerScorer | None = None):
        scorer = scorer or InnerScorer(x, y, self.config)
        cols = list(x.columns)
        floor = max(1, min(self.config.min_features, len(cols)))
        best_cols, best = cols, scorer.score(cols)
        self.path_ = [(len(cols), best)]
        stale = 0
        while len(cols) > floor and stale < WRAPPER_PATIENCE:
            keep = max(floor, int(np.floor(len(cols) * (1 - self.config.wrapper_step))))
            keep = min(keep, len(cols) - 1)
            ranked = _ranking(cols, scorer.gain(cols))[:keep]
            cols = [c for c in cols if c in set(ranked)]
            score = scorer.score(cols)
            self.path_.append((len(cols), score))
            if score > best + 1e-12:
                best_cols, best, stale = cols, score, 0
            else:
                stale += 1
        self.selected_ = best_cols
        return self


@dataclass
class EmbeddedStage:
    """Top-k by XGBoost gain; k from :data:`GAIN_CUTOFFS` by inner-CV R² (smaller k on ties)."""

    config: ModelConfig
    selected_: list[str] = field(default_factory=list)
    importance_: dict[str, float] = field(default_factory=dict)

    def fit(self, x: pd.DataFrame, y: np.ndarray, scorer: InnerScorer | None = None):
        scorer = scorer or InnerScorer(x, y, self.config)
        cols = list(x.columns)
        gain = scorer.gain(cols)
        self.importance_ = dict(zip(cols, gain.tolist(), strict=True))
        ranking = _ranking(cols, gain)
        cumulative = np.cumsum(sorted(gain, reverse=True))
        ks = sorted(
            {min(len(gain), int(np.searchsorted(cumulative, c - 1e-12)) + 1) for c in GAIN_CUTOFFS}
        )
        best_k, best = ks[-1], -np.inf
        for k in ks:
            top = set(ranking[:k])
            score = scorer.score([c for c in cols if c in top])
            if score > best + 1e-12:
                best_k, best = k, score
        top = set(ranking[:best_k])
        self.selected_ = [c for c in cols if c in top]
        return self


@dataclass
class FinalStage:
    """Restrict to ``allowed`` features (None: all) and choose the depth by inner-CV R²."""

    config: ModelConfig
    allowed: Collection[str] | None = None
    selected_: list[str] = field(default_factory=list)
    max_depth_: int = 3
    score_: float = -np.inf

    def fit(self, x: pd.DataFrame, y: np.ndarray, scorer: InnerScorer | None = None):
        scorer = scorer or InnerScorer(x, y, self.config)
        cols = [c for c in x.columns if self.allowed is None or c in self.allowed]
        self.selected_ = cols or list(x.columns)
        scores = {d: scorer.score(self.selected_, d) for d in FINAL_DEPTHS}
        self.max_depth_ = max(FINAL_DEPTHS, key=lambda d: (round(scores[d], 12), -d))
        self.score_ = scores[self.max_depth_]
        return self

    def final_config(self) -> ModelConfig:
        return replace(self.config, max_depth=self.max_depth_)


@dataclass
class Selection:
    """Features kept by each stage (``all`` = every input column), skipped stages, inner-CV R²
    of every stage's set and the final XGBoost settings."""

    features: dict[str, list[str]]
    final_config: ModelConfig
    filter_stage: FilterStage
    embedded_importance: dict[str, float]
    skipped: dict[str, bool] = field(default_factory=dict)
    inner_r2: dict[str, float] = field(default_factory=dict)


def select_features(
    x: pd.DataFrame,
    y: np.ndarray,
    config: ModelConfig,
    final_allowed: Collection[str] | None = None,
) -> Selection:
    """Run filter → wrapper → embedded → final on (x, y); no data outside (x, y) is seen.

    A stage whose set does not raise the inner-CV R² above the previous stage's is skipped
    (output = input). The final stage is never skipped when ``final_allowed`` restricts it.
    """
    y = np.asarray(y, dtype=float)
    scorer = InnerScorer(x, y, config)
    features = {"all": list(x.columns)}
    inner = {"all": scorer.score(features["all"])}
    skipped = {"all": False}
    previous = "all"

    def settle(stage: str, cols: list[str], score: float, required: bool = False) -> None:
        nonlocal previous
        if required or score > inner[previous] + 1e-12:
            features[stage], inner[stage], skipped[stage] = cols, score, False
        else:
            features[stage], inner[stage] = features[previous], inner[previous]
            skipped[stage] = True
        previous = stage

    filt = FilterStage(config.corr_threshold).fit(x, y)
    settle("filter", filt.selected_, scorer.score(filt.selected_))
    wrap = WrapperStage(config).fit(x[features["filter"]], y, scorer)
    settle("wrapper", wrap.selected_, scorer.score(wrap.selected_))
    emb = EmbeddedStage(config).fit(x[features["wrapper"]], y, scorer)
    settle("embedded", emb.selected_, scorer.score(emb.selected_))
    final = FinalStage(config, final_allowed).fit(x[features["embedded"]], y, scorer)
    settle("final", final.selected_, final.score_, required=final_allowed is not None)
    final_config = final.final_config() if not skipped["final"] else config
    return Selection(features, final_config, filt, emb.importance_, skipped, inner)
