"""Benchmark: whole ML fit (nested CV of stages + baselines, stability, final model, ensemble)
against one plain 5-fold RandomForest CV (scikit-learn defaults) on the same table, same run.

Tables: ``lisflow.ml.datasets.planted_table`` with 150 × 60 and 500 × 180 features (6
informative, n/8 planted copies, the rest noise, 2 constant). Targets (issue 14): ratio ≤ 10 on
150 × 60, fit ≤ 60 s on 500 × 180, both with ``jobs=2`` (2 cores). Reports medians of
``--repeats`` runs (times interleaved: RF CV, fit, RF CV, fit, …) and the stage-and-baseline
table (mean ± std over ``--seeds`` seeds) of each table; writes ``bench_out/ml.json``.
Also (not timed) the stage table of the SYNTHETIC adsorption table (150 real M–N4/M1M2–N6
site feature vectors, formula target). ``--quick``: 150 × 60 only, 1 repeat, 1 seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_val_score

from lisflow.fsutil import atomic_write_text
from lisflow.ml.datasets import SYNTHETIC_TARGET, planted_table, synthetic_adsorption_table
from lisflow.ml.pipeline import fit_pipeline
from lisflow.ml.selection import ModelConfig
from lisflow.ml.validate import prepare

#: Settings of the timed fit (the CLI defaults).
CONFIG = ModelConfig(seed=0)
JOBS = 2


def _table(rows: int, features: int):
    copies = features // 8
    return planted_table(
        n_rows=rows, n_informative=6, n_copies=copies, n_noise=features - 8 - copies,
        n_constant=2, seed=0,
    )  # fmt: skip


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _rf_cv(table) -> None:
    cv = KFold(5, shuffle=True, random_state=0)
    cross_val_score(RandomForestRegressor(random_state=0), table.x, table.y, cv=cv, scoring="r2")


def seed_table(table, seeds: int, first: pd.DataFrame | None = None) -> pd.DataFrame:
    """Stage-and-baseline R² (nested CV) as mean ± std over fits with seeds 0 … seeds−1
    (``first``: the stage table of seed 0 if already fitted)."""
    per_seed = [] if first is None else [first.set_index("candidate")["r2_mean"]]
    for seed in range(len(per_seed), seeds):
        fit = fit_pipeline(table.x, table.y, "y", ModelConfig(seed=seed), 5, jobs=JOBS)
        per_seed.append(fit.stage_table.set_index("candidate")["r2_mean"])
    frame = pd.concat(per_seed, axis=1)
    return pd.DataFrame({"r2_mean_over_seeds": frame.mean(axis=1),
                         "r2_std_over_seeds": frame.std(axis=1, ddof=0)})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench_out/ml.json"))
    args = parser.parse_args()
    shapes = [(150, 60)] if args.quick else [(150, 60), (500, 180)]
    repeats, seeds = (1, 1) if args.quick else (args.repeats, args.seeds)
    report = {"jobs": JOBS, "config": CONFIG.__dict__, "machine": platform.platform(), "cases": []}
    print(f"{'table':<10} {'RF 5-fold CV (s)':>16} {'whole fit (s)':>14} {'ratio':>6}")
    for rows, features in shapes:
        table = _table(rows, features)
        rf_times, fit_times, fits = [], [], []
        for _ in range(repeats):
            rf_times.append(_timed(lambda t=table: _rf_cv(t)))
            fit_times.append(
                _timed(
                    lambda t=table, f=fits: f.append(
                        fit_pipeline(t.x, t.y, "y", CONFIG, 5, jobs=JOBS)
                    )
                )
            )
        rf, fit = statistics.median(rf_times), statistics.median(fit_times)
        ratios = [f / r for f, r in zip(fit_times, rf_times, strict=True)]
        stages = seed_table(table, seeds, fits[0].stage_table)
        print(f"{rows}x{features:<6} {rf:>16.2f} {fit:>14.2f} {statistics.median(ratios):>6.1f}")
        print(stages.round(3).to_string())
        report["cases"].append({
            "rows": rows, "features": features, "load_average_1min": os.getloadavg()[0], "rf_cv_s": rf, "rf_cv_times_s": rf_times,
            "fit_s": fit, "fit_times_s": fit_times, "ratio_median": statistics.median(ratios),
            "seeds": seeds,
            "stage_table": {k: {c: float(v) for c, v in row.items()}
                            for k, row in stages.iterrows()},
            "fit_within_60s": bool(fit <= 60.0), "ratio_within_10": bool(np.median(ratios) <= 10),
        })  # fmt: skip
    if not args.quick:  # stage table on real site features (SYNTHETIC target), not timed
        frame = synthetic_adsorption_table(sample=150, seed=0)
        data = prepare(frame, SYNTHETIC_TARGET)
        stages = seed_table(SimpleNamespace(x=data.x, y=data.y), seeds)
        print(f"synthetic adsorption table {data.x.shape}:")
        print(stages.round(3).to_string())
        report["synthetic_adsorption_150"] = {
            "shape": list(data.x.shape),
            "stage_table": {k: {c: float(v) for c, v in row.items()}
                            for k, row in stages.iterrows()},
        }  # fmt: skip
    atomic_write_text(args.out, json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
