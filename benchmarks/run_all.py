"""`make bench`: run every benchmarks/bench_*.py (each measures against a named baseline in the
same run, medians of several runs), collect their JSON into bench_out/summary.json and print
one table of the issue-16 targets: measured value, baseline, ratio, goal, met / not met.

    python benchmarks/run_all.py [--quick] [--only dryrun,db,...] [--table-only]

``--table-only`` prints the table from the JSON files already in bench_out/.
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
    parser.add_argument("--table-only", action="store_true", help="table from bench_out/*.json")
    args = parser.parse_args()
    if args.table_only:
        print(render(target_rows(_load_results())))
        return 0
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
    print(render(target_rows(_load_results())))
    print(f"summary: {OUT / 'summary.json'}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _load_results() -> dict[str, dict]:
    """name -> the JSON each benchmark wrote into bench_out/ (missing ones left out)."""
    found = {}
    for path in sorted(OUT.glob("*.json")):
        if path.stem != "summary":
            try:
                found[path.stem] = json.loads(path.read_text())
            except ValueError:
                continue
    return found


def _row(target, measured, baseline, ratio, goal, met) -> dict:
    return {"target": target, "measured": measured, "baseline": baseline,
            "ratio": "" if ratio is None else f"{ratio:.2f}", "goal": goal,
            "met": "n/a" if met is None else ("met" if met else "NOT met")}  # fmt: skip


def target_rows(results: dict[str, dict]) -> list[dict]:
    """One row per issue-16 target from the benchmarks' JSON (``missing`` when not run)."""
    rows = [_row("1 make test wall time", "see .ci/run", "-", None, "<= 20 min", None)]
    a = results.get("analysis")
    if a:
        ms = a["ms_per_frame"]
        ratio = a["whole_pass_over_freud"]
        rows.append(_row("2 MD analysis whole pass", f"{ms['lisflow_whole_pass']:.1f} ms/frame",
                         f"freud cluster {ms['freud_cluster']:.1f} ms/frame", ratio,
                         "ratio <= 0.4", ratio <= 0.4))  # fmt: skip
    d = results.get("dryrun")
    if d:
        wall = d["per_calc_ratio_lisflow_over_baseline"]
        rows.append(_row("3 dry-run --all per calculation", f"{d['lisflow_per_calc_ms']:.1f} ms",
                         f"MPRelaxSet {d['baseline_per_calc_ms']:.1f} ms", wall,
                         "ratio <= 1.0", wall <= 1.0))  # fmt: skip
        optional = (  # (label, ratio key, our ms key, baseline ms key)
            ("3 dry-run --all per calculation, CPU", "per_calc_cpu_ratio_lisflow_over_baseline",
             "lisflow_per_calc_cpu_ms", "baseline_per_calc_cpu_ms"),
            ("3 dry-run VASP calculations alone", "vasp_writes_ratio_over_baseline",
             "vasp_writes_per_calc_ms", "baseline_per_calc_ms"),
            ("3 dry-run VASP calculations alone, CPU", "vasp_writes_cpu_ratio_over_baseline",
             "vasp_writes_per_calc_cpu_ms", "baseline_per_calc_cpu_ms"),
        )  # fmt: skip
        for label, ratio_key, ours, baseline in optional:
            if ratio_key in d:
                rows.append(_row(label, f"{d[ours]:.1f} ms", f"MPRelaxSet {d[baseline]:.1f} ms",
                                 d[ratio_key], "ratio <= 1.0", d[ratio_key] <= 1.0))  # fmt: skip
        other = {k: v for k, v in d.get("phases", {}).items()
                 if k not in ("write:vasp", "writer:vasp")}  # fmt: skip
        if other:  # planning, LAMMPS boxes, LOBSTER/MLIP/CP2K, extras: not in the baseline
            cpu_ms = 1e3 * sum(v["cpu_s"] for v in other.values()) / d["calculations"]
            rows.append(_row("3 dry-run work MPRelaxSet does not do, CPU",
                             f"{cpu_ms:.1f} ms/calc", "-", None, "(in the rows above)", None))  # fmt: skip
    db = results.get("db")
    if db:
        n = db["n_calculations"]
        sq = db["results"]["sqlite"]
        base = db["results"]["baseline raw sqlite3"]
        raw = base["queries"]
        ours = sq["queries"]["calculations (all)"]["median_ms"]
        theirs = raw["calculations (all)"]["median_ms"]
        rows += [
            _row("4 upsert, single (SQLite)", f"{sq['upsert_calculation_ms']:.2f} ms", "-", None,
                 "<= 3 ms", sq["upsert_calculation_ms"] <= 3),
            _row("4 upsert, batch (SQLite)",
                 f"{sq['upsert_calculations_batch_ms_per_row']:.3f} ms/row", "-", None,
                 "<= 1 ms/row", sq["upsert_calculations_batch_ms_per_row"] <= 1),
            *([_row("4 upsert, single (SQLite), CPU", f"{sq['upsert_calculation_cpu_ms']:.2f} ms",
                    "-", None, "<= 3 ms", sq["upsert_calculation_cpu_ms"] <= 3)]
              if "upsert_calculation_cpu_ms" in sq else []),
            _row(f"4 site + adsorbate p95, {n} rows", f"{sq['site_adsorbate_p95_ms']:.1f} ms",
                 f"raw sqlite3 p95 {base['site_adsorbate_p95_ms']:.1f} ms"
                 if "site_adsorbate_p95_ms" in base else
                 f"raw sqlite3 median {raw['adsorption --site --adsorbate']['median_ms']:.1f} ms",
                 None, "<= 10 ms at 10^5" + ("" if n >= 100_000 else " (quick: fewer rows)"),
                 sq["site_adsorbate_p95_ms"] <= 10 if n >= 100_000 else None),
            *([_row(f"4 site + adsorbate p95 CPU, {n} rows",
                    f"{sq['site_adsorbate_p95_cpu_ms']:.1f} ms CPU",
                    f"raw sqlite3 p95 {base['site_adsorbate_p95_cpu_ms']:.1f} ms CPU"
                    if "site_adsorbate_p95_cpu_ms" in base else "-", None, "<= 10 ms at 10^5",
                    sq["site_adsorbate_p95_cpu_ms"] <= 10 if n >= 100_000 else None)]
              if "site_adsorbate_p95_cpu_ms" in sq else []),
            _row(f"4 all calculations, {n} rows", f"{ours:.0f} ms",
                 f"raw sqlite3 {theirs:.0f} ms", ours / theirs, "ratio <= 1.2",
                 ours / theirs <= 1.2),
        ]  # fmt: skip
        if "all_calculations_cpu_ms" in sq:
            ours_cpu = sq["all_calculations_cpu_ms"]
            raw_cpu = db["results"]["baseline raw sqlite3"]["all_calculations_cpu_ms"]
            rows.append(_row(f"4 all calculations CPU, {n} rows", f"{ours_cpu:.0f} ms CPU",
                             f"raw sqlite3 {raw_cpu:.0f} ms CPU", ours_cpu / raw_cpu,
                             "ratio <= 1.2", ours_cpu / raw_cpu <= 1.2))  # fmt: skip
        if "baseline_pandas" in sq:  # the same DataFrame from raw sqlite3 with pandas
            bp = sq["baseline_pandas"]
            rows.append(_row(f"4 all calculations vs same frame, {n} rows", f"{ours:.0f} ms",
                             f"sqlite3+read_sql_query {bp['all_calculations_ms']:.0f} ms",
                             bp["ratio_wall"], "ratio <= 1.2",
                             bp["ratio_wall"] <= 1.2 and bp["equal_output"] is True))  # fmt: skip
    c = results.get("cli")
    if c:
        for name, r in c["results"].items():
            if name.startswith("lisflow"):
                goal = 0.5 if name == "lisflow --help" else 1.0
                rows.append(_row(f"5 {name}"[:60], f"{r['cpu_s']:.2f} s CPU ({r['wall_s']:.2f} wall)",
                                 "python -c pass "
                                 f"{c['results']['python -c pass (baseline)']['cpu_s']:.2f} s",
                                 None, f"<= {goal} s", r["cpu_s"] <= goal))  # fmt: skip
    sw = results.get("lammps_sweep")
    if sw:
        ratio = sw["defaults_over_best_1_core"]
        best = next(r for r in sw["results"] if r["setting"] == sw["best_1_core"])
        rows.append(_row("6 LAMMPS defaults vs best (1 core)",
                         f"{sw['results'][0]['median_s_per_100_steps']:.2f} s/100 steps",
                         f"{best['setting']} {best['median_s_per_100_steps']:.2f}", ratio,
                         "ratio <= 1.10", ratio <= 1.10))  # fmt: skip
    else:
        rows.append(_row("6 LAMMPS parameter sweep", "missing", "-", None, "<= 1.10", None))
    return rows


def render(rows: list[dict]) -> str:
    """The rows as a fixed-width text table."""
    keys = ("target", "measured", "baseline", "ratio", "goal", "met")
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys}
    line = lambda r: "  ".join(str(r[k]).ljust(widths[k]) for k in keys)  # noqa: E731
    header = {k: k for k in keys}
    return "\n".join(["issue 16 targets (same-run ratios):", line(header),
                      "  ".join("-" * widths[k] for k in keys), *map(line, rows)])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
