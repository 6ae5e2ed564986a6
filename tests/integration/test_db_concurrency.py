"""Issue 10: four processes open a FRESH results database at the same moment (schema creation
races) and write 1,000 calculations each: no process fails, no row is lost (SQLite file and
PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from lisflow.db.store import ResultStore

PROCESSES = 4
WRITES = 1000


def _writer(url: str, worker: int, start_at: float, queue) -> None:
    """Open the store (first use: creates the schema) and upsert ``WRITES`` calculations."""
    from lisflow.db.schema import CalculationRecord

    try:
        while time.time() < start_at:  # all four open the fresh database together
            time.sleep(0.001)
        store = ResultStore(url)
        for i in range(WRITES):
            store.upsert_calculation(
                CalculationRecord(
                    calc_id=f"race/w{worker}/c{i}",
                    study="race",
                    engine="cp2k",
                    task="energy",
                    role="molecule",
                    state="COMPLETED",
                    energy_ev=-100.0 - worker - i * 1e-3,
                )
            )
        store.close()
        queue.put((worker, "ok"))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put((worker, f"{type(exc).__name__}: {exc}"[:300]))


def race(url: str) -> tuple[dict[int, str], int]:
    """Run the writers; returns ({worker: 'ok' or error}, rows stored)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 8.0  # spawned interpreters import lisflow first
    workers = [
        context.Process(target=_writer, args=(url, w, start_at, queue)) for w in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    results = dict(queue.get(timeout=600) for _ in workers)
    for process in workers:
        process.join(timeout=60)
    return results, ResultStore(url).count("calculations")


def test_four_writers_on_a_fresh_database_lose_nothing(db_url):
    results, rows = race(db_url)
    assert results == {w: "ok" for w in range(PROCESSES)}
    assert rows == PROCESSES * WRITES
    store = ResultStore(db_url)
    record = store.get("race/w3/c999")
    assert record.state == "COMPLETED" and record.energy_ev == pytest.approx(-103.999)


if __name__ == "__main__":  # before/after numbers: python tests/integration/test_db_concurrency.py URL
    import sys

    outcome, stored = race(sys.argv[1])
    print(outcome, f"rows {stored} of {PROCESSES * WRITES}")
