"""Benchmark of the results-database queries (lisflow.db.queries) on SQLite and PostgreSQL.

Fills a database with 10^5 synthetic calculations (10^4 with ``--quick``) plus one adsorption
energy per adslab calculation, in bulk, then times each query kind (median of ``--repeats``
runs, ms). Baseline, measured in the same run: a raw ``sqlite3`` SELECT of the same rows from
the same SQLite file (fetchall, no DataFrame). PostgreSQL: ``--pg-url URL`` or ``--start-pg``
(a throw-away server from ``tests/pgserver.py``). Prints a table, writes ``bench_out/db.json``.

    python benchmarks/bench_db.py --quick
    python benchmarks/bench_db.py --start-pg
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text

from lisflow.db import queries
from lisflow.db.schema import AdsorptionEnergyRow, CalculationRecord, CalculationRow, utc_now
from lisflow.db.store import ResultStore
from lisflow.fsutil import atomic_write_text

N_SITES, N_ADSORBATES, N_STUDIES = 50, 5, 4
CHUNK = 10_000

#: Raw SQL of the baseline: the same rows and columns as queries.calculations /
#: queries.adsorption (the three provenance columns of calculations included).
RAW_CALCULATIONS = """SELECT calc_id, study, engine, task, role, formula, n_atoms, site,
  adsorbate, state, state_reason, energy_ev, energy_per_atom_ev, input_hash, fw_id, run_dir,
  updated_at, engine_version, lisflow_version, lisflow_commit FROM calculations {where}
  ORDER BY calc_id"""
RAW_ADSORPTION = """SELECT a.study, a.site, a.adsorbate, a.configuration, c.calc_id, s.calc_id,
  m.calc_id, c.engine, c.energy_ev, s.energy_ev, m.energy_ev, a.energy_ev, a.slab_multiple,
  a.molecule_coefficient, a.equation, a.state, a.state_reason
  FROM adsorption_energies a JOIN calculations c ON a.adslab_id = c.id
  JOIN calculations s ON a.slab_id = s.id JOIN calculations m ON a.molecule_id = m.id
  {where} ORDER BY a.study, a.site, a.adsorbate, a.configuration, c.calc_id"""


def synthetic_rows(n: int) -> tuple[list[dict], list[dict]]:
    """``n`` calculation rows (slabs, molecules, adslabs) and the adsorption rows."""
    now = utc_now()
    calcs, ads = [], []
    base = {"engine": "vasp", "task": "relax", "formula": "X", "n_atoms": 50, "state": "COMPLETED",
            "labels": {}, "files": {}, "created_at": now, "updated_at": now}  # fmt: skip
    n_fixed = N_STUDIES * (N_SITES + N_ADSORBATES)
    for i in range(n):
        study = f"study{i % N_STUDIES}"
        k = i // N_STUDIES
        if i < N_STUDIES * N_SITES:
            role, site, adsorbate = "slab", f"site{k}", None
        elif i < n_fixed:
            role, site, adsorbate = "molecule", None, f"Li2S{k - N_SITES + 1}"
        else:
            role, site, adsorbate = "adslab", f"site{k % N_SITES}", f"Li2S{k % N_ADSORBATES + 1}"
            slab = (k % N_SITES) * N_STUDIES + i % N_STUDIES
            molecule = N_STUDIES * N_SITES + (k % N_ADSORBATES) * N_STUDIES + i % N_STUDIES
            ads.append({"study": study, "site": site, "adsorbate": adsorbate,
                        "configuration": f"c{k}", "adslab_id": i + 1, "slab_id": slab + 1,
                        "molecule_id": molecule + 1, "energy_ev": -1.0 - 1e-6 * i})  # fmt: skip
        calcs.append(base | {"id": i + 1, "calc_id": f"{study}/calc{i:07d}", "study": study,
                             "role": role, "site": site, "adsorbate": adsorbate,
                             "input_hash": f"{i:064x}", "energy_ev": -100.0 - 1e-5 * i,
                             "energy_per_atom_ev": (-100.0 - 1e-5 * i) / 50})  # fmt: skip
    return calcs, ads


def fill(store: ResultStore, calcs: list[dict], ads: list[dict]) -> float:
    """Bulk-insert the rows; returns the wall time (s)."""
    start = time.perf_counter()
    with store.transaction() as session:
        for table, rows in ((CalculationRow, calcs), (AdsorptionEnergyRow, ads)):
            for i in range(0, len(rows), CHUNK):
                session.execute(insert(table), rows[i : i + CHUNK])
        if store.engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in ("calculations", "adsorption_energies"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    return time.perf_counter() - start


def median_ms(function: Callable[[], object], repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(function())
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), size


def median_cpu_ms(function: Callable[[], object], repeats: int) -> float:
    """Median CPU time (ms) of this process per call (SQLite works in-process)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        function()
        times.append(1e3 * (time.process_time() - start))
    return statistics.median(times)


def cases(store: ResultStore) -> dict[str, Callable[[], object]]:
    return {
        "calculations (all)": lambda: queries.calculations(store),
        "calculations --study": lambda: queries.calculations(store, study="study1"),
        "adsorption (all)": lambda: queries.adsorption(store),
        "adsorption --site --adsorbate": lambda: queries.adsorption(
            store, site="site7", adsorbate="Li2S3"
        ),
    }


def raw_cases(db: Path) -> dict[str, Callable[[], object]]:
    connection = sqlite3.connect(db)
    fetch = lambda sql, *p: connection.execute(sql, p).fetchall()  # noqa: E731
    return {
        "calculations (all)": lambda: fetch(RAW_CALCULATIONS.format(where="")),
        "calculations --study": lambda: fetch(
            RAW_CALCULATIONS.format(where="WHERE study = ?"), "study1"
        ),
        "adsorption (all)": lambda: fetch(RAW_ADSORPTION.format(where="")),
        "adsorption --site --adsorbate": lambda: fetch(
            RAW_ADSORPTION.format(where="WHERE a.site = ? AND a.adsorbate = ?"), "site7", "Li2S3"
        ),
    }


def run_backend(url: str, calcs, ads, repeats: int, raw_db: Path | None = None) -> dict:
    """Fill, time the queries (and the raw sqlite3 baseline on ``raw_db``), then upserts."""
    with ResultStore(url) as store:
        fill_s = fill(store, calcs, ads)
        timings = {name: median_ms(f, repeats) for name, f in cases(store).items()}
        result = {"url": store.display_url, "fill_s": fill_s, "queries": timings}
        if raw_db is not None:
            raw = {name: median_ms(f, repeats) for name, f in raw_cases(raw_db).items()}
            result["baseline"] = {"queries": raw}
            # CPU medians, interleaved ours / raw, for "all calculations" (load-robust ratio)
            ours_f = cases(store)["calculations (all)"]
            raw_f = raw_cases(raw_db)["calculations (all)"]
            pairs = [(median_cpu_ms(ours_f, 1), median_cpu_ms(raw_f, 1)) for _ in range(repeats)]
            result["all_calculations_cpu_ms"] = statistics.median(p[0] for p in pairs)
            result["baseline"]["all_calculations_cpu_ms"] = statistics.median(p[1] for p in pairs)
        site_ads = cases(store)["adsorption --site --adsorbate"]
        walls, cpus = [], []
        for _ in range(max(20, 4 * repeats)):
            start, cpu = time.perf_counter(), time.process_time()
            site_ads()
            walls.append(1e3 * (time.perf_counter() - start))
            cpus.append(1e3 * (time.process_time() - cpu))
        p95 = lambda xs: sorted(xs)[int(0.95 * (len(xs) - 1) + 0.5)]  # noqa: E731
        result["site_adsorbate_p95_ms"] = p95(walls)
        # CPU time of this process (SQLite runs in it): robust when other jobs share the cores
        result["site_adsorbate_p95_cpu_ms"] = p95(cpus)
        start, cpu = time.perf_counter(), time.process_time()
        n_upserts = 200
        for i in range(n_upserts):
            store.upsert_calculation(CalculationRecord(f"x/c{i}", "x", "vasp", "relax", "slab"))
        result["upsert_calculation_ms"] = 1e3 * (time.perf_counter() - start) / n_upserts
        result["upsert_calculation_cpu_ms"] = 1e3 * (time.process_time() - cpu) / n_upserts
        n_batch = 2000
        records = [CalculationRecord(f"y/c{i}", "y", "vasp", "relax", "slab") for i in range(n_batch)]
        start, cpu = time.perf_counter(), time.process_time()
        store.upsert_calculations(records)
        result["upsert_calculations_batch_ms_per_row"] = (
            1e3 * (time.perf_counter() - start) / n_batch
        )
        result["upsert_calculations_batch_cpu_ms_per_row"] = (
            1e3 * (time.process_time() - cpu) / n_batch
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 rows instead of 10^5")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg-url", help="PostgreSQL URL of an EMPTY database")
    parser.add_argument("--start-pg", action="store_true", help="start a throw-away server")
    parser.add_argument("--out", type=Path, default=Path("bench_out/db.json"))
    args = parser.parse_args(argv)
    n = 10_000 if args.quick else 100_000
    calcs, ads = synthetic_rows(n)

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        results["sqlite"] = run_backend(f"sqlite:///{db}", calcs, ads, args.repeats, db)
        results["baseline raw sqlite3"] = results["sqlite"].pop("baseline")
        raw = results["baseline raw sqlite3"]["queries"]
        server = None
        pg_url = args.pg_url
        if args.start_pg and not pg_url:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from pgserver import PgServer

            server = PgServer().start()
            pg_url = server.create_database("bench")
        try:
            if pg_url:
                results["postgresql"] = run_backend(pg_url, calcs, ads, args.repeats)
        finally:
            if server is not None:
                server.stop()

    names = list(raw)
    print(f"lisflow.db query benchmark: {n} calculations, {len(ads)} adsorption rows, "
          f"median of {args.repeats} runs (ms)")  # fmt: skip
    header = f"{'query':32s} {'rows':>7s}" + "".join(f" {b:>22s}" for b in results)
    print(header)
    for name in names:
        cells = "".join(f" {results[b]['queries'][name][0]:22.1f}" for b in results)
        print(f"{name:32s} {raw[name][1]:7d}{cells}")
    for backend, result in results.items():
        if "fill_s" in result:
            print(f"{backend}: bulk fill {result['fill_s']:.2f} s, "
                  f"upsert_calculation {result['upsert_calculation_ms']:.2f} ms/row (target <= 3), "
                  f"batch upsert_calculations "
                  f"{result['upsert_calculations_batch_ms_per_row']:.3f} ms/row (target <= 1), "
                  f"site + adsorbate p95 {result['site_adsorbate_p95_ms']:.1f} ms "
                  f"({result['site_adsorbate_p95_cpu_ms']:.1f} ms CPU) "
                  f"(target <= 10 at 10^5 rows)")  # fmt: skip
    ours, theirs = results["sqlite"]["queries"], raw
    for name, target in (("calculations (all)", 1.2), ("adsorption (all)", None)):
        ratio = ours[name][0] / theirs[name][0]
        results["sqlite"].setdefault("ratio_over_raw_sqlite3", {})[name] = ratio
        print(f"{name}: {ours[name][0]:.1f} ms / raw sqlite3 {theirs[name][0]:.1f} ms = "
              f"{ratio:.2f}" + (f" (target <= {target})" if target else ""))  # fmt: skip
    payload = {
        "n_calculations": n,
        "n_adsorption": len(ads),
        "repeats": args.repeats,
        "machine": platform.platform(),
        "baseline": "baseline raw sqlite3",
        "results": {
            b: {
                **r,
                "queries": {k: {"median_ms": v[0], "rows": v[1]} for k, v in r["queries"].items()},
            }
            for b, r in results.items()
        },
    }
    atomic_write_text(args.out, json.dumps(payload, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
