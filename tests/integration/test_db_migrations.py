"""Issue 15 item 7: Alembic migrations. A database of the first schema (commit 378404a,
frozen in tests/data/schema_378404a.py) is upgraded in place when ResultStore opens it: rows
kept, new tables and columns usable, equal to a fresh database, stamped head; a second open
changes nothing; a fresh database is created at head (SQLite file and PostgreSQL)."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select, text
from typer.testing import CliRunner

from lisflow.db import schema as s
from lisflow.db.migrations import current_revision, head
from lisflow.db.store import ResultStore

OLD_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schema_378404a.py"


@functools.cache
def _old_schema():
    spec = importlib.util.spec_from_file_location("schema_378404a", OLD_SCHEMA)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the typed ORM resolves its annotations there
    spec.loader.exec_module(module)
    return module


def _fill_old_database(url: str) -> None:
    """The 378404a tables (as its create_all made them, unversioned) with one adsorption
    energy, its three calculations, two Bader charges and one ICOHP."""
    old = _old_schema()
    engine = create_engine(url)
    with engine.begin() as connection:
        old.Base.metadata.create_all(connection)
        calcs = [
            ("ads/slab", "slab", -300.0),
            ("ads/mol", "molecule", -20.0),
            ("ads/adslab", "adslab", -321.25),
        ]
        ids = {}
        for i, (calc_id, role, energy) in enumerate(calcs, start=1):
            ids[role] = connection.execute(
                insert(old.CalculationRow.__table__)
                .returning(old.CalculationRow.id)
                .values(
                    calc_id=calc_id,
                    study="ads",
                    engine="vasp",
                    task="relax",
                    role=role,
                    formula="Li2S",
                    n_atoms=3,
                    input_hash=f"hash{i}",
                    state="COMPLETED",
                    energy_ev=energy,
                    labels={"site": "top"},
                    files={},
                    lisflow_version="0.1.0",
                    engine_version="vasp.6.4.2",
                    created_at=s.utc_now(),
                    updated_at=s.utc_now(),
                )  # fmt: skip
            ).scalar_one()
        assert list(ids.values()) == [1, 2, 3]
        connection.execute(
            insert(old.AdsorptionEnergyRow.__table__).values(
                study="ads",
                site="top",
                adsorbate="Li2S",
                adslab_id=3,
                slab_id=1,
                molecule_id=2,
                energy_ev=-1.25,
            )  # fmt: skip
        )
        connection.execute(
            insert(old.SiteChargeRow.__table__),
            [
                {
                    "calculation_id": 3,
                    "site_index": k,
                    "element": "Li",
                    "method": "bader",
                    "net_charge": 0.85 - k * 0.01,
                }
                for k in range(2)
            ],  # fmt: skip
        )
        connection.execute(
            insert(old.BondIcohpRow.__table__).values(
                calculation_id=3,
                label="1",
                atom1="Li1",
                atom2="S2",
                length_a=2.41,
                icohp_ev=-1.07,
            )  # fmt: skip
        )
    assert "alembic_version" not in inspect(engine).get_table_names()
    engine.dispose()


def _schema_differences(store: ResultStore) -> list:
    """Alembic's differences between the database and the metadata, leaving out the objects
    made for the other back end only (``Index.ddl_if(dialect=...)``)."""
    dialect = store.engine.dialect.name

    def made_here(obj, _name, _type, _reflected, _compare_to) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        return ddl_if is None or ddl_if.dialect in (None, dialect)

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": made_here})
        return compare_metadata(context, s.Base.metadata)


def _site_adsorbate_index(store: ResultStore) -> list[str]:
    """Columns of the "one site + adsorbate" index; the 0002 index must be gone."""
    indexes = {i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes(
        "adsorption_energies")}  # fmt: skip
    assert "ix_adsorption_energies_site_adsorbate" not in indexes
    if store.engine.dialect.name == "sqlite":
        return indexes["ix_adsorption_energies_site_adsorbate_covering"]
    return indexes["ix_adsorption_energies_site_adsorbate_study"]


SITE_ADSORBATE_KEYS = ["site", "adsorbate", "study", "configuration"]


def test_first_schema_is_upgraded_in_place_with_its_rows(db_url):
    _fill_old_database(db_url)
    store = ResultStore(db_url)
    with store.engine.connect() as connection:
        assert current_revision(connection) == head() == "0004"
    assert _schema_differences(store) == []  # same tables, columns, indexes as a fresh DB
    columns = _site_adsorbate_index(store)
    assert columns[:4] == SITE_ADSORBATE_KEYS
    # SQLite: covering (13 columns: the keys, 3 calculation ids, 6 adsorption fields)
    assert len(columns) == (13 if store.engine.dialect.name == "sqlite" else 4)

    assert store.count("calculations") == 3 and store.count("site_charges") == 2
    with store.engine.connect() as connection:
        ads = connection.execute(select(s.AdsorptionEnergyRow.__table__)).mappings().one()
        icohp = connection.execute(select(s.BondIcohpRow.__table__)).mappings().one()
        calc = (
            connection.execute(
                select(s.CalculationRow.__table__).where(s.CalculationRow.calc_id == "ads/adslab")
            )
            .mappings()
            .one()
        )
    assert (ads["energy_ev"], ads["slab_multiple"], ads["molecule_coefficient"]) == (-1.25, 1, 1.0)
    assert (ads["state"], ads["state_reason"], ads["adslab_id"]) == ("COMPLETED", None, 3)
    assert (icohp["icohp_ev"], icohp["length_a"], icohp["translation_a"]) == (-1.07, 2.41, None)
    assert (calc["energy_ev"], calc["input_hash"], calc["engine_version"]) == (
        -321.25, "hash3", "vasp.6.4.2",
    )  # fmt: skip
    assert calc["lisflow_commit"] is None  # unknown for rows stored before revision 0003

    # the new tables and values work on the upgraded database
    store.store_magmoms("ads/adslab", [{"site_index": 0, "element": "Li", "moment_mub": 0.02}])
    store.store_results(
        "ads/adslab",
        charges=[{"site_index": 0, "element": "Li", "net_charge": 0.8}],
        charge_method="loewdin",  # widened CHECK constraint (SQLite: table rebuilt)
        icohps=[{"label": "1", "atom1": "Li1", "atom2": "S2", "icohp_ev": -1.07,
                 "translation": (0, 1, -1)}],
    )  # fmt: skip
    assert store.count("site_magmoms") == 1 and store.count("site_charges") == 3
    store.upsert_calculation(
        s.CalculationRecord(calc_id="new/1", study="ads", engine="cp2k", task="energy",
                            role="molecule", state="COMPLETED", energy_ev=-5.0)
    )  # fmt: skip
    assert store.get("new/1").lisflow_commit and store.count("calculations") == 4
    assert store.count("final_structures") == 0
    with store.engine.connect() as connection:
        moved = connection.execute(select(s.BondIcohpRow.translation_c)).scalar_one()
    assert moved == -1
    store.close()

    # a second open is a no-op: same revision, same rows
    again = ResultStore(db_url)
    with again.engine.connect() as connection:
        assert current_revision(connection) == "0004"
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert again.count("site_charges") == 3 and again.count("adsorption_energies") == 1
    again.close()


def test_fresh_database_is_created_at_head_and_shown(db_url):
    from lisflow.cli import app

    store = ResultStore(db_url)
    with store.engine.connect() as connection:
        assert current_revision(connection) == head()
    assert _schema_differences(store) == []
    assert _site_adsorbate_index(store)[:4] == SITE_ADSORBATE_KEYS
    store.close()
    result = CliRunner().invoke(app, ["db", "version", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"schema revision {head()} (newest {head()})" in result.output


def test_query_calculations_shows_provenance(tmp_path):
    import lisflow
    from lisflow.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    store.upsert_calculation(
        s.CalculationRecord(
            calc_id="c1",
            study="st",
            engine="cp2k",
            task="energy",
            role="molecule",
            input_hash="abc123",
            state="COMPLETED",
            energy_ev=-10.5,
            engine_version="CP2K version 2023.1",
        )  # fmt: skip
    )
    store.close()
    result = CliRunner().invoke(app, ["query", "calculations", "--db", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["input_hash"] == "abc123" and row["engine"] == "cp2k"
    assert row["engine_version"] == "CP2K version 2023.1"
    assert row["lisflow_version"] == lisflow.__version__
    assert row["lisflow_commit"] == lisflow.describe() != ""


def test_unversioned_database_of_an_intermediate_schema_is_upgraded(db_url):
    """A database made by create_all between 378404a and the migrations (some new tables
    already there, no alembic_version): the idempotent revisions add only what is missing."""
    ResultStore(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("DROP TABLE final_structures"))
        connection.execute(text("ALTER TABLE calculations DROP COLUMN lisflow_commit"))
    engine.dispose()
    store = ResultStore(db_url)
    with store.engine.connect() as connection:
        assert current_revision(connection) == head()
    assert _schema_differences(store) == []
    store.close()


def _open(url: str, start_at: float, queue) -> None:
    import time

    try:
        while time.time() < start_at:
            time.sleep(0.001)
        store = ResultStore(url)
        store.close()
        queue.put("ok")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(f"{type(exc).__name__}: {exc}"[:300])


def test_concurrent_opens_upgrade_an_old_database_once(db_url):
    """Three processes open a 378404a database at the same moment: the upgrade runs under the
    schema lock, so one upgrades and the others find it at head; nothing fails, rows kept."""
    import multiprocessing
    import time

    _fill_old_database(db_url)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 8.0  # spawned interpreters import lisflow first
    workers = [context.Process(target=_open, args=(db_url, start_at, queue)) for _ in range(3)]
    for process in workers:
        process.start()
    results = [queue.get(timeout=300) for _ in workers]
    for process in workers:
        process.join(timeout=60)
    assert results == ["ok"] * 3
    store = ResultStore(db_url)
    with store.engine.connect() as connection:
        assert current_revision(connection) == head()
    assert _schema_differences(store) == []
    assert store.count("calculations") == 3 and store.count("adsorption_energies") == 1
    store.close()


def test_database_from_a_newer_lisflow_is_refused_in_one_line(tmp_path):
    """A results DB stamped by a newer lisflow (unknown revision): exit 2, one line, untouched."""
    from lisflow.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultStore(url)
    store.upsert_calculation(s.CalculationRecord("c1", "st", "cp2k", "energy", "molecule"))
    store.close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = CliRunner().invoke(app, ["query", "calculations", "--db", url])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "schema revision 9999 is newer" in lines[0], result.output
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
        assert connection.execute(text("SELECT count(*) FROM calculations")).scalar() == 1
    engine.dispose()
