"""Nested cross-validation of the selection stages and the baselines; stable final features.

Outer K-fold (shuffled; ``repeats`` seeds ``seed, seed+1, …``). In every outer fold, on the
training part only: the selection (:func:`lisflow.ml.selection.select_features`, its own inner
CV, stages that do not improve the inner R² skipped) and the baselines
(:mod:`lisflow.ml.models`) are fitted and given an inner score; the candidate with the highest
inner score is the fold's *chosen* model. Every candidate, and the chosen one, is then scored
by R² on the held-out part, which no selection step has seen (the ``chosen`` row is the honest
score of the whole procedure, model choice included). Folds run in parallel (joblib, ``jobs``).

Stability selection: the selection frequency of every feature per stage over all
``folds × repeats`` outer-fold selections; a stage's *stable set* is the features selected in at
least :data:`STABLE_THRESHOLD` of them (Meinshausen & Bühlmann, J. R. Stat. Soc. B 72, 417
(2010) use thresholds 0.6–0.9). The final model (all rows) is the candidate with the highest
inner R² averaged over the outer folds, on its stable set. With ``final_allowed`` (restricted
final feature groups) the baselines see only the allowed columns and only the final stage and
the baselines are eligible, so the final model uses allowed features only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from lisflow.errors import InputError
from lisflow.ml.models import BASELINES, fit_baseline, make_baseline, predict_with_spread
from lisflow.ml.selection import STAGES, FilterStage, ModelConfig, make_xgb, select_features
from lisflow.ml.validate import check_folds

#: Permutation-importance repeats per outer fold.
PERMUTATION_REPEATS = 3
#: Minimum selection frequency of a stable feature (fraction of outer-fold selections).
STABLE_THRESHOLD = 0.6
#: Every candidate of the inner-CV choice, in table order (ties go to the earlier one).
CANDIDATES = STAGES + BASELINES
#: Stages that select features (``all`` is the no-selection reference).
SELECTING = ("filter", "wrapper", "embedded", "final")


@dataclass
class FitResult:
    """Everything a fit produces (units of the target are the caller's)."""

    target: str
    config: ModelConfig
    folds: int
    repeats: int
    stage_table: pd.DataFrame
    predictions: pd.DataFrame  # out-of-fold predictions of the chosen model (first repeat)
    permutation: pd.DataFrame  # outer-fold permutation importance of the final stage
    stability: pd.DataFrame  # feature × stage selection frequency, stable flag
    stable_sets: dict[str, list[str]]
    chosen: str  # candidate of the final model
    final_max_depth: int
    features: list[str]  # input columns of the final model
    filter_stage: FilterStage  # filter on all rows (correlation outputs)
    model: object
    ensemble: list

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Final-model prediction and its uncertainty (ensemble / tree std) for ``x``."""
        return predict_with_spread(self.model, self.ensemble, x[self.features])


def baseline_columns(columns: list[str], final_allowed: Collection[str] | None) -> list[str]:
    """Baseline inputs: every column, or the allowed ones when the final groups are restricted."""
    if final_allowed is None:
        return columns
    return [c for c in columns if c in final_allowed] or columns


def eligible(baselines: Sequence[str], final_allowed: Collection[str] | None) -> tuple[str, ...]:
    """Candidates the final model may be: all, or (restricted final groups) the final stage and
    the baselines on the allowed columns."""
    if final_allowed is None:
        return STAGES + tuple(baselines)
    return ("final", *baselines)


def _outer_fold(x, y, train, test, config, final_allowed, baselines=BASELINES) -> dict:
    """Selection, baselines, inner scores and held-out R² of one outer fold."""
    xt, yt, xv, yv = x.iloc[train], y[train], x.iloc[test], y[test]
    sel = select_features(xt, yt, config, final_allowed)
    inner, outer, pred, fitted = dict(sel.inner_r2), {}, {}, {}
    for stage in STAGES:
        cols = sel.features[stage]
        cfg = sel.final_config if stage == "final" else config
        key = (tuple(cols), cfg.max_depth)
        if key not in fitted:
            model = make_xgb(cfg).fit(xt[cols].to_numpy(float), yt)
            fitted[key] = (model, model.predict(xv[cols].to_numpy(float)))
        pred[stage] = fitted[key][1]
    base = baseline_columns(list(x.columns), final_allowed)
    for name in baselines:
        model, inner[name] = fit_baseline(name, config, xt[base].to_numpy(float), yt)
        pred[name] = model.predict(xv[base].to_numpy(float))
    candidates = STAGES + tuple(baselines)
    outer = {c: float(r2_score(yv, pred[c])) for c in candidates}
    pool = eligible(baselines, final_allowed)
    chosen = max(pool, key=lambda c: (round(inner[c], 12), -pool.index(c)))
    cols = sel.features["final"]
    final_model = fitted[(tuple(cols), sel.final_config.max_depth)][0]
    perm = permutation_importance(
        final_model, xv[cols].to_numpy(float), yv, scoring="r2",
        n_repeats=PERMUTATION_REPEATS, random_state=config.seed, n_jobs=1,
    )  # fmt: skip
    return {
        "features": sel.features,
        "skipped": sel.skipped,
        "depth": sel.final_config.max_depth,
        "inner": inner,
        "outer": outer,
        "chosen": chosen,
        "test": test,
        "prediction": pred[chosen],
        "permutation": dict(zip(cols, perm.importances_mean.tolist(), strict=True)),
    }


def nested_cv(
    x: pd.DataFrame,
    y: np.ndarray,
    config: ModelConfig,
    folds: int = 5,
    final_allowed: Collection[str] | None = None,
    repeats: int = 1,
    jobs: int = 1,
    baselines: Sequence[str] = BASELINES,
    progress: Callable[..., None] | None = None,
) -> list[list[dict]]:
    """Per repeat (seed ``config.seed + r``), per outer fold: the :func:`_outer_fold` record.

    ``progress(text)`` is called once per finished outer fold (in order)."""
    check_folds(len(x), folds)
    if repeats < 1:
        raise InputError("--repeats", f"{repeats}", ">= 1")
    tasks = []
    for r in range(repeats):
        cfg = replace(config, seed=config.seed + r)
        outer = KFold(folds, shuffle=True, random_state=cfg.seed)
        tasks += [(r, tr, te, cfg) for tr, te in outer.split(x)]
    records = []
    for i, record in enumerate(Parallel(n_jobs=jobs, return_as="generator")(
        delayed(_outer_fold)(x, y, tr, te, cfg, final_allowed, tuple(baselines))
        for _, tr, te, cfg in tasks
    )):  # fmt: skip
        records.append(record)
        if progress is not None:
            progress(f"outer fold {i + 1}/{len(tasks)}")
    return [
        [rec for (r, *_), rec in zip(tasks, records, strict=True) if r == k] for k in range(repeats)
    ]


def stability(columns: list[str], runs: list[list[dict]]) -> tuple[pd.DataFrame, dict]:
    """Selection frequency of every feature per stage and the stable set of every stage."""
    records = [rec for run in runs for rec in run]
    freq = {
        stage: [sum(c in set(rec["features"][stage]) for rec in records) / len(records)
                for c in columns]
        for stage in STAGES
    }  # fmt: skip
    table = pd.DataFrame({"feature": columns, **{f"freq_{s}": v for s, v in freq.items()}})
    stable = {}
    for stage in STAGES:
        f = np.asarray(freq[stage])
        cut = STABLE_THRESHOLD if (f >= STABLE_THRESHOLD).any() else f.max()
        stable[stage] = [c for c, v in zip(columns, f, strict=True) if v >= cut - 1e-12]
    table["stable_final"] = [c in set(stable["final"]) for c in columns]
    table = table.sort_values(["freq_final", "freq_embedded", "feature"],
                              ascending=[False, False, True], kind="mergesort")  # fmt: skip
    return table.reset_index(drop=True), stable


def stage_table(
    runs: list[list[dict]], stable: dict, chosen: str, n_final: int, n_base: int
) -> pd.DataFrame:
    """One row per candidate and one ``chosen`` row (the inner-CV choice per fold)."""
    records = [rec for run in runs for rec in run]
    rows = []
    for name in (*records[0]["outer"], "chosen"):
        scores = [rec["outer"][name] if name != "chosen" else rec["outer"][rec["chosen"]]
                  for rec in records]  # fmt: skip
        per_seed = [
            np.mean([rec["outer"][name if name != "chosen" else rec["chosen"]] for rec in run])
            for run in runs
        ]
        is_stage = name in STAGES
        rows.append({
            "candidate": name,
            "kind": "stage" if is_stage else ("baseline" if name in BASELINES else "inner-CV choice"),
            "features_kept": (len(stable[name]) if is_stage
                              else n_final if name == "chosen" else n_base),
            "features_kept_cv_mean": float(np.mean([len(rec["features"][name]) for rec in records]))
            if is_stage else np.nan,
            "inner_r2_mean": float(np.mean([rec["inner"][name] for rec in records]))
            if name != "chosen" else np.nan,
            "r2_mean": float(np.mean(scores)),
            "r2_std": float(np.std(scores)),
            "r2_seed_std": float(np.std(per_seed)),
            "skipped_folds": int(sum(rec["skipped"][name] for rec in records)) if is_stage else 0,
            "chosen_folds": len(records)
            if name == "chosen"
            else int(sum(rec["chosen"] == name for rec in records)),
            "final_model": name == chosen,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _final_model(x, y, config, name, stable, depth, n_ensemble, base):
    cols = base if name in BASELINES else stable[name]
    values = x[cols].to_numpy(float)
    rng = np.random.default_rng(config.seed)
    if name in BASELINES:
        model = make_baseline(name, config).fit(values, y)
        members = 0 if name == "rf" else n_ensemble
        build = lambda i: make_baseline(name, config, seed=config.seed + i + 1)  # noqa: E731
    else:
        cfg = replace(config, max_depth=depth) if name == "final" else config
        model = make_xgb(cfg).fit(values, y)
        members = n_ensemble
        build = lambda i: make_xgb(cfg, seed=config.seed + i + 1)  # noqa: E731
    ensemble = []
    for i in range(members):
        rows = rng.integers(0, len(x), len(x))
        ensemble.append(build(i).fit(values[rows], y[rows]))
    return cols, model, ensemble


def fit_pipeline(
    x: pd.DataFrame,
    y: np.ndarray,
    target: str,
    config: ModelConfig | None = None,
    folds: int = 5,
    final_allowed: Collection[str] | None = None,
    n_ensemble: int = 8,
    repeats: int = 1,
    jobs: int = 1,
    baselines: Sequence[str] = BASELINES,
    progress: Callable[..., None] | None = None,
) -> FitResult:
    """Nested CV (see module docstring), stable sets, then the chosen model on all rows plus a
    bootstrap ensemble (``n_ensemble`` models on resampled rows, seeds ``seed + i + 1``).
    ``progress(text)``: called after each outer fold and after the final fit."""
    config = config or ModelConfig()
    y = np.asarray(y, dtype=float)
    runs = nested_cv(x, y, config, folds, final_allowed, repeats, jobs, baselines, progress)
    records = [rec for run in runs for rec in run]
    columns = list(x.columns)
    freq, stable = stability(columns, runs)
    pool = eligible(baselines, final_allowed)
    inner = {c: np.mean([rec["inner"][c] for rec in records]) for c in pool}
    chosen = max(pool, key=lambda c: (round(float(inner[c]), 12), -pool.index(c)))
    depth = Counter(rec["depth"] for rec in records).most_common(1)[0][0]
    base = baseline_columns(columns, final_allowed)
    cols, model, ensemble = _final_model(x, y, config, chosen, stable, depth, n_ensemble, base)
    if progress is not None:
        progress(f"final {chosen} model + {n_ensemble} ensemble members")
    table = stage_table(runs, stable, chosen, len(cols), len(base))
    first = runs[0]
    oof = np.full(len(x), np.nan)
    fold_of = np.zeros(len(x), dtype=int)
    picked = [""] * len(x)
    for k, rec in enumerate(first):
        oof[rec["test"]] = rec["prediction"]
        fold_of[rec["test"]] = k
        for i in rec["test"]:
            picked[i] = rec["chosen"]
    predictions = pd.DataFrame(
        {"row": x.index, "fold": fold_of, "candidate": picked, "y_true": y, "y_pred": oof}
    )
    perm = {c: [rec["permutation"].get(c, 0.0) for rec in records] for c in columns}
    permutation = pd.DataFrame(
        {
            "feature": columns,
            "permutation_r2_drop_mean": [float(np.mean(v)) for v in perm.values()],
            "permutation_r2_drop_std": [float(np.std(v)) for v in perm.values()],
        }
    ).sort_values(
        ["permutation_r2_drop_mean", "feature"], ascending=[False, True], kind="mergesort"
    )
    filt = FilterStage(config.corr_threshold).fit(x, y)
    return FitResult(
        target, config, folds, repeats, table, predictions, permutation.reset_index(drop=True),
        freq, stable, chosen, depth, cols, filt, model, ensemble,
    )  # fmt: skip


def selection_verdict(table: pd.DataFrame) -> list[str]:
    """Plain-language lines: did selection beat the no-selection candidates, and what was chosen."""
    t = table.set_index("candidate")
    sel = max(SELECTING, key=lambda c: t.loc[c, "r2_mean"])
    ref = max(("all", *[b for b in BASELINES if b in t.index]), key=lambda c: t.loc[c, "r2_mean"])
    a, b = t.loc[sel], t.loc[ref]
    helped = a["r2_mean"] > b["r2_mean"]
    word = "YES" if helped else "NO"
    sign = ">" if helped else "<="
    chosen = t.index[t["final_model"]][0]
    return [
        f"selection helped: {word} (best selected stage {sel} {a.r2_mean:.3f} ± {a.r2_std:.3f} "
        f"{sign} best without selection {ref} {b.r2_mean:.3f} ± {b.r2_std:.3f}, nested CV)",
        f"final model: {chosen} (highest inner-CV R² {t.loc[chosen, 'inner_r2_mean']:.3f}); "
        f"whole procedure incl. this choice: {t.loc['chosen', 'r2_mean']:.3f} ± "
        f"{t.loc['chosen', 'r2_std']:.3f}",
    ]


def format_stage_table(table: pd.DataFrame) -> str:
    """Plain-text stage-and-baseline table (R² mean ± std over outer folds) and the verdict."""
    lines = [f"{'candidate':<12} {'kind':<9} {'features':>8} {'inner R²':>9}  "
             f"{'R² (nested CV)':<16} notes"]  # fmt: skip
    n = int(table.loc[table["candidate"] == "chosen", "chosen_folds"].iloc[0])
    for row in table.itertuples():
        notes = []
        if row.skipped_folds:
            notes.append(f"skipped in {row.skipped_folds}/{n} folds (no inner gain)")
        if row.candidate != "chosen" and row.chosen_folds:
            notes.append(f"chosen in {row.chosen_folds}/{n} folds")
        if row.final_model:
            notes.append("FINAL MODEL")
        inner = "" if np.isnan(row.inner_r2_mean) else f"{row.inner_r2_mean:.3f}"
        kind = "choice" if row.kind == "inner-CV choice" else row.kind
        lines.append(
            f"{row.candidate:<12} {kind:<9} {row.features_kept:>8d} {inner:>9}  "
            f"{row.r2_mean:.3f} ± {row.r2_std:.3f}  {'; '.join(notes)}"
        )
    return "\n".join(lines + selection_verdict(table))
