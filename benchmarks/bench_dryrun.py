"""Cost per calculation of `lisflow dry-run --all` against pymatgen's plain
``MPRelaxSet(structure).write_input(dir, potcar_spec=True)`` (the baseline) on the structures
of the catalogue's VASP calculations, in the same run: repeats interleaved (lisflow,
baseline, lisflow, ...), medians, both written into sibling directories of one scratch
directory (same file system, same directory locality: creating files costs both alike).

Rows: the whole dry-run per calculation (wall and CPU, packmol's and the file writer
process's CPU included); its VASP calculations alone (the work MPRelaxSet.write_input does:
INCAR, KPOINTS, POSCAR, POTCAR.spec; plus lisflow's input hash and manifest parameters;
texts computed in the dry-run process, files made by its writer process: both times added)
against the baseline on the same structures; and the work MPRelaxSet does not do, per phase
of the same dry-runs (planning: spec validation, structure building; LAMMPS boxes; LOBSTER,
MLIP, CP2K inputs; study extras such as the diffraction patterns; ``writer:*`` phases run in
the writer process beside the others, ``wait:writer`` is the dry-run waiting for it).

    python benchmarks/bench_dryrun.py [--quick] [--out bench_out/dryrun.json]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from lisflow.fsutil import atomic_write_text
from lisflow.spec import load_spec, study_files
from lisflow.workflows.dryrun import dry_run
from lisflow.workflows.plan import plan

BASELINE = "pymatgen MPRelaxSet(structure).write_input(dir, potcar_spec=True)"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (packmol)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def time_lisflow(files: list[Path], out: Path) -> dict:
    """Wall and CPU seconds of one ``dry_run`` of ``files`` into ``out``, with its phases."""
    timings: dict[str, list[float]] = {}
    phased = "timings" in inspect.signature(dry_run).parameters  # (not before issue 16)
    start, cpu = time.perf_counter(), _cpu()
    if phased:
        entries = dry_run(files, out, progress=False, timings=timings)
    else:
        entries = dry_run(files, out, progress=False)
    return {"wall": time.perf_counter() - start, "cpu": _cpu() - cpu, "calcs": len(entries),
            "phases": timings}  # fmt: skip


def time_mprelaxset(structures: list, out: Path) -> dict:
    """Wall and CPU seconds of MPRelaxSet.write_input for every structure, under ``out``."""
    from pymatgen.io.vasp.sets import MPRelaxSet

    start, cpu = time.perf_counter(), _cpu()
    for i, structure in enumerate(structures):
        MPRelaxSet(structure).write_input(out / str(i), potcar_spec=True)
    return {"wall": time.perf_counter() - start, "cpu": _cpu() - cpu}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _phase(runs: list[dict], name: str, column: int) -> float:
    """Median over the runs of one column (0 wall s, 1 CPU s, 2 count) of phase ``name``."""
    return statistics.median(run["phases"].get(name, [0.0, 0.0, 0])[column] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 5")
    parser.add_argument("--out", type=Path, default=Path("bench_out/dryrun.json"))
    parser.add_argument("--scratch", type=Path, default=None,
                        help="where both write their files (default: beside --out)")  # fmt: skip
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    repeats = 3 if args.quick else 5
    files = study_files()
    calcs = [c for f in files for c in plan(load_spec(f), f)]
    vasp_structures = [c.structure for c in calcs if c.engine == "vasp"]
    n_vasp = len(vasp_structures)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".bench_dryrun.", dir=args.scratch or args.out.parent))
    lisflow_runs, baseline_runs = [], []
    try:
        for i in range(repeats):  # interleaved: a change of machine load hits both
            lisflow_runs.append(time_lisflow(files, scratch / f"lisflow{i}"))
            baseline_runs.append(time_mprelaxset(vasp_structures, scratch / f"mprelaxset{i}"))
            for path in (scratch / f"lisflow{i}", scratch / f"mprelaxset{i}"):
                shutil.rmtree(path)  # (not timed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n_calcs = lisflow_runs[0]["calcs"]
    base_wall, base_cpu = _median(baseline_runs, "wall"), _median(baseline_runs, "cpu")
    per_base_wall, per_base_cpu = 1e3 * base_wall / n_vasp, 1e3 * base_cpu / n_vasp
    wall, cpu = _median(lisflow_runs, "wall"), _median(lisflow_runs, "cpu")
    result = {
        "calculations": n_calcs,
        "vasp_structures": n_vasp,
        "repeats": repeats,
        "baseline": BASELINE,
        "lisflow_dry_run_all_s": wall,
        "lisflow_dry_run_all_cpu_s": cpu,
        "lisflow_per_calc_ms": 1e3 * wall / n_calcs,
        "lisflow_per_calc_cpu_ms": 1e3 * cpu / n_calcs,
        "baseline_vasp_only_s": base_wall,
        "baseline_per_calc_ms": per_base_wall,
        "baseline_per_calc_cpu_ms": per_base_cpu,
    }
    result["per_calc_ratio_lisflow_over_baseline"] = result["lisflow_per_calc_ms"] / per_base_wall
    result["per_calc_cpu_ratio_lisflow_over_baseline"] = (
        result["lisflow_per_calc_cpu_ms"] / per_base_cpu
    )
    # phases of the same dry-runs (process CPU; packmol's CPU is in the whole-run numbers only)
    phases = sorted({name for run in lisflow_runs for name in run["phases"]})
    result["phases"] = {
        name: {"count": int(_phase(lisflow_runs, name, 2)), "wall_s": _phase(lisflow_runs, name, 0),
               "cpu_s": _phase(lisflow_runs, name, 1)}
        for name in phases
    }  # fmt: skip
    vasp = result["phases"].get("write:vasp")
    if vasp and "writer:vasp" in result["phases"]:  # their files made by the writer process:
        made = result["phases"]["writer:vasp"]  # its time added (CPU exact; wall an upper bound)
        vasp = {"wall_s": vasp["wall_s"] + made["wall_s"], "cpu_s": vasp["cpu_s"] + made["cpu_s"]}
    if vasp:
        result["vasp_writes_per_calc_ms"] = 1e3 * vasp["wall_s"] / n_vasp
        result["vasp_writes_per_calc_cpu_ms"] = 1e3 * vasp["cpu_s"] / n_vasp
        result["vasp_writes_ratio_over_baseline"] = result["vasp_writes_per_calc_ms"] / per_base_wall
        result["vasp_writes_cpu_ratio_over_baseline"] = (
            result["vasp_writes_per_calc_cpu_ms"] / per_base_cpu
        )
    print(
        f"dry-run --all: {wall:.2f} s wall, {cpu:.2f} s CPU for {n_calcs} calculations "
        f"({result['lisflow_per_calc_ms']:.1f} ms, {result['lisflow_per_calc_cpu_ms']:.1f} ms CPU "
        "each, incl. planning and structure building)"
    )
    print(
        f"baseline {BASELINE}: {base_wall:.2f} s wall, {base_cpu:.2f} s CPU for {n_vasp} "
        f"structures ({per_base_wall:.1f} ms, {per_base_cpu:.1f} ms CPU each)"
    )
    print(
        "ratio per calculation lisflow / baseline (same run, medians of "
        f"{repeats}): {result['per_calc_ratio_lisflow_over_baseline']:.2f} wall, "
        f"{result['per_calc_cpu_ratio_lisflow_over_baseline']:.2f} CPU (target <= 1.0)"
    )
    if vasp:
        print(
            f"  VASP calculations alone ({n_vasp}, same structures as the baseline; texts here "
            "+ files by the writer process): "
            f"{result['vasp_writes_per_calc_ms']:.1f} ms, "
            f"{result['vasp_writes_per_calc_cpu_ms']:.1f} ms CPU each; ratio "
            f"{result['vasp_writes_ratio_over_baseline']:.2f} wall, "
            f"{result['vasp_writes_cpu_ratio_over_baseline']:.2f} CPU"
        )
    print("  work MPRelaxSet does not do (same dry-runs, per phase):")
    for name, row in result["phases"].items():
        if name not in ("write:vasp", "writer:vasp"):
            print(f"    {name:15s} x{row['count']:<4d} {row['wall_s']:6.2f} s wall "
                  f"{row['cpu_s']:6.2f} s CPU")  # fmt: skip
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
