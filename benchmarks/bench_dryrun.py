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


def time_lisflow(files: list[Path]) -> tuple[float, float, int]:
    """(wall s, CPU s, calculations) of one ``dry_run`` of ``files``."""
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        entries = dry_run(files, Path(tmp) / "out", progress=False)
        return time.perf_counter() - start, time.process_time() - cpu, len(entries)


def time_mprelaxset(structures: list) -> tuple[float, float]:
    """(wall s, CPU s) of MPRelaxSet.write_input for every structure."""
    from pymatgen.io.vasp.sets import MPRelaxSet

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        for i, structure in enumerate(structures):
            MPRelaxSet(structure).write_input(Path(tmp) / str(i), potcar_spec=True)
        return time.perf_counter() - start, time.process_time() - cpu


def time_vasp_writes(vasp_calcs: list) -> tuple[float, float]:
    """(wall s, CPU s) of lisflow writing the planned VASP calculations alone (inputs, hash,
    manifest parameters), i.e. the work MPRelaxSet.write_input does, on the same structures."""
    from lisflow.workflows.dryrun import write_calculation

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        for calc in vasp_calcs:
            write_calculation(calc, Path(tmp))
        return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    parser.add_argument("--out", type=Path, default=Path("bench_out/dryrun.json"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    repeats = 3 if args.quick else 5
    files = study_files()
    vasp_calcs = [
        c for f in files for s in [load_spec(f)] if getattr(s, "engine", "") == "vasp"
        for c in plan(s, f)
    ]  # fmt: skip
    vasp_structures = [c.structure for c in vasp_calcs]
    # interleaved (lisflow, baseline, lisflow, ...) so that a change of machine load hits both
    lisflow_runs, baseline_runs, vasp_runs = [], [], []
    for _ in range(repeats):
        lisflow_runs.append(time_lisflow(files))
        baseline_runs.append(time_mprelaxset(vasp_structures))
        vasp_runs.append(time_vasp_writes(vasp_calcs))
    n_calcs, n_vasp = lisflow_runs[0][2], len(vasp_structures)
    wall = statistics.median(r[0] for r in lisflow_runs)
    cpu = statistics.median(r[1] for r in lisflow_runs)
    base_wall = statistics.median(r[0] for r in baseline_runs)
    base_cpu = statistics.median(r[1] for r in baseline_runs)
    result = {
        "calculations": n_calcs,
        "vasp_structures": n_vasp,
        "lisflow_dry_run_all_s": wall,
        "lisflow_per_calc_ms": 1e3 * wall / n_calcs,
        "lisflow_per_calc_cpu_ms": 1e3 * cpu / n_calcs,
        "baseline": "pymatgen MPRelaxSet(...).write_input(potcar_spec=True)",
        "baseline_vasp_only_s": base_wall,
        "baseline_per_calc_ms": 1e3 * base_wall / n_vasp,
        "baseline_per_calc_cpu_ms": 1e3 * base_cpu / n_vasp,
        "repeats": repeats,
    }
    result["per_calc_ratio_lisflow_over_baseline"] = (
        result["lisflow_per_calc_ms"] / result["baseline_per_calc_ms"]
    )
    result["vasp_writes_per_calc_ms"] = 1e3 * statistics.median(r[0] for r in vasp_runs) / n_vasp
    result["vasp_writes_ratio_over_baseline"] = (
        result["vasp_writes_per_calc_ms"] / result["baseline_per_calc_ms"]
    )
    result["per_calc_cpu_ratio_lisflow_over_baseline"] = (
        result["lisflow_per_calc_cpu_ms"] / result["baseline_per_calc_cpu_ms"]
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
        f"{result['per_calc_ratio_lisflow_over_baseline']:.2f} wall, "
        f"{result['per_calc_cpu_ratio_lisflow_over_baseline']:.2f} CPU (target <= 1.0)"
    )
    print(
        f"VASP calculations alone (planned, same structures): "
        f"{result['vasp_writes_per_calc_ms']:.1f} ms each, ratio "
        f"{result['vasp_writes_ratio_over_baseline']:.2f}"
    )
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
