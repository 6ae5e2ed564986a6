"""SQLite results database under SIGKILL and concurrent writer processes (real subprocesses)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lisflow.db import queries
from lisflow.db.schema import CalculationRecord, SiteCharge
from lisflow.db.store import ResultStore

#: Child process: re-stores calculation s/a with N charges, pausing forever half-way through
#: the charges (inside the store_results transaction) after touching the marker file.
PAUSING_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from lisflow.db import connection
    from lisflow.db.store import ResultStore

    url, marker, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    # SQLite's default 2 MiB page cache: the half-written transaction outgrows it and spills
    # uncommitted pages to the WAL (with lisflow's 64 MiB cache it would stay in memory)
    connection.SQLITE_CACHE_KIB = 2000
    store = ResultStore(url)

    def charges():
        for i in range(n):
            if i == n // 2:
                marker.write_text(str(i))
                time.sleep(300)
            yield {"site_index": i, "element": "S", "method": "bader", "net_charge": -0.25}

    store.store_results("s/a", energy_ev=-2.0, charges=charges())
    """
)

#: Child process: stores calculations s/c0, s/c1, ... with N charges each, one transaction
#: per calculation, touching the marker after each commit.
LOOPING_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lisflow.db.schema import CalculationRecord
    from lisflow.db.store import ResultStore

    url, marker, n, prefix = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = ResultStore(url)
    for k in range(int(sys.argv[5])):
        calc_id = f"s/{prefix}{k}"
        with store.transaction():
            store.upsert_calculation(CalculationRecord(calc_id, "s", "vasp", "static", "slab"))
            store.store_results(calc_id, energy_ev=-float(k), charges=(
                {"site_index": i, "element": "Li", "method": "bader", "net_charge": 0.8}
                for i in range(n)))
        marker.write_text(str(k))
    """
)


def _start(script: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stderr=subprocess.PIPE)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"writer exited early: {process.stderr.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("writer did not reach the marker")
        time.sleep(0.02)


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_sigkill_in_the_middle_of_store_results_keeps_the_old_results(tmp_path):
    db = tmp_path / "r.sqlite"
    url = f"sqlite:///{db}"
    with ResultStore(url) as store:
        store.upsert_calculation(CalculationRecord("s/a", "s", "vasp", "static", "slab", "S8", 8))
        old = [SiteCharge(i, "S", "bader", 0.125) for i in range(8)]
        store.store_results("s/a", energy_ev=-1.0, charges=old)
    wal = Path(f"{db}-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0

    n = 200_000
    marker = tmp_path / "mid-write"
    writer = _start(PAUSING_WRITER, url, marker, n)
    _wait_for(marker, writer)
    wal_at_kill = wal.stat().st_size
    os.kill(writer.pid, signal.SIGKILL)
    assert writer.wait(timeout=30) == -signal.SIGKILL
    # Half of the new rows had been written to the WAL, uncommitted, when the process died.
    assert wal_at_kill > wal_before

    assert _integrity(db) == "ok"
    with ResultStore(url) as store:
        stored = store.get("s/a")
        assert (stored.energy_ev, stored.state) == (-1.0, "COMPLETED")
        assert store.count("site_charges") == 8
        assert queries.charges(store)["net_charge"].tolist() == [0.125] * 8
        # The database is writable again: the dead writer's lock is gone.
        store.store_results("s/a", energy_ev=-3.0, charges=[SiteCharge(0, "S", "bader", -0.5)])
        assert queries.charges(store)["net_charge"].tolist() == [-0.5]


def test_sigkill_at_an_arbitrary_moment_leaves_whole_calculations(tmp_path):
    db = tmp_path / "r.sqlite"
    url = f"sqlite:///{db}"
    n, calcs = 5000, 200
    marker = tmp_path / "committed"
    ResultStore(url).close()
    writer = _start(LOOPING_WRITER, url, marker, n, "c", calcs)
    _wait_for(marker, writer)
    time.sleep(0.37)  # a moment unrelated to transaction boundaries
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)

    assert _integrity(db) == "ok"
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT c.calc_id, c.state, c.energy_ev, COUNT(s.id) FROM calculations c "
            "LEFT JOIN site_charges s ON s.calculation_id = c.id GROUP BY c.id"
        ).fetchall()
    assert 1 <= len(rows) < calcs
    for calc_id, state, energy, n_charges in rows:
        assert (state, n_charges, energy) == ("COMPLETED", n, -float(calc_id[3:]))


def test_two_processes_writing_at_once_both_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    ResultStore(url).close()
    writers = [_start(LOOPING_WRITER, url, tmp_path / f"m{p}", 200, p, 40) for p in ("x", "y")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read().decode()
    with ResultStore(url) as store:
        assert store.count("calculations") == 80
        assert store.count("site_charges") == 80 * 200
