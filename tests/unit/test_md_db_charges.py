"""Electrode charges from a results-database calculation (``charges: db:<calc_id>``).

The stored calculation carries real Bader charges: the CP2K + baderkit set of the Mo4/N-G DFT
cell shipped as ``builtin:mo4ng_bader_cp2k`` (made here, inputs/electrode_charges/), stored with
its structure through the store API into SQLite. Read back through the planner, mapped by motif
onto the MD electrode, the charges must equal those of the built-in source exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from lisflow.db.schema import CalculationRecord, SiteCharge
from lisflow.db.store import ResultStore, store_final_structure
from lisflow.errors import InputError
from lisflow.forcefield.charges import read_charge_json, resolve_path
from lisflow.spec.md import load_md_study
from lisflow.structures.md_boxes import build_system
from lisflow.workflows.plan_md import plan_md

CALC = "cp2k_mo4ng/bader"


def _study(tmp_path, charges: str, db: str | None) -> list:
    system = {
        "name": "mo",
        "kind": "interface",
        "electrode": "mo_ngraphene",
        "n_li2s6": 65,
        "box": [98.4, 76.695, 90.0],
        "charges": charges,
    }
    if db is not None:
        system["charges_db"] = db
    study = {
        "study": "dbq",
        "kind": "md",
        "systems": [system],
        "scale": 0.02,
        "protocol": [{"name": "nvt", "ensemble": "nvt", "time_ps": 1.0}],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(study))
    return plan_md(load_md_study(path))


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'results.sqlite'}"
    table = read_charge_json(resolve_path("builtin:mo4ng_bader_cp2k"))
    with ResultStore(url) as store:
        store.upsert_calculation(
            CalculationRecord(
                CALC,
                "cp2k_mo4ng",
                "cp2k",
                "static",
                "support",
                "Mo4N6C104",
                len(table.structure),
                engine_version="CP2K version 2023.1",
            )
        )
        sites = [
            SiteCharge(i, s.specie.symbol, "bader", q)
            for i, (s, q) in enumerate(zip(table.structure, table.charges, strict=True))
        ]
        store.store_results(CALC, energy_ev=-24858.9, charges=sites)
        store_final_structure(store, CALC, table.structure.as_dict(), "input")
    return url, table


def test_db_charges_equal_the_same_set_given_directly(tmp_path, db):
    url, table = db
    (calc,) = _study(tmp_path, f"db:{CALC}", url)
    data = calc.inputs.system["charges"]
    assert data["source"] == f"db:{CALC}" and data["calculation"]["charge_method"] == "bader"
    assert data["calculation"]["engine_version"] == "CP2K version 2023.1"
    assert [s["charge"] for s in data["sites"]] == list(table.charges)
    from_db = build_system(calc.inputs.system)
    direct = build_system({**calc.inputs.system, "charges": "builtin:mo4ng_bader_cp2k"})
    q_db = np.array(from_db.electrode.site_properties["charge"])
    q_direct = np.array(direct.electrode.site_properties["charge"])
    assert np.allclose(q_db, q_direct, atol=1e-12, rtol=0)
    record = from_db.electrode.properties["charges"]
    assert (
        record["source"] == f"db:{CALC}" and record["reference"]["calculation"]["calc_id"] == CALC
    )
    assert record["method"].startswith("bader")
    assert abs(from_db.total_charge) < 1e-6  # whole box neutral
    mo = [q for q, s in zip(q_db, from_db.electrode, strict=True) if s.specie.symbol == "Mo"]
    assert record["mo_total_charge"] == pytest.approx(sum(mo))
    assert calc.labels["electrode_charges"] == f"db:{CALC}"


def test_default_db_is_the_profiles(tmp_path, db, monkeypatch):
    url, _ = db
    monkeypatch.setenv("LISFLOW_DB_URL", url)
    (calc,) = _study(tmp_path, f"db:{CALC}#bader", None)
    assert calc.inputs.system["charges"]["database"].endswith("results.sqlite")


@pytest.mark.parametrize(
    ("prepare", "source", "message"),
    [
        (lambda st: st.set_state(CALC, "RUNNING"), f"db:{CALC}", "is RUNNING, not COMPLETED"),
        (None, "db:nope/none", "no calculation 'nope/none'"),
        (None, f"db:{CALC}#mulliken", "has no stored mulliken charges"),
        (
            lambda st: st.store_results(CALC, charges=[SiteCharge(0, "C", "bader", 0.1)]),
            f"db:{CALC}",
            "bader charges of 1 sites, the structure has 114",
        ),
        (None, f"db:{CALC}#ddec", "unknown charge method 'ddec'"),
    ],
)
def test_refused_in_one_line(tmp_path, db, prepare, source, message):
    url, _ = db
    if prepare is not None:
        with ResultStore(url) as store:
            prepare(store)
    with pytest.raises(InputError, match="charges") as err:
        _study(tmp_path, source, url)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_calc_without_charges_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    with ResultStore(url) as store:
        store.upsert_calculation(CalculationRecord("x/y", "x", "cp2k", "static", "support"))
        store.store_results("x/y", energy_ev=-1.0)
    with pytest.raises(InputError, match="calculation x/y has no stored charges"):
        _study(tmp_path, "db:x/y", url)
