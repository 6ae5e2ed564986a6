"""``ResultStore``: transactional, idempotent writes of calculation results to SQLite/PostgreSQL.

Database URL: the ``url`` argument (CLI ``--db``), else ``$LISFLOW_DB_URL``, else the SQLite
file ``$LISFLOW_HOME/results.sqlite`` (``./.lisflow/results.sqlite``). PostgreSQL URLs use psycopg 3
(``postgresql+psycopg://user:password@host:5432/dbname``). URLs are only shown masked.

Result rows are duck-typed: ``charges``, ``bands`` and ``icohps`` accept the dataclasses
``SiteCharge`` of :mod:`lisflow.db.schema`, the parsers' ``BandCentre`` and ``BondIcohp`` (one
record type each, re-exported by :mod:`lisflow.db`), any object with the
same attribute names, or dicts with those keys (optional ones may be absent):

- charge: ``site_index`` (or ``index``), ``method`` (or the ``charge_method`` argument),
  ``net_charge`` (may be None) [``element, valence_electrons, label``]
- band centre: ``site_index, orbital, centre_ev`` [``element, spin`` (default total), ``label``]
- ICOHP: ``label, atom1, atom2, icohp_ev`` [``length_a``, ``translation``]

Bader sites go in as ``BaderResult.to_records()`` rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC
from importlib.metadata import version as _metadata_version
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

import lisflow
from lisflow.db import schema as s
from lisflow.db.validate import finite, finite_row, finite_values
from lisflow.errors import InputError, LisflowError

#: Environment variable holding the default database URL.
ENV_VAR = "LISFLOW_DB_URL"
#: File name of the default SQLite database (in the current working directory).
DEFAULT_SQLITE_NAME = "results.sqlite"
#: Supported back ends and how their URLs look.
BACKENDS = ("sqlite", "postgresql")
URL_FORMS = "sqlite:///PATH, postgresql+psycopg://USER:PASSWORD@HOST:PORT/DBNAME"
#: Execution option that makes a SQLite transaction take the write lock at BEGIN.
WRITE_OPTION = "lisflow_write"
#: Rows per INSERT batch when storing child rows.
CHUNK = 2000
#: Page cache of each SQLite connection (KiB; allocated as pages are read).
SQLITE_CACHE_KIB = 65536


class MissingResultError(LisflowError):
    """A calculation or energy needed for a derived quantity is not in the database."""


def default_url() -> str:
    """``$LISFLOW_DB_URL`` or the local profile's ``sqlite:///$LISFLOW_HOME/results.sqlite``
    (``LISFLOW_HOME`` defaults to ``./.lisflow``): the file ``lisflow submit/run`` writes."""
    from lisflow.fsutil import lisflow_home

    return os.environ.get(ENV_VAR) or f"sqlite:///{lisflow_home() / DEFAULT_SQLITE_NAME}"


def resolve_url(url: str | URL | None = None) -> URL:
    """Parse ``url`` (or the default); a bare ``postgresql://`` gets the psycopg 3 driver."""
    try:
        parsed = make_url(url if url is not None else default_url())
    except ArgumentError:
        raise InputError("db_url", "not a database URL", allowed=URL_FORMS) from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise InputError("db_url", f"unsupported database {backend!r}", allowed=URL_FORMS)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def mask_url(url: str | URL) -> str:
    """The URL as text with its password (user info and ``?password=``-like query arguments,
    see :mod:`lisflow.urls`) replaced by ``***``."""
    from lisflow.urls import mask_url as mask_text

    try:
        return mask_text(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return "<invalid database URL>"


def sqlite_path(url: URL) -> Path | None:
    """File of a SQLite URL (None for in-memory SQLite and for other back ends)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def create_db_engine(url: URL) -> Engine:
    """Engine for ``url``. SQLite: WAL journal, synchronous=NORMAL, foreign keys, 30 s busy
    timeout.

    SQLite's driver-level implicit transactions are switched off and SQLAlchemy's ``begin``
    event emits ``BEGIN`` itself, so one ``Session`` transaction is one SQLite transaction;
    write transactions (:data:`WRITE_OPTION`) use ``BEGIN IMMEDIATE`` so that concurrent
    writers queue on the lock instead of failing when upgrading a read lock.
    """
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if (path := sqlite_path(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        # synchronous=NORMAL is safe in WAL mode: a crash never corrupts or half-applies a
        # transaction; only the last commits before a power loss may be lost. cache_size:
        # up to 64 MiB of pages per pooled connection (SQLite's default is 2 MiB), so that the
        # joined calculations of repeated queries are read from memory, not the file.
        pragmas = (
            "busy_timeout=30000",
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"cache_size=-{SQLITE_CACHE_KIB}",
        )
        for pragma in pragmas:
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: Installed version of a package (cached: reading package metadata costs ~1 ms per call).
package_version = functools.lru_cache(maxsize=None)(_metadata_version)


#: Key of the PostgreSQL advisory lock that serialises schema creation (any fixed bigint).
SCHEMA_LOCK_KEY = 0x6C6973666C6F77  # "lisflow"


def create_schema(engine: Engine) -> None:
    """Create the tables of a fresh database or upgrade an older one to the newest schema
    revision (:func:`lisflow.db.migrations.migrate`), race-free when several processes open
    the database at once: the existence checks and the migration run under one lock.

    SQLite: in one ``BEGIN IMMEDIATE`` transaction (the write lock is taken before the
    existence checks, so a second process waits on the busy timeout instead of failing with
    "database is locked"). PostgreSQL: under a transaction-level advisory lock, so the second
    process sees the committed tables instead of violating ``pg_type``'s unique index.
    """
    from lisflow.db.migrations import migrate

    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
            with connection.begin():
                migrate(connection)
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        migrate(connection)


#: Columns of ``calculations`` an upsert always overwrites; the others only when not None.
_IDENTITY = ("study", "engine", "task", "role", "formula", "n_atoms", "labels", "site", "adsorbate")
_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(s.CalculationRecord))


class ResultStore:
    """Results database. Every public method runs in one transaction (or joins the one opened
    with :meth:`transaction`); writes are upserts on the tables' unique keys. One thread each.
    """

    def __init__(self, url: str | URL | None = None, *, create: bool = True) -> None:
        """Open (and on first use create) the database. ``create=False``: a missing SQLite
        file raises ``InputError`` instead of being created."""
        self.url = resolve_url(url)
        path = sqlite_path(self.url)
        if not create and path is not None and not path.exists():
            raise InputError("db_url", f"no database file {path}", allowed=URL_FORMS)
        self.engine = create_db_engine(self.url)
        self._session: Session | None = None
        self._insert = _dialect_insert(self.engine.dialect.name)
        create_schema(self.engine)

    @property
    def display_url(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.url)

    def __repr__(self) -> str:
        return f"ResultStore({self.display_url!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction for everything inside; an exception rolls all of it back.

        Nested use opens a SAVEPOINT, so a failed inner call undoes only its own writes.
        ``write=False`` (reads only) does not take SQLite's write lock.
        """
        if self._session is not None:
            with self._session.begin_nested():
                yield self._session
            return
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection(execution_options={WRITE_OPTION: write})
            self._session = session
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                self._session = None

    # --- calculations -----------------------------------------------------------------------

    def upsert_calculation(self, record: s.CalculationRecord) -> int:
        """Insert or update the calculation ``record.calc_id``; returns its primary key."""
        return self.upsert_calculations([record])[0]

    def upsert_calculations(self, records: Sequence[s.CalculationRecord]) -> list[int]:
        """Upsert many calculations in one transaction, one statement per batch of records with
        the same set of given fields; same result per record as :meth:`upsert_calculation`.
        Returns the primary keys in the order of ``records``."""
        groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
        for position, record in enumerate(records):
            values, changed = _calculation_upsert_values(record)
            groups.setdefault(changed, []).append((position, values))
        ids: list[int] = [0] * len(records)
        with self.transaction() as session:
            for changed, items in groups.items():
                stmt = self._insert(s.CalculationRow)
                set_ = {k: stmt.excluded[k] for k in changed}
                stmt = stmt.on_conflict_do_update(
                    index_elements=["calc_id"], set_={**set_, "updated_at": stmt.excluded.updated_at}
                ).returning(s.CalculationRow.id, sort_by_parameter_order=True)
                for batch in _batched(items, CHUNK):
                    rows = session.execute(stmt, [values for _, values in batch]).all()
                    for (position, _), row in zip(batch, rows, strict=True):
                        ids[position] = row[0]
        return ids

    def set_state(self, calc_id: str, state: str, reason: str | None = None) -> None:
        """Set the life-cycle state (one of ``STATES``) and its reason."""
        state = s.choice(state, s.STATES, "state")
        with self.transaction() as session:
            self._pk(session, calc_id)
            session.execute(
                update(s.CalculationRow)
                .where(s.CalculationRow.calc_id == calc_id)
                .values(state=state, state_reason=reason, updated_at=s.utc_now())
            )

    def get(self, calc_id: str) -> s.CalculationRecord | None:
        """The calculation ``calc_id``, or None."""
        with self.transaction(write=False) as session:
            row = session.scalar(
                select(s.CalculationRow).where(s.CalculationRow.calc_id == calc_id)
            )
            return None if row is None else _record(row)

    def completed_by_hash(self, input_hash: str) -> s.CalculationRecord | None:
        """The latest COMPLETED calculation with this input hash (duplicate detection)."""
        query = (
            select(s.CalculationRow)
            .where(s.CalculationRow.input_hash == input_hash, s.CalculationRow.state == "COMPLETED")
            .order_by(s.CalculationRow.updated_at.desc(), s.CalculationRow.id.desc())
            .limit(1)
        )
        with self.transaction(write=False) as session:
            row = session.scalar(query)
            return None if row is None else _record(row)

    def count(self, table: str) -> int:
        """Number of rows in ``table`` (a name in ``schema.TABLES``)."""
        if table not in s.TABLES:
            raise InputError("table", f"unknown table {table!r}", allowed=", ".join(s.TABLES))
        with self.transaction(write=False) as session:
            return session.scalar(select(func.count()).select_from(s.TABLES[table])) or 0

    # --- results ----------------------------------------------------------------------------

    def store_results(
        self,
        calc_id: str,
        *,
        energy_ev: float | None = None,
        charges: Iterable[Any] = (),
        bands: Iterable[Any] = (),
        icohps: Iterable[Any] = (),
        files: Mapping[str, str] | None = None,
        state: str = "COMPLETED",
        charge_method: str | None = None,
    ) -> None:
        """Store the parsed results of one calculation in ONE transaction (all or nothing).

        ``energy_ev`` is the total energy (eV; per atom is derived from ``n_atoms``). Given
        charges replace the stored ones of the same methods; given bands / ICOHPs replace all
        stored ones; empty ones keep what is stored. ``charge_method`` applies to charges that
        carry no ``method`` (e.g. ``BaderResult.sites``). ``files`` ({kind: path}) is merged
        into the stored file paths.
        """
        state = s.choice(state, s.STATES, "state")
        finite(energy_ev, "energy_ev", calc_id)
        with self.transaction() as session:
            row = self._row(session, calc_id)
            if energy_ev is not None:
                row.energy_ev = float(energy_ev)
                row.energy_per_atom_ev = float(energy_ev) / row.n_atoms if row.n_atoms else None
            if files:
                row.files = {**(row.files or {}), **{k: str(v) for k, v in files.items()}}
            row.state, row.state_reason, row.updated_at = state, None, s.utc_now()
            session.flush()
            charge_row = functools.partial(s.charge_row, method=charge_method)
            self._replace(session, s.SiteChargeRow, row.id, charges, charge_row, "method")
            self._replace(session, s.BandCentreRow, row.id, bands, s.band_row, None)
            self._replace(session, s.BondIcohpRow, row.id, icohps, s.icohp_row, None)

    def store_magmoms(self, calc_id: str, magmoms: Iterable[Any]) -> None:
        """Replace the per-site magnetic moments (μB) of ``calc_id``."""
        with self.transaction() as session:
            pk = self._pk(session, calc_id)
            session.execute(delete(s.SiteMagmomRow).where(s.SiteMagmomRow.calculation_id == pk))
            self._replace(session, s.SiteMagmomRow, pk, magmoms, s.magmom_row, None)

    def upsert_adsorption(
        self,
        adslab_calc_id: str,
        slab_calc_id: str,
        molecule_calc_id: str,
        *,
        site: str | None = None,
        adsorbate: str | None = None,
        configuration: str | None = None,
        study: str | None = None,
    ) -> float:
        """Store E_ads = E_adslab − n·E_slab − ν·E_molecule (eV) from the stored energies.

        n and ν come from the exact stoichiometry of the stored formulas
        (``lisflow.structures.stoichiometry``); when there is none, a FAILED row with the
        reason is stored and ``StoichiometryError`` raised. Labels default to the adslab
        calculation's ``site``/``adsorbate``/``configuration`` labels and study. Returns E_ads.
        """
        from lisflow.structures.stoichiometry import StoichiometryError, adsorption_stoichiometry

        with self.transaction() as session:
            rows = [self._row(session, c) for c in (adslab_calc_id, slab_calc_id, molecule_calc_id)]
            missing = [r.calc_id for r in rows if r.energy_ev is None]
            if missing:
                raise MissingResultError(f"no total energy stored for {', '.join(missing)}")
            unfinished = [f"{r.calc_id} ({r.state})" for r in rows if r.state != "COMPLETED"]
            if unfinished:  # a failed or unconverged run never feeds E_ads
                raise MissingResultError(f"not COMPLETED: {', '.join(unfinished)}")
            e_adslab, e_slab, e_molecule = (cast(float, r.energy_ev) for r in rows)  # all stored
            adslab, slab, molecule = rows
            try:
                stoich = adsorption_stoichiometry(adslab.formula, slab.formula, molecule.formula)
                error = None
            except StoichiometryError as exc:
                stoich, error = None, exc
            energy = (
                None
                if stoich is None
                else finite(
                    e_adslab
                    - stoich.slab_multiple * e_slab
                    - float(stoich.reference_coefficient) * e_molecule,
                    "E_ads",
                    adslab_calc_id,
                )
            )
            config = configuration or adslab.labels.get("configuration")
            values = {
                "study": study or adslab.study,
                "site": site or adslab.site,
                "adsorbate": adsorbate or adslab.adsorbate,
                "configuration": None if config is None else str(config),
                "adslab_id": adslab.id,
                "slab_id": slab.id,
                "molecule_id": molecule.id,
                "energy_ev": energy,
                "slab_multiple": None if stoich is None else stoich.slab_multiple,
                "molecule_coefficient": None
                if stoich is None
                else float(stoich.reference_coefficient),
                "equation": None if stoich is None else stoich.equation(molecule.formula),
                "state": "FAILED" if stoich is None else "COMPLETED",
                "state_reason": str(error) if error is not None else _dissociation(session, rows),
            }
            self._upsert(session, s.AdsorptionEnergyRow, values, ["adslab_id"])
        if error is not None:
            raise error
        assert energy is not None  # a stoichiometry always gives an energy
        return energy

    def upsert_polymorph(
        self,
        calc_id: str,
        polymorph: str,
        formation_energy_per_atom_ev: float,
        *,
        study: str | None = None,
    ) -> None:
        """Store the formation energy per atom (eV/atom) of ``polymorph`` computed in ``calc_id``."""
        finite(formation_energy_per_atom_ev, "formation_energy_per_atom_ev", calc_id)
        with self.transaction() as session:
            row = self._row(session, calc_id)
            values = {
                "study": study or row.study,
                "polymorph": polymorph,
                "calculation_id": row.id,
                "formation_energy_per_atom_ev": float(formation_energy_per_atom_ev),
            }
            self._upsert(session, s.PolymorphEnergyRow, values, ["calculation_id"])

    def store_series(
        self,
        calc_id: str,
        analysis: str,
        quantity: str,
        x: Sequence[float],
        y: Sequence[float],
        x_unit: str,
        y_unit: str,
    ) -> int:
        """Replace the series (``analysis``, ``quantity``) of ``calc_id``; returns its length."""
        xs = finite_values((float(v) for v in x), f"{analysis}/{quantity} x", calc_id)
        ys = finite_values((float(v) for v in y), f"{analysis}/{quantity} y", calc_id)
        if len(xs) != len(ys):
            raise InputError("y", f"has {len(ys)} values but x has {len(xs)}")
        with self.transaction() as session:
            pk = self._pk(session, calc_id)
            session.execute(
                delete(s.MdSeriesRow).where(
                    s.MdSeriesRow.calculation_id == pk,
                    s.MdSeriesRow.analysis == analysis,
                    s.MdSeriesRow.quantity == quantity,
                )
            )
            points = (
                {"calculation_id": pk, "analysis": analysis, "quantity": quantity,
                 "x_unit": x_unit, "y_unit": y_unit, "index": i, "x": xv, "y": yv}
                for i, (xv, yv) in enumerate(zip(xs, ys, strict=True))
            )  # fmt: skip
            for batch in _batched(points, CHUNK):
                session.execute(self._insert(s.MdSeriesRow), batch)
        return len(xs)

    def store_scalar(self, calc_id: str, name: str, value: float, unit: str) -> None:
        """Store one named scalar (e.g. ``D_Li`` in Å^2/ps) of ``calc_id``."""
        finite(value, f"scalar {name}", calc_id)
        with self.transaction() as session:
            values = {"calculation_id": self._pk(session, calc_id), "name": name,
                      "value": float(value), "unit": unit}  # fmt: skip
            self._upsert(session, s.MdScalarRow, values, ["calculation_id", "name"])

    # --- helpers ----------------------------------------------------------------------------

    def _row(self, session: Session, calc_id: str) -> s.CalculationRow:
        row = session.scalar(select(s.CalculationRow).where(s.CalculationRow.calc_id == calc_id))
        if row is None:
            raise MissingResultError(f"no calculation {calc_id!r} in {self.display_url}")
        return row

    def _pk(self, session: Session, calc_id: str) -> int:
        pk = session.scalar(select(s.CalculationRow.id).where(s.CalculationRow.calc_id == calc_id))
        if pk is None:
            raise MissingResultError(f"no calculation {calc_id!r} in {self.display_url}")
        return pk

    def _upsert(self, session: Session, table: type, values: dict, keys: list[str]) -> None:
        stmt = self._insert(table).values(**values)
        changes = {k: stmt.excluded[k] for k in values if k not in keys}
        session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))

    def _replace(self, session, table, pk, items, to_row, scope: str | None) -> None:
        """Stream ``items`` into ``table`` in batches, first deleting the calculation's old
        rows (of each ``scope`` value met, or all of them when ``scope`` is None)."""
        cleared: set[Any] = set()
        rows = (
            {
                **finite_row(to_row(item, i), f"{table.__tablename__}[{i}]", f"calculation #{pk}"),
                "calculation_id": pk,
            }
            for i, item in enumerate(items)
        )
        for batch in _batched(rows, CHUNK):
            scopes = {r[scope] for r in batch} if scope else {None}
            for value in scopes - cleared:
                condition = [table.calculation_id == pk]
                if scope:
                    condition.append(getattr(table, scope) == value)
                session.execute(delete(table).where(*condition))
                cleared.add(value)
            session.execute(self._insert(table), batch)


def _calculation_upsert_values(record: s.CalculationRecord) -> tuple[dict, tuple[str, ...]]:
    """Row values of ``record`` and the columns an upsert overwrites on conflict (the rules
    of :meth:`ResultStore.upsert_calculation`, for the batch :meth:`upsert_calculations`)."""
    values = {name: getattr(record, name) for name in _RECORD_FIELDS}
    values.pop("created_at"), values.pop("updated_at")
    values["state"] = s.choice(values["state"] or "PLANNED", s.STATES, "state")
    values.update(site=record.site, adsorbate=record.adsorbate, labels=dict(record.labels))
    values["lisflow_version"] = values["lisflow_version"] or lisflow.__version__
    values["lisflow_commit"] = values["lisflow_commit"] or lisflow.describe()
    values["pymatgen_version"] = values["pymatgen_version"] or package_version("pymatgen")
    values["files"] = values["files"] or {}
    for name in ("energy_ev", "energy_per_atom_ev"):
        if values[name] is not None:
            finite(values[name], name, record.calc_id)
    changed = [
        k
        for k in values
        if k != "calc_id" and (k in _IDENTITY or getattr(record, k) is not None)
    ]
    if record.state is not None and "state_reason" not in changed:
        changed.append("state_reason")  # a new state always comes with its own reason
    now = s.utc_now()
    values.update(created_at=now, updated_at=now)
    return values, tuple(changed)


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (``itertools.batched`` is Python ≥ 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _dialect_insert(name: str) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update``)."""
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    # pragma: no cover - resolve_url only lets the two through
    raise InputError("db_url", f"unsupported database {name!r}", allowed=URL_FORMS)


def open_store(url: str | URL | None = None, *, create: bool = False) -> ResultStore:
    """Open the results database at ``url`` (None: the default, see :func:`default_url`).

    ``create=False``: an existing database only (a missing SQLite file is an InputError).
    A connection error becomes a LisflowError naming the masked URL, its reason with every
    password and secret query value replaced by ``***``."""
    from sqlalchemy.exc import SQLAlchemyError

    resolved = resolve_url(url)
    try:
        return ResultStore(resolved, create=create)
    except SQLAlchemyError as exc:
        from lisflow.urls import SECRET_QUERY_KEYS
        from lisflow.urls import mask_url as mask_text

        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        secrets = [str(resolved.password)] if resolved.password else []
        secrets += [
            str(v)
            for k, values in resolved.query.items()
            if k.lower() in SECRET_QUERY_KEYS
            for v in (values if isinstance(values, tuple) else (values,))
        ]
        for secret in filter(None, secrets):
            reason = reason.replace(secret, "***")
        reason = mask_text(reason)
        raise LisflowError(f"cannot open database {mask_url(resolved)}: {reason}") from None


def _record(row: s.CalculationRow) -> s.CalculationRecord:
    values = {name: getattr(row, name) for name in _RECORD_FIELDS}
    for name in ("created_at", "updated_at"):  # SQLite returns naive datetimes (stored UTC)
        if values[name] is not None and values[name].tzinfo is None:
            values[name] = values[name].replace(tzinfo=UTC)
    return s.CalculationRecord(**values)


# --- final structures (pymatgen JSON) ------------------------------------------------------------

#: Where a stored final structure came from (``final_structures.source``).
STRUCTURE_SOURCES = ("engine", "input")


def store_final_structure(
    store: ResultStore, calc_id: str, structure: Mapping[str, Any], source: str
) -> None:
    """Insert or replace the final structure (``Structure.as_dict()``) of ``calc_id``."""
    source = s.choice(source, STRUCTURE_SOURCES, "source")
    if not {"lattice", "sites"} <= set(structure):
        raise InputError("structure", "not a pymatgen Structure dict (needs lattice and sites)")
    with store.transaction() as session:
        values = {
            "calculation_id": store._pk(session, calc_id),
            "source": source,
            "structure": dict(structure),
        }
        store._upsert(session, s.FinalStructureRow, values, ["calculation_id"])


def _dissociation(session: Session, rows: list[s.CalculationRow]) -> str | None:
    """Note on a COMPLETED E_ads whose adsorbate broke apart in the relaxed adslab (None when
    it did not, or when a final structure is not stored): ``structures.integrity``."""
    from pymatgen.core import Structure

    from lisflow.structures.integrity import dissociation_note

    ids = [r.id for r in rows]
    query = select(s.FinalStructureRow.calculation_id, s.FinalStructureRow.structure).where(
        s.FinalStructureRow.calculation_id.in_(ids)
    )
    found: dict[int, dict[str, Any]] = dict(session.execute(query).tuples().all())
    if len(found) < len(ids):
        return None
    adslab, slab, molecule = (Structure.from_dict(found[i]) for i in ids)
    return dissociation_note(adslab, slab, molecule)


def final_structure_dicts(
    store: ResultStore, calc_ids: Iterable[str] | None = None
) -> dict[str, tuple[dict[str, Any], str]]:
    """calc_id -> (pymatgen Structure dict, source) of the stored final structures."""
    query = select(
        s.CalculationRow.calc_id, s.FinalStructureRow.structure, s.FinalStructureRow.source
    ).join(s.CalculationRow, s.FinalStructureRow.calculation_id == s.CalculationRow.id)
    if calc_ids is not None:
        query = query.where(s.CalculationRow.calc_id.in_(list(calc_ids)))
    with store.transaction(write=False) as session:
        return {cid: (data, source) for cid, data, source in session.execute(query)}
