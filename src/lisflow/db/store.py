"""``ResultStore``: transactional, idempotent writes of calculation results to SQLite/PostgreSQL.

Database URL: the ``url`` argument (CLI ``--db``), else ``$LISFLOW_DB_URL``, else the SQLite
file ``$LISFLOW_HOME/results.sqlite`` (``./.lisflow/results.sqlite``). PostgreSQL URLs use psycopg 3
(``postgresql+psycopg://user:password@host:5432/dbname``). URLs are only shown masked.

Result rows are duck-typed: ``charges``, ``bands`` and ``icohps`` accept the dataclasses
``SiteCharge`` of :mod:`lisflow.db.records`, the parsers' ``BandCentre`` and ``BondIcohp`` (one
record type each, re-exported by :mod:`lisflow.db`), any object with the
same attribute names, or dicts with those keys (optional ones may be absent):

- charge: ``site_index`` (or ``index``), ``method`` (or the ``charge_method`` argument),
  ``net_charge`` (may be None) [``element, valence_electrons, label``]
- band centre: ``site_index, orbital, centre_ev`` [``element, spin`` (default total), ``label``]
- ICOHP: ``label, atom1, atom2, icohp_ev`` [``length_a``, ``translation``]

Bader sites go in as ``BaderResult.to_records()`` rows.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from importlib.metadata import version as _metadata_version
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import URL

import lisflow
from lisflow.db import schema as s
from lisflow.db.connection import (  # noqa: F401 - re-exported (lisflow.db.store API)
    BACKENDS,
    DEFAULT_SQLITE_NAME,
    ENV_VAR,
    SCHEMA_LOCK_KEY,
    SQLITE_CACHE_KIB,
    URL_FORMS,
    WRITE_OPTION,
    create_db_engine,
    create_schema,
    default_url,
    mask_url,
    open_error,
    resolve_url,
    sqlite_path,
)
from lisflow.db.final_structures import (  # noqa: F401 - re-exported (lisflow.db.store API)
    STRUCTURE_SOURCES,
    dissociation_note,
    final_structure_dicts,
    store_final_structure,
)
from lisflow.db.store_core import CHUNK, MissingResultError, StoreCore, batched
from lisflow.db.validate import finite, finite_values
from lisflow.errors import InputError

#: Installed version of a package (cached: reading package metadata costs ~1 ms per call).
package_version = functools.lru_cache(maxsize=None)(_metadata_version)

#: Columns of ``calculations`` an upsert always overwrites; the others only when not None.
_IDENTITY = ("study", "engine", "task", "role", "formula", "n_atoms", "labels", "site", "adsorbate")
_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(s.CalculationRecord))


class ResultStore(StoreCore):
    """Results database. Every public method runs in one transaction (or joins the one opened
    with :meth:`transaction`); writes are upserts on the tables' unique keys. One thread each.
    """

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
                for batch in batched(items, CHUNK):
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
                "state_reason": str(error) if error is not None else dissociation_note(session, rows),
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
            for batch in batched(points, CHUNK):
                session.execute(self._insert(s.MdSeriesRow), batch)
        return len(xs)

    def store_scalar(self, calc_id: str, name: str, value: float, unit: str) -> None:
        """Store one named scalar (e.g. ``D_Li`` in Å^2/ps) of ``calc_id``."""
        finite(value, f"scalar {name}", calc_id)
        with self.transaction() as session:
            values = {"calculation_id": self._pk(session, calc_id), "name": name,
                      "value": float(value), "unit": unit}  # fmt: skip
            self._upsert(session, s.MdScalarRow, values, ["calculation_id", "name"])


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
        raise open_error(resolved, exc) from None


def _record(row: s.CalculationRow) -> s.CalculationRecord:
    values = {name: getattr(row, name) for name in _RECORD_FIELDS}
    for name in ("created_at", "updated_at"):  # SQLite returns naive datetimes (stored UTC)
        if values[name] is not None and values[name].tzinfo is None:
            values[name] = values[name].replace(tzinfo=UTC)
    return s.CalculationRecord(**values)
