"""`make bench`: run every benchmarks/bench_*.py (each measures against a named baseline in the
same run, medians of several runs) and collect their JSON into bench_out/summary.json.

    python benchmarks/run_all.py [--quick] [--only dryrun,db,...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path("bench_out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke mode of every benchmark")
    parser.add_argument("--only", default="", help="comma-separated names (dryrun, db, ...)")
    args = parser.parse_args()
    wanted = {n for n in args.only.split(",") if n}
    OUT.mkdir(exist_ok=True)
    summary, failed = {}, []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        out = OUT / f"{name}.json"
        # every benchmark writes bench_out/<name>.json itself
        command = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(command)
        summary[name] = {"exit_code": code, "wall_s": round(time.perf_counter() - start, 1)}
        if code == 0 and out.exists():
            summary[name]["result"] = json.loads(out.read_text())
        else:
            failed.append(name)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"summary: {OUT / 'summary.json'}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
