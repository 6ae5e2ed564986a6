"""Benchmark of the CLI start: ``lisflow --help`` and an argument error, against the baseline
``python -c pass`` measured in the same run (medians of ``--repeats`` runs, wall and CPU).

Targets (issue 16): ``lisflow --help`` <= 0.5 s, any argument error <= 1 s.

    python benchmarks/bench_cli.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lisflow.fsutil import atomic_write_text

OUT = Path("bench_out")
#: name -> argv after the interpreter; each must exit with the given code.
CASES = {
    "python -c pass (baseline)": (["-c", "pass"], 0),
    "lisflow --help": (["-m", "lisflow.cli", "--help"], 0),
    "lisflow query adsorption --format (argument error)": (
        ["-m", "lisflow.cli", "query", "adsorption", "--format"],
        2,
    ),
    "lisflow dry-run --no-such-option (argument error)": (
        ["-m", "lisflow.cli", "dry-run", "--no-such-option"],
        2,
    ),
    "lisflow pack --no-such-option (argument error)": (
        ["-m", "lisflow.cli", "pack", "--no-such-option"],
        2,
    ),
}
TARGETS_S = {"lisflow --help": 0.5}


def run_once(argv: list[str], code: int) -> tuple[float, float]:
    """Wall and CPU (user + sys of the child) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != code:
        raise SystemExit(f"{argv}: exit code {done.returncode}, expected {code}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 9")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    results = {}
    for name, (command, code) in CASES.items():
        run_once(command, code)  # warm the page cache and __pycache__
        runs = [run_once(command, code) for _ in range(repeats)]
        results[name] = {
            "wall_s": statistics.median(r[0] for r in runs),
            "cpu_s": statistics.median(r[1] for r in runs),
        }
    base = results["python -c pass (baseline)"]
    print(f"{'command':52s} {'wall s':>8s} {'cpu s':>8s} {'cpu - baseline':>15s}")
    for name, r in results.items():
        extra = r["cpu_s"] - base["cpu_s"]
        r["cpu_over_baseline_s"] = extra
        target = TARGETS_S.get(name, 1.0 if "error" in name else None)
        note = f"  (target <= {target} s)" if target else ""
        print(f"{name:52s} {r['wall_s']:8.3f} {r['cpu_s']:8.3f} {extra:15.3f}{note}")
    payload = {"repeats": repeats, "baseline": "python -c pass", "load_average": os.getloadavg(),
               "results": results}  # fmt: skip
    OUT.mkdir(exist_ok=True)
    atomic_write_text(OUT / "cli.json", json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
