"""Fast paths of the results DB give exactly what the generic paths give: the SQLite query
fast path (raw cursor + column-wise conversion) and the batch upsert."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_db_queries import fill  # tests/unit is on sys.path (rootdir-less test modules)

from lisflow.db import queries
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore


def _generic_frame(connection, query):
    result = connection.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


FILTERS = [{}, {"study": "dasc"}, {"site": "FeCo", "adsorbate": "Li2S"}, {"study": "none"}]


def test_sqlite_fast_path_equals_generic_frames(tmp_path, monkeypatch):
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    fill(store)
    store.upsert_calculation(CalculationRecord("dasc/extra", "dasc", "cp2k", "static", "bulk",
                                               fw_id=7, state="FAILED", state_reason="x"))  # fmt: skip
    fast = {
        (name, i): function(store, **f)
        for name, function in queries.QUERIES.items()
        for i, f in enumerate(FILTERS)
    }
    assert len(fast[("calculations", 0)]) == store.count("calculations")
    monkeypatch.setattr(queries, "_sqlite_frame", _generic_frame)
    for (name, i), frame in fast.items():
        expected = queries.QUERIES[name](store, **FILTERS[i])
        pd.testing.assert_frame_equal(frame, expected, check_dtype=True)
    assert fast[("calculations", 0)]["updated_at"].dtype.kind == "M"


def _row(store, calc_id):
    record = store.get(calc_id)
    return {k: v for k, v in dataclasses.asdict(record).items() if k not in ("created_at", "updated_at")}


def test_batch_upsert_equals_one_by_one(db_url, tmp_path):
    """Insert, then update with some fields None (kept) and a new state (reason replaced)."""
    first = [
        CalculationRecord(f"s/c{i}", "s", "vasp", "relax", "slab", "Li2S", 3, input_hash=f"h{i}",
                          state="FAILED", state_reason="walltime", energy_ev=-1.5 * i,
                          fw_id=i, labels={"site": f"m{i}"})  # fmt: skip
        for i in range(5)
    ]
    second = [
        CalculationRecord("s/c0", "s", "vasp", "relax", "slab", "Li2S", 3),  # keeps the rest
        CalculationRecord("s/c1", "s", "vasp", "relax", "slab", "Li2S", 3, state="COMPLETED"),
        CalculationRecord("s/new", "s", "cp2k", "energy", "molecule", "S8", 8, energy_ev=-2.0),
    ]
    one = ResultStore(f"sqlite:///{tmp_path / 'one.sqlite'}")
    ids_one = [one.upsert_calculation(r) for r in first] + [one.upsert_calculation(r) for r in second]
    batch = ResultStore(db_url)
    ids_batch = batch.upsert_calculations(first) + batch.upsert_calculations(second)
    assert ids_batch[:7] == ids_one[:7] == [1, 2, 3, 4, 5, 1, 2]
    assert ids_one[7] == 6 and ids_batch[7] >= 6  # PostgreSQL's sequence moves on conflicts
    assert batch.count("calculations") == 6
    for calc_id in ["s/c0", "s/c1", "s/c2", "s/new"]:
        assert _row(batch, calc_id) == _row(one, calc_id)
    assert _row(batch, "s/c0")["state"] == "FAILED" and _row(batch, "s/c0")["energy_ev"] == 0.0
    assert _row(batch, "s/c1")["state_reason"] is None
    with pytest.raises(Exception, match="state"):
        batch.upsert_calculations([CalculationRecord("s/x", "s", "vasp", "relax", "slab", state="DONE")])
    assert batch.count("calculations") == 6
    batch.close(), one.close()
