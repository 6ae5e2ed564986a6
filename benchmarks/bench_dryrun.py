"""Wall time of `lisflow dry-run --all` and per calculation, next to pymatgen's plain
``MPRelaxSet(structure).write_input(dir, potcar_spec=True)`` on the same VASP structures in
the same run (baseline). Medians of several runs.

    python benchmarks/bench_dryrun.py [--quick] [--out bench_out/dryrun.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from lisflow.fsutil import atomic_write_text
from lisflow.spec import load_spec, study_files
from lisflow.workflows.dryrun import dry_run
from lisflow.workflows.plan import plan


def time_lisflow(files: list[Path]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        entries = dry_run(files, Path(tmp) / "out", progress=False)
        return time.perf_counter() - start, len(entries)


def time_mprelaxset(structures: list) -> float:
    from pymatgen.io.vasp.sets import MPRelaxSet

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i, structure in enumerate(structures):
            MPRelaxSet(structure).write_input(Path(tmp) / str(i), potcar_spec=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--out", type=Path, default=Path("bench_out/dryrun.json"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    repeats = 2 if args.quick else 5
    files = study_files()
    vasp_structures = [
        c.structure
        for f in files
        for s in [load_spec(f)]
        if getattr(s, "engine", "") == "vasp"
        for c in plan(s, f)
    ]
    lisflow_runs, counts = zip(*(time_lisflow(files) for _ in range(repeats)), strict=True)
    baseline_runs = [time_mprelaxset(vasp_structures) for _ in range(repeats)]
    n_calcs, n_vasp = counts[0], len(vasp_structures)
    result = {
        "calculations": n_calcs,
        "vasp_structures": n_vasp,
        "lisflow_dry_run_all_s": statistics.median(lisflow_runs),
        "lisflow_per_calc_ms": 1e3 * statistics.median(lisflow_runs) / n_calcs,
        "baseline": "pymatgen MPRelaxSet(...).write_input(potcar_spec=True)",
        "baseline_vasp_only_s": statistics.median(baseline_runs),
        "baseline_per_calc_ms": 1e3 * statistics.median(baseline_runs) / n_vasp,
        "repeats": repeats,
    }
    result["per_calc_ratio_lisflow_over_baseline"] = (
        result["lisflow_per_calc_ms"] / result["baseline_per_calc_ms"]
    )
    print(
        f"dry-run --all: {result['lisflow_dry_run_all_s']:.2f} s for {n_calcs} calculations "
        f"({result['lisflow_per_calc_ms']:.1f} ms each, incl. planning and structure building)"
    )
    print(
        f"MPRelaxSet.write_input: {result['baseline_vasp_only_s']:.2f} s for {n_vasp} structures "
        f"({result['baseline_per_calc_ms']:.1f} ms each)"
    )
    print(
        "ratio per calculation lisflow / MPRelaxSet (baseline, same run): "
        f"{result['per_calc_ratio_lisflow_over_baseline']:.2f} (target <= 1.0)"
    )
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
