"""Benchmark of the results-database queries (lisflow.db.queries) on SQLite and PostgreSQL.

Fills a database with 10^5 synthetic calculations (10^4 with ``--quick``) plus one adsorption
energy per adslab calculation, in bulk, then times each query kind (ms). Baselines, measured
in the same run and interleaved call by call with lisflow's query (same load on the machine):

- ``raw sqlite3``: a raw ``sqlite3`` SELECT of the same rows and columns from the same SQLite
  file (same page cache size as lisflow's connections), ``fetchall()``: a list of tuples, NOT a
  DataFrame (less work than lisflow's query, which returns a typed DataFrame);
- ``raw sqlite3 + pandas``: ``pandas.read_sql_query`` on that connection, the same SELECT into a
  DataFrame with ``updated_at`` parsed: the same result type; the bench checks that it equals
  lisflow's frame (``equal_output``) for "calculations (all)".

Ratios are of medians over ``--repeats`` interleaved calls (wall and CPU time of this process;
SQLite runs in-process, so CPU time is the load-robust one). "site + adsorbate" p95 is over
100 interleaved calls. PostgreSQL: ``--pg-url URL`` or ``--start-pg`` (a throw-away server
from ``tests/pgserver.py``). Prints a table, writes ``bench_out/db.json``.

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

try:  # page cache of lisflow's SQLite connections (KiB)
    from lisflow.db.store import SQLITE_CACHE_KIB
except ImportError:  # a lisflow before the 64 MiB cache: SQLite's default
    SQLITE_CACHE_KIB = 2000

N_SITES, N_ADSORBATES, N_STUDIES = 50, 5, 4
CHUNK = 10_000
#: Calls of "site + adsorbate" for its p95.
P95_CALLS = 100

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


def timed(function: Callable[[], object]) -> tuple[float, float, int]:
    """Wall and CPU time (ms) of one call (freeing its result included) and its row count."""
    start, cpu = time.perf_counter(), time.process_time()
    size = len(function())
    return 1e3 * (time.perf_counter() - start), 1e3 * (time.process_time() - cpu), size


def interleaved(functions: dict[str, Callable[[], object]], calls: int) -> dict[str, dict]:
    """Each function called ``calls`` times, alternating call by call: per name the lists of
    wall and CPU times (ms) and the row count."""
    out = {name: {"wall": [], "cpu": [], "rows": 0} for name in functions}
    for _ in range(calls):
        for name, function in functions.items():
            wall, cpu, rows = timed(function)
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(cpu)
            out[name]["rows"] = rows
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1) + 0.5)]


def cases(store: ResultStore) -> dict[str, Callable[[], object]]:
    return {
        "calculations (all)": lambda: queries.calculations(store),
        "calculations --study": lambda: queries.calculations(store, study="study1"),
        "adsorption (all)": lambda: queries.adsorption(store),
        "adsorption --site --adsorbate": lambda: queries.adsorption(
            store, site="site7", adsorbate="Li2S3"
        ),
    }


def raw_connection(db: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with lisflow's page cache size (same memory for both)."""
    connection = sqlite3.connect(db)
    connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    return connection


def raw_cases(connection: sqlite3.Connection) -> dict[str, Callable[[], object]]:
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


def raw_pandas_calculations(connection: sqlite3.Connection) -> Callable[[], object]:
    """"All calculations" into a DataFrame with pandas' own sqlite3 reader (the same result
    type as lisflow's query: ``updated_at`` parsed to datetime64)."""
    import pandas as pd

    sql = RAW_CALCULATIONS.format(where="")
    dates = {"updated_at": {"format": "ISO8601"}}
    return lambda: pd.read_sql_query(sql, connection, parse_dates=dates)


def equal_frames(ours: object, theirs: object) -> bool | str:
    """True, or the first line of pandas' reason why the frames differ."""
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=True)  # type: ignore[arg-type]
    except AssertionError as exc:
        return str(exc).strip().splitlines()[0]
    return True


def run_backend(url: str, calcs, ads, repeats: int, raw_db: Path | None = None) -> dict:
    """Fill, time the queries (interleaved with the raw sqlite3 baselines on ``raw_db``), then
    upserts."""
    with ResultStore(url) as store:
        fill_s = fill(store, calcs, ads)
        ours = cases(store)
        result: dict = {"url": store.display_url, "fill_s": fill_s, "queries": {}}
        if raw_db is not None:
            connection = raw_connection(raw_db)
            raw = raw_cases(connection)
            result["baseline"] = {"queries": {}}
            for name in ours:
                functions = {"ours": ours[name], "raw": raw[name]}
                if name == "calculations (all)":
                    functions["raw+pandas"] = raw_pandas_calculations(connection)
                times = interleaved(functions, repeats)
                o, r = times["ours"], times["raw"]
                result["queries"][name] = (statistics.median(o["wall"]), o["rows"])
                result["baseline"]["queries"][name] = (statistics.median(r["wall"]), r["rows"])
                ratios = result.setdefault("interleaved_ratio_over_raw_sqlite3", {})
                ratios[name] = {
                    "wall": statistics.median(o["wall"]) / statistics.median(r["wall"]),
                    "cpu": statistics.median(o["cpu"]) / statistics.median(r["cpu"]),
                }
                if name == "calculations (all)":
                    result["all_calculations_cpu_ms"] = statistics.median(o["cpu"])
                    result["baseline"]["all_calculations_cpu_ms"] = statistics.median(r["cpu"])
                    p = times["raw+pandas"]
                    result["baseline_pandas"] = {
                        "what": "raw sqlite3 + pandas.read_sql_query (same DataFrame)",
                        "all_calculations_ms": statistics.median(p["wall"]),
                        "all_calculations_cpu_ms": statistics.median(p["cpu"]),
                        "ratio_wall": statistics.median(o["wall"]) / statistics.median(p["wall"]),
                        "ratio_cpu": statistics.median(o["cpu"]) / statistics.median(p["cpu"]),
                        "equal_output": equal_frames(ours[name](), functions["raw+pandas"]()),
                    }
            site = interleaved(
                {"ours": ours["adsorption --site --adsorbate"],
                 "raw": raw["adsorption --site --adsorbate"]}, P95_CALLS
            )  # fmt: skip
            result["site_adsorbate_p95_ms"] = p95(site["ours"]["wall"])
            # CPU time of this process (SQLite runs in it): robust when other jobs share the cores
            result["site_adsorbate_p95_cpu_ms"] = p95(site["ours"]["cpu"])
            result["site_adsorbate_median_cpu_ms"] = statistics.median(site["ours"]["cpu"])
            result["baseline"]["site_adsorbate_p95_ms"] = p95(site["raw"]["wall"])
            result["baseline"]["site_adsorbate_p95_cpu_ms"] = p95(site["raw"]["cpu"])
            connection.close()
        else:
            for name, function in ours.items():
                times = interleaved({"ours": function}, repeats)["ours"]
                result["queries"][name] = (statistics.median(times["wall"]), times["rows"])
            site = interleaved({"ours": ours["adsorption --site --adsorbate"]}, P95_CALLS)
            result["site_adsorbate_p95_ms"] = p95(site["ours"]["wall"])
            result["site_adsorbate_p95_cpu_ms"] = p95(site["ours"]["cpu"])
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
    parser.add_argument("--repeats", type=int, default=11)
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
          f"median of {args.repeats} interleaved calls (ms)")  # fmt: skip
    header = f"{'query':32s} {'rows':>7s}" + "".join(f" {b:>22s}" for b in results)
    print(header)
    for name in names:
        cells = "".join(f" {results[b]['queries'][name][0]:22.1f}" for b in results)
        print(f"{name:32s} {raw[name][1]:7d}{cells}")
    sq = results["sqlite"]
    for backend, result in results.items():
        if "fill_s" in result:
            print(f"{backend}: bulk fill {result['fill_s']:.2f} s, "
                  f"upsert_calculation {result['upsert_calculation_ms']:.2f} ms/row (target <= 3), "
                  f"batch upsert_calculations "
                  f"{result['upsert_calculations_batch_ms_per_row']:.3f} ms/row (target <= 1), "
                  f"site + adsorbate p95 {result['site_adsorbate_p95_ms']:.1f} ms "
                  f"({result['site_adsorbate_p95_cpu_ms']:.1f} ms CPU) "
                  f"(target <= 10 at 10^5 rows)")  # fmt: skip
    base = results["baseline raw sqlite3"]
    print(f"site + adsorbate p95 of raw sqlite3 (same SQL, interleaved): "
          f"{base['site_adsorbate_p95_ms']:.1f} ms ({base['site_adsorbate_p95_cpu_ms']:.1f} ms CPU)")  # fmt: skip
    for name, ratio in sq["interleaved_ratio_over_raw_sqlite3"].items():
        target = " (target <= 1.2)" if name == "calculations (all)" else ""
        print(f"{name}: lisflow / raw sqlite3 fetchall (tuples), interleaved medians: "
              f"wall {ratio['wall']:.2f}, CPU {ratio['cpu']:.2f}{target}")  # fmt: skip
    bp = sq["baseline_pandas"]
    print(f"calculations (all): lisflow / {bp['what']}: wall {bp['ratio_wall']:.2f}, "
          f"CPU {bp['ratio_cpu']:.2f}; equal output: {bp['equal_output']}")  # fmt: skip
    ours, theirs = sq["queries"], raw
    for name in ("calculations (all)", "adsorption (all)"):
        sq.setdefault("ratio_over_raw_sqlite3", {})[name] = ours[name][0] / theirs[name][0]
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
