"""Fast paths of the results DB give exactly what the generic paths give: the SQLite query
fast path (raw cursor + column-wise conversion) and the batch upsert."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_db_queries import fill  # tests/unit is on sys.path (rootdir-less test modules)

from lisflow.db import frames, queries
from lisflow.db.schema import CalculationRecord
from lisflow.db.store import ResultStore

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
    monkeypatch.setattr(frames, "sqlite_frame", frames.generic_frame)
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


def test_adsorption_ties_come_by_adslab_calc_id(db_url, monkeypatch):
    """Rows equal in study, site, adsorbate and configuration come by adslab calc_id (SQLite
    reads them in index order and sorts the ties in Python; PostgreSQL sorts in SQL); the
    prepared statement of one filter shape serves other values."""
    store = ResultStore(db_url)
    store.upsert_calculation(CalculationRecord("t/slab", "t", "vasp", "relax", "slab", "C2", 2,
                                               labels={"site": "Fe"}))  # fmt: skip
    store.store_results("t/slab", energy_ev=-10.0)
    store.upsert_calculation(CalculationRecord("t/S", "t", "vasp", "relax", "molecule", "S", 1,
                                               labels={"adsorbate": "S"}))  # fmt: skip
    store.store_results("t/S", energy_ev=-1.0)
    # stored (ids, index order of ties) in this order; calc_ids sort otherwise
    configurations = {"t/z": None, "t/m": "c1", "t/b": "c1", "t/a": None, "t/y": "c0"}
    energies = {}
    for i, (calc_id, configuration) in enumerate(configurations.items()):
        labels = {"site": "Fe", "adsorbate": "S"}
        if configuration is not None:
            labels["configuration"] = configuration
        store.upsert_calculation(CalculationRecord(calc_id, "t", "vasp", "relax", "adslab", "C2S",
                                                   3, labels=labels))  # fmt: skip
        store.store_results(calc_id, energy_ev=-11.5 - 0.25 * i)
        energies[calc_id] = store.upsert_adsorption(calc_id, "t/slab", "t/S")
    frame = queries.adsorption(store, site="Fe", adsorbate="S")
    # configuration NULL first, then c0, c1; ties by calc_id
    assert frame["adslab_calc_id"].tolist() == ["t/a", "t/z", "t/y", "t/b", "t/m"]
    assert frame["configuration"].tolist() == [None, None, "c0", "c1", "c1"]
    assert frame["energy_ev"].tolist() == [energies[c] for c in frame["adslab_calc_id"]]
    assert energies["t/a"] == -11.5 - 0.25 * 3 + 10.0 + 1.0
    assert frame["slab_calc_id"].tolist() == ["t/slab"] * 5
    assert len(queries.adsorption(store, site="Co", adsorbate="S")) == 0  # same shape, no rows
    assert len(queries.adsorption(store, site="Fe", adsorbate="Li2S")) == 0
    assert queries.adsorption(store, study="t")["adslab_calc_id"].tolist() == frame[
        "adslab_calc_id"].tolist()  # fmt: skip
    monkeypatch.setattr(frames, "sqlite_frame", frames.generic_frame)
    pd.testing.assert_frame_equal(frame, queries.adsorption(store, site="Fe", adsorbate="S"))
    store.close()


def test_sqlite_connections_have_the_large_page_cache(tmp_path):
    from lisflow.db.store import SQLITE_CACHE_KIB

    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    connection = store.engine.raw_connection()  # the connection the query fast path reads on
    try:
        assert connection.cursor().execute("PRAGMA cache_size").fetchone()[0] == -SQLITE_CACHE_KIB
        assert SQLITE_CACHE_KIB == 65536
    finally:
        connection.close()
    store.close()


def test_fast_path_follows_pandas_string_inference(tmp_path, monkeypatch):
    """With pandas' ``future.infer_string`` on, text columns are inferred (str dtype) as the
    generic path's constructor does; the prepared shapes of the default stay separate."""
    store = ResultStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    fill(store)
    default = queries.calculations(store)
    with pd.option_context("future.infer_string", True):
        fast = queries.calculations(store)
        monkeypatch.setattr(frames, "sqlite_frame", frames.generic_frame)
        generic = queries.calculations(store)
    pd.testing.assert_frame_equal(fast, generic, check_dtype=True)
    assert fast["calc_id"].dtype != default["calc_id"].dtype == object
    store.close()
