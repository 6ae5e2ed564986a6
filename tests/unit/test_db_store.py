"""ResultStore on SQLite and a real PostgreSQL server: round trips, upserts, transactions."""

from __future__ import annotations

import pytest
from pymatgen.io.vasp import Outcar
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from lisflow.db import queries
from lisflow.db.schema import TABLES, BandCentre, BondIcohp, CalculationRecord, SiteCharge
from lisflow.db.store import MissingResultError, ResultStore, mask_url, resolve_url
from lisflow.errors import InputError, LisflowError

AU100 = "vasp/adsorption_o_on_au100_slab_atomate2"
#: ZVAL of the PAW potentials of the H2O Bader fixture (H: 1, O: 6 valence electrons).
H2O_ZVAL = {"H": 1.0, "O": 6.0}


def _record(
    calc_id: str, role: str = "adslab", n_atoms: int = 4, formula: str = "Au3O", **labels
) -> CalculationRecord:
    study = calc_id.split("/")[0]
    return CalculationRecord(calc_id, study, "vasp", "static", role, formula, n_atoms, labels=labels)


def _acf_charges(path) -> list[dict]:
    """Charges of a Henkelman ACF.dat (valence electrons per atom) for the H2O fixture."""
    rows = [line.split() for line in path.read_text().splitlines()]
    valence = [float(r[4]) for r in rows if len(r) == 7 and r[0].isdigit()]
    elements = ["H", "H", "O"]  # POSCAR order of the fixture
    return [
        {"site_index": i, "element": el, "method": "bader", "valence_electrons": v,
         "net_charge": H2O_ZVAL[el] - v}
        for i, (el, v) in enumerate(zip(elements, valence, strict=True))
    ]  # fmt: skip


@pytest.fixture(scope="module")
def au100_energies(fixtures_dir) -> dict[str, float]:
    """Final energies (eV) of the real atomate2 O-on-Au(100) static runs."""
    names = ("ads_static_1_3", "ads_static_2_3", "slab_static", "mol_static")
    return {n: Outcar(fixtures_dir / AU100 / n / "OUTCAR.gz").final_energy for n in names}


@pytest.fixture
def store(db_url):
    with ResultStore(db_url) as result_store:
        yield result_store


def test_round_trip_of_every_table(store, fixtures_dir, au100_energies):
    e = au100_energies
    store.upsert_calculation(_record("au/slab", "slab", 12, "Au12", site="hollow"))
    store.upsert_calculation(_record("au/O", "molecule", 1, "O"))
    for name, site in (("ads_static_1_3", "bridge"), ("ads_static_2_3", "hollow")):
        record = _record(f"au/{name}", "adslab", 13, "Au12O", site=site, adsorbate="O")
        store.upsert_calculation(record)
        store.store_results(f"au/{name}", energy_ev=e[name], files={"CHGCAR": f"/runs/{name}"})
    store.store_results("au/slab", energy_ev=e["slab_static"])
    store.store_results("au/O", energy_ev=e["mol_static"])
    e_bridge = store.upsert_adsorption("au/ads_static_1_3", "au/slab", "au/O")
    store.upsert_adsorption("au/ads_static_2_3", "au/slab", "au/O", configuration="top-down")
    assert e_bridge == pytest.approx(-2.0976731, abs=1e-7)
    assert e_bridge == e["ads_static_1_3"] - e["slab_static"] - e["mol_static"]

    charges = _acf_charges(fixtures_dir / "bader/h2o_molecule_acf_pyiron/ACF.dat")
    bands = [BandCentre(0, "Au", "d", -3.125, spin="up"), BandCentre(0, "Au", "d", -3.5, "down")]
    icohps = [BondIcohp("1", "Au1", "O13", -0.97, 2.05)]
    store.store_results("au/slab", charges=charges, bands=bands, icohps=icohps)
    store.upsert_polymorph("au/slab", "fcc", -0.125)
    store.store_series("au/O", "msd", "MSD_Li", [0.0, 0.5, 1.0], [0.0, 0.3, 0.7], "ps", "A^2")
    store.store_scalar("au/O", "D_Li", 1.25e-3, "A^2/ps")

    counts = {table: store.count(table) for table in TABLES}
    assert counts == {
        "calculations": 4, "site_charges": 3, "band_centres": 2, "bond_icohps": 1,
        "adsorption_energies": 2, "polymorph_energies": 1, "md_series": 3, "md_scalars": 1,
        "final_structures": 0,
        "site_magmoms": 0,
    }  # fmt: skip
    adslab = store.get("au/ads_static_1_3")
    assert (adslab.state, adslab.energy_ev) == ("COMPLETED", e["ads_static_1_3"])
    assert adslab.energy_per_atom_ev == e["ads_static_1_3"] / 13
    assert adslab.files == {"CHGCAR": "/runs/ads_static_1_3"}
    assert (adslab.site, adslab.adsorbate, adslab.lisflow_version) == ("bridge", "O", "0.1.0")
    assert adslab.created_at.tzinfo is not None
    ads = queries.adsorption(store)
    assert list(ads["site"]) == ["bridge", "hollow"]
    assert list(ads["configuration"].fillna("-")) == ["-", "top-down"]
    q = queries.charges(store)
    assert list(q["valence_electrons"]) == [0.438202, 0.438197, 7.143794]
    assert q["net_charge"].tolist() == pytest.approx([0.561798, 0.561803, -1.143794], abs=1e-12)
    assert queries.bands(store)["spin"].tolist() == ["down", "up"]
    assert queries.icohp(store).iloc[0][["atom2", "length_a", "icohp_ev"]].tolist() == [
        "O13",
        2.05,
        -0.97,
    ]
    assert queries.polymorphs(store)["formation_energy_per_atom_ev"].tolist() == [-0.125]
    assert queries.series(store)["y"].tolist() == [0.0, 0.3, 0.7]
    assert queries.scalars(store).iloc[0][["name", "value", "unit"]].tolist() == [
        "D_Li",
        1.25e-3,
        "A^2/ps",
    ]


def test_upserts_are_idempotent_and_update_values(store):
    first = store.upsert_calculation(_record("s/a", site="Mo4", adsorbate="Li2S6"))
    charges = [SiteCharge(i, "Mo", "bader", 0.5 * i) for i in range(4)]
    store.store_results("s/a", energy_ev=-10.0, charges=charges, files={"CHGCAR": "a"})
    store.store_results("s/a", charges=[SiteCharge(0, "Mo", "mulliken", 0.1)])
    created = store.get("s/a").created_at
    # Re-planning with None results keeps the stored results; identity columns are updated.
    again = _record("s/a", n_atoms=5, site="Mo6", adsorbate="Li2S6")
    assert store.upsert_calculation(again) == first
    stored = store.get("s/a")
    assert (stored.n_atoms, stored.site, stored.energy_ev, stored.state) == (
        5,
        "Mo6",
        -10.0,
        "COMPLETED",
    )
    assert stored.created_at == created and stored.updated_at >= created
    # Re-parsing replaces the bader rows, keeps mulliken, merges files.
    new = [
        {"site_index": i, "element": "Mo", "method": "BADER", "net_charge": 7.37} for i in range(2)
    ]
    for _ in range(2):
        store.store_results("s/a", energy_ev=-11.0, charges=new, files={"LOCPOT": "b"})
    assert store.count("calculations") == 1
    q = queries.charges(store)
    assert q[["method", "site_index", "net_charge"]].values.tolist() == [
        ["bader", 0, 7.37], ["bader", 1, 7.37], ["mulliken", 0, 0.1]
    ]  # fmt: skip
    stored = store.get("s/a")
    assert (stored.energy_ev, stored.energy_per_atom_ev) == (-11.0, -11.0 / 5)
    assert stored.files == {"CHGCAR": "a", "LOCPOT": "b"}
    store.store_scalar("s/a", "D", 1.0, "A^2/ps")
    store.store_scalar("s/a", "D", 2.0, "A^2/ps")
    store.store_series("s/a", "msd", "Li", range(5), range(5), "ps", "A^2")
    store.store_series("s/a", "msd", "Li", [0, 1], [3, 4], "ps", "A^2")
    assert store.count("md_scalars") == 1 and queries.scalars(store)["value"].tolist() == [2.0]
    assert queries.series(store)[["index", "y"]].values.tolist() == [[0, 3.0], [1, 4.0]]


def test_failed_store_results_leaves_nothing_behind(store):
    store.upsert_calculation(_record("s/a"))
    store.store_results("s/a", energy_ev=-1.0, charges=[SiteCharge(0, "Li", "bader", 0.8)])
    bad_icohp = {"label": "1", "atom1": "Fe1", "atom2": "S2"}  # no icohp_ev
    bands = [BandCentre(0, "Fe", "d", -1.1)]
    charges = [SiteCharge(0, "Li", "bader", 0.9), SiteCharge(1, "S", "bader", -0.4)]
    with pytest.raises(InputError, match=r"icohps\[0\]\.icohp_ev: missing"):
        store.store_results("s/a", energy_ev=-2.0, charges=charges, bands=bands, icohps=[bad_icohp])
    assert (store.get("s/a").energy_ev, store.count("site_charges")) == (-1.0, 1)
    assert store.count("band_centres") == 0
    assert queries.charges(store)["net_charge"].tolist() == [0.8]


def test_transaction_rolls_back_everything_and_savepoints_nest(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_calculation(_record("s/a"))
        store.store_results("s/a", energy_ev=-1.0, bands=[BandCentre(0, "Fe", "d", -1.2)])
        raise RuntimeError("crash after the writes")
    assert (store.count("calculations"), store.count("band_centres")) == (0, 0)
    with store.transaction():
        store.upsert_calculation(_record("s/a"))
        with pytest.raises(MissingResultError):
            store.upsert_adsorption("s/a", "s/none", "s/none")  # inner failure: only it undone
        with pytest.raises(InputError):
            store.store_results("s/a", energy_ev=-5.0, charges=[{"site_index": 0}])
    assert store.get("s/a").energy_ev is None and store.count("calculations") == 1


def test_duplicate_detection_by_input_hash(store):
    for calc_id in ("s/a", "s/b"):
        record = _record(calc_id)
        record.input_hash = "abc"
        store.upsert_calculation(record)
    assert store.completed_by_hash("abc") is None
    store.store_results("s/b", energy_ev=-3.0)
    store.set_state("s/a", "FAILED", reason="ZBRENT")
    assert store.completed_by_hash("abc").calc_id == "s/b"
    assert (store.get("s/a").state, store.get("s/a").state_reason) == ("FAILED", "ZBRENT")
    assert store.completed_by_hash("other") is None
    replanned = _record("s/a")
    replanned.state = "PLANNED"
    store.upsert_calculation(replanned)
    assert (store.get("s/a").state, store.get("s/a").state_reason) == ("PLANNED", None)


def test_readers_see_committed_data_while_a_writer_is_open(store, db_url):
    with ResultStore(db_url) as other, store.transaction():
        store.upsert_calculation(_record("s/a"))
        # Another connection neither blocks on the open write nor sees it uncommitted.
        assert (other.count("calculations"), other.get("s/a")) == (0, None)
    with ResultStore(db_url) as other:
        assert other.get("s/a").calc_id == "s/a"


def test_invalid_values_name_the_field_and_allowed_values(store):
    store.upsert_calculation(_record("s/a"))
    with pytest.raises(InputError, match=r"charges\[1\]\.method: 'ddec'.*bader, acf, mulliken"):
        store.store_results(
            "s/a", charges=[SiteCharge(0, "Li", "acf", 1), SiteCharge(0, "Li", "ddec", 1)]
        )
    with pytest.raises(InputError, match=r"bands\[0\]\.spin.*up, down, total"):
        store.store_results("s/a", bands=[BandCentre(0, "Fe", "d", -1.0, spin="alpha")])
    with pytest.raises(InputError, match=r"^state:.*PARSE_ERROR"):
        store.set_state("s/a", "DONE")
    with pytest.raises(InputError, match=r"^table:.*md_scalars"):
        store.count("energies")
    with pytest.raises(InputError, match=r"^y: has 1 values but x has 2"):
        store.store_series("s/a", "msd", "Li", [0, 1], [0], "ps", "A^2")
    with pytest.raises(MissingResultError, match="no calculation 's/zz'"):
        store.store_results("s/zz", energy_ev=1.0)
    with pytest.raises(MissingResultError, match="no total energy stored for s/a"):
        store.upsert_adsorption("s/a", "s/a", "s/a")


def test_database_enforces_keys_and_cascades(store):
    store.upsert_calculation(_record("s/a"))
    store.store_results("s/a", charges=[SiteCharge(0, "Li", "bader", 0.8)])
    with pytest.raises(IntegrityError), store.transaction() as session:
        session.execute(
            text("INSERT INTO site_charges (calculation_id, site_index, element, method, "
                 "net_charge) VALUES (999, 0, 'Li', 'bader', 1.0)")
        )  # fmt: skip
    with pytest.raises(IntegrityError), store.transaction() as session:
        session.execute(text("UPDATE site_charges SET method = 'ddec'"))
    with store.transaction() as session:
        session.execute(text("DELETE FROM calculations"))
    assert store.count("site_charges") == 0


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    with ResultStore(f"sqlite:///{tmp_path / 'sub' / 'r.sqlite'}") as store:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "sub" / "r.sqlite").is_file()


def test_url_resolution_and_password_masking(tmp_path, monkeypatch):
    monkeypatch.delenv("LISFLOW_DB_URL", raising=False)
    monkeypatch.delenv("LISFLOW_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_url().database == str(tmp_path / ".lisflow" / "results.sqlite")
    monkeypatch.setenv("LISFLOW_DB_URL", "postgresql://lis:s3cr3t@db.example:5433/results")
    url = resolve_url()
    assert (url.drivername, url.port, url.password) == ("postgresql+psycopg", 5433, "s3cr3t")
    assert mask_url(url) == "postgresql+psycopg://lis:***@db.example:5433/results"
    assert resolve_url(f"sqlite:///{tmp_path}/x.sqlite").get_backend_name() == "sqlite"
    with pytest.raises(InputError, match=r"^db_url: unsupported database 'mysql'"):
        resolve_url("mysql://u:p@h/d")
    with pytest.raises(InputError, match=r"^db_url: not a database URL"):
        resolve_url("not a url")
    monkeypatch.delenv("LISFLOW_DB_URL")
    with ResultStore() as store:
        store.upsert_calculation(_record("s/a"))
    assert (tmp_path / ".lisflow" / "results.sqlite").is_file()


@pytest.mark.postgres
def test_repr_masks_a_real_postgres_password(pg_server):
    name = "lisflow_masking"
    url = pg_server.create_database(name).replace("postgres@", "postgres:hunter2@")
    with ResultStore(url) as store:
        assert store.count("calculations") == 0  # trust auth: the password is not checked
        assert "hunter2" not in repr(store) and "postgres:***@" in store.display_url
    pg_server.drop_database(name)


def test_open_store_existing_only_unless_create(tmp_path, monkeypatch):
    from lisflow.db.store import open_store
    from lisflow.workflows.firetasks import deferrable_store, required_store

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    with pytest.raises(InputError, match=r"^db_url: no database file .*r\.sqlite") as info:
        open_store(url)
    assert info.value.field == "db_url" and not (tmp_path / "r.sqlite").exists()
    with open_store(url, create=True) as store:
        assert store.count("calculations") == 0
    open_store(url).close()  # now it exists
    monkeypatch.setenv("LISFLOW_DEFER_STORE", "1")
    assert deferrable_store(url) is None
    with pytest.raises(LisflowError, match="^AdsorptionEnergyTask reads the results database"):
        required_store(url, "AdsorptionEnergyTask")
