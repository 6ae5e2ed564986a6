"""Benchmark: full ML pipeline fit (nested CV + selection + final model + ensemble).

Table: 500 rows x 180 features (``lisflow.ml.datasets.planted_table``: 6 informative, 24 planted
copies, 148 noise, 2 constant). Baseline measured in the same run: one plain XGBoost fit on all
180 features with the same settings. Reports medians of ``--repeats`` runs; writes
``bench_out/ml.json``. ``--quick``: 100 rows, 2 outer folds, 30 trees, 1 repeat (smoke mode).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from lisflow.fsutil import atomic_write_text
from lisflow.ml.datasets import planted_table
from lisflow.ml.pipeline import fit_pipeline
from lisflow.ml.selection import ModelConfig, make_xgb


def _median_seconds(func, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench_out/ml.json"))
    args = parser.parse_args()
    rows, folds, repeats = (100, 2, 1) if args.quick else (500, 5, args.repeats)
    table = planted_table(
        n_rows=rows, n_informative=6, n_copies=24, n_noise=148, n_constant=2, seed=0
    )
    assert table.x.shape[1] == 180
    config = ModelConfig(n_estimators=30 if args.quick else 100, seed=0, n_jobs=1)
    baseline, base_times = _median_seconds(
        lambda: make_xgb(config).fit(table.x, table.y), max(3, repeats)
    )
    results = {}

    def run():
        results["fit"] = fit_pipeline(table.x, table.y, "y", config, folds=folds, n_ensemble=8)

    pipeline, pipe_times = _median_seconds(run, repeats)
    stage = results["fit"].stage_table
    report = {
        "rows": rows,
        "features": table.x.shape[1],
        "outer_folds": folds,
        "n_estimators": config.n_estimators,
        "n_jobs": config.n_jobs,
        "baseline_plain_xgboost_fit_s": baseline,
        "baseline_times_s": base_times,
        "pipeline_fit_s": pipeline,
        "pipeline_times_s": pipe_times,
        "ratio_pipeline_to_baseline": pipeline / baseline,
        "stage_table": stage.to_dict(orient="records"),
        "machine": platform.platform(),
    }
    print(f"{'case':<36} {'median (s)':>10}")
    print(f"{'baseline: plain XGBoost, 180 feat.':<36} {baseline:>10.3f}")
    print(f"{'full pipeline (nested CV etc.)':<36} {pipeline:>10.3f}")
    print(f"ratio {pipeline / baseline:.1f}x; stage table:")
    print(stage.to_string(index=False))
    atomic_write_text(args.out, json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
