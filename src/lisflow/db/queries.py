"""Read the results database into pandas DataFrames (stable columns, deterministic order).

Every function takes a :class:`~lisflow.db.store.ResultStore` and one :class:`QueryFilter`
(or its fields as keywords: ``charges(store, study="x")`` equals
``charges(store, QueryFilter(study="x"))``); ``None`` means "any". The filter applies to the
calculation the rows belong to (for adsorption energies: the adsorption row and its adslab
calculation; for polymorphs the study is the formation-energy row's).
Units are in the column names: ``*_ev`` eV, ``*_a`` Å, charges in e.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from sqlalchemy import DateTime, Select, String, select

from lisflow.db import schema as s
from lisflow.db.store import ResultStore

if TYPE_CHECKING:  # pandas is imported on first query, not by ``lisflow --help``
    import pandas as pd

C = s.CalculationRow
#: The three calculations of an adsorption energy (table aliases, built once).
_ADSLAB, _SLAB, _MOLECULE = (C.__table__.alias(n) for n in ("adslab", "slab", "molecule"))
#: Calculation columns put in front of every per-calculation table.
_CALC_COLUMNS = ("study", "calc_id", "engine", "site", "adsorbate")


@dataclass(frozen=True)
class QueryFilter:
    """Which calculations' rows a query returns; each ``None`` field means "any"."""

    study: str | None = None
    site: str | None = None
    adsorbate: str | None = None
    engine: str | None = None
    calc_id: str | None = None


class FilterFields(TypedDict, total=False):
    """The fields of :class:`QueryFilter`, for keyword calls."""

    study: str | None
    site: str | None
    adsorbate: str | None
    engine: str | None
    calc_id: str | None


#: Field name -> calculation column it filters.
_FILTER_COLUMNS = {f.name: getattr(C, f.name) for f in fields(QueryFilter)}


def _filter(where: QueryFilter | None, keywords: FilterFields) -> QueryFilter:
    """``where`` with the keyword fields set (keywords win over the object's fields)."""
    return replace(where or QueryFilter(), **keywords)


def _calc_filters(query: Select, where: QueryFilter, skip: tuple[str, ...] = ()) -> Select:
    """``query`` restricted to the calculations ``where`` selects (fields in ``skip`` are
    applied by the caller on another table)."""
    for name, column in _FILTER_COLUMNS.items():
        value = getattr(where, name)
        if value is not None and name not in skip:
            query = query.where(column == value)
    return query


def _frame(store: ResultStore, query: Select, order: tuple[str, ...]) -> pd.DataFrame:
    """Run ``query`` sorted by the selected columns named in ``order``.

    Missing values come first and text sorts by code point (SQLite's BINARY collation,
    PostgreSQL's "C"), so both back ends return the same order.
    """
    postgres = store.engine.dialect.name == "postgresql"
    keys = []
    for name in order:
        column = query.selected_columns[name]
        if postgres and isinstance(column.type, String):
            column = column.collate("C")
        keys.append(column.asc().nulls_first())
    import pandas as pd

    query = query.order_by(*keys)
    with store.engine.connect() as connection:
        if not postgres:
            return _sqlite_frame(connection, query)
        result = connection.execute(query)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _sqlite_frame(connection: Any, query: Select) -> pd.DataFrame:
    """SQLite fast path: the rows straight from the DBAPI cursor, then column-wise type
    conversion (datetimes parsed vectorised) instead of SQLAlchemy's per-row processing.
    The frame equals the one of the generic path (tests/unit/test_db_fast.py)."""
    import pandas as pd

    result = connection.execute(query)  # SQLAlchemy's compiled-statement cache
    names = list(result.keys())
    rows = result.cursor.fetchall()  # raw DBAPI tuples: no per-row result processing
    result.close()
    if not rows:
        return pd.DataFrame([], columns=names)
    # one 2-D object array wrapped without a copy, one dtype inference per column: the frame
    # of DataFrame.from_records(rows, coerce_float=False) at ~45 % of its cost (10^5 rows)
    table = _object_table(rows)
    frame = pd.DataFrame(table, columns=names, copy=False)
    try:  # copy=False: converted columns are new arrays, the rest stay views of ``table``
        frame = frame.infer_objects(copy=False)
    except TypeError:  # a pandas without the keyword (copy-on-write: no copy anyway)
        frame = frame.infer_objects()
    for name, column in zip(names, query.selected_columns, strict=True):
        if isinstance(column.type, DateTime):
            frame[name] = pd.to_datetime(frame[name], format="ISO8601")
        elif (process := column.type.result_processor(connection.dialect, None)) is not None:
            frame[name] = [process(v) for v in frame[name].tolist()]
    return frame


def _object_table(rows: list[tuple]) -> Any:
    """Rows as one 2-D object array: pandas' C helper (what ``DataFrame.from_records`` uses;
    half the time of ``np.array(rows, dtype=object)``), numpy where pandas lacks it."""
    try:
        from pandas._libs.lib import to_object_array_tuples
    except ImportError:  # pragma: no cover - private pandas API moved
        import numpy as np

        return np.array(rows, dtype=object)
    return to_object_array_tuples(rows)


def _with_calc(table: Any, columns: tuple[str, ...]) -> Select:
    selected = [getattr(C, c) for c in _CALC_COLUMNS] + [getattr(table, c) for c in columns]
    return select(*selected).join(C, table.calculation_id == C.id)


def calculations(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    state: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """One row per calculation: identity, state, energies (eV), run directory and provenance
    (input hash, engine version, lisflow version and commit)."""
    names = (
        "calc_id", "study", "engine", "task", "role", "formula", "n_atoms", "site",
        "adsorbate", "state", "state_reason", "energy_ev", "energy_per_atom_ev", "input_hash",
        "fw_id", "run_dir", "updated_at", "engine_version", "lisflow_version", "lisflow_commit",
    )  # fmt: skip
    query = _calc_filters(select(*(getattr(C, n) for n in names)), _filter(where, filters))
    if state is not None:
        query = query.where(C.state == state)
    return _frame(store, query, ("calc_id",))


def adsorption(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Adsorption energies E_ads = E_adslab − n·E_slab − ν·E_molecule (eV) with their inputs,
    n and ν, and FAILED rows (no energy) with the stoichiometry mismatch in ``state_reason``."""
    a = s.AdsorptionEnergyRow
    adslab, slab, molecule = _ADSLAB, _SLAB, _MOLECULE
    query = (
        select(
            a.study,
            a.site,
            a.adsorbate,
            a.configuration,
            adslab.c.calc_id.label("adslab_calc_id"),
            slab.c.calc_id.label("slab_calc_id"),
            molecule.c.calc_id.label("molecule_calc_id"),
            adslab.c.engine,
            adslab.c.energy_ev.label("adslab_energy_ev"),
            slab.c.energy_ev.label("slab_energy_ev"),
            molecule.c.energy_ev.label("molecule_energy_ev"),
            a.energy_ev,
            a.slab_multiple,
            a.molecule_coefficient,
            a.equation,
            a.state,
            a.state_reason,
        )  # fmt: skip
        .join(adslab, a.adslab_id == adslab.c.id)
        .join(slab, a.slab_id == slab.c.id)
        .join(molecule, a.molecule_id == molecule.c.id)
    )
    where = _filter(where, filters)
    for column, value in (
        (a.study, where.study),
        (a.site, where.site),
        (a.adsorbate, where.adsorbate),
        (adslab.c.engine, where.engine),
        (adslab.c.calc_id, where.calc_id),
    ):
        if value is not None:
            query = query.where(column == value)
    order = ("study", "site", "adsorbate", "configuration", "adslab_calc_id")
    return _frame(store, query, order)


def charges(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    method: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Atomic charges (e): net charge and valence electrons per site and method."""
    t = s.SiteChargeRow
    columns = ("method", "site_index", "element", "label", "valence_electrons", "net_charge")
    query = _calc_filters(_with_calc(t, columns), _filter(where, filters))
    if method is not None:
        query = query.where(t.method == method)
    return _frame(store, query, ("calc_id", "method", "site_index"))


def bands(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    orbital: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Band centres (eV relative to E_F) per atom, orbital and spin channel."""
    t = s.BandCentreRow
    columns = ("site_index", "element", "label", "orbital", "spin", "centre_ev")
    query = _calc_filters(_with_calc(t, columns), _filter(where, filters))
    if orbital is not None:
        query = query.where(t.orbital == orbital)
    return _frame(store, query, ("calc_id", "site_index", "orbital", "spin"))


def icohp(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Integrated COHP per bond (eV; negative = bonding), bond length (Å) and the lattice
    translation of atom2's image (LOBSTER)."""
    t = s.BondIcohpRow
    columns = ("label", "atom1", "atom2", "length_a", "icohp_ev",
               "translation_a", "translation_b", "translation_c")  # fmt: skip
    query = _calc_filters(_with_calc(t, columns), _filter(where, filters))
    return _frame(store, query, ("calc_id", "label"))


def polymorphs(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Formation energy per atom (eV/atom) of each polymorph, with its total energy per atom."""
    t = s.PolymorphEnergyRow
    query = select(
        t.study, t.polymorph, C.calc_id, C.engine, C.formula, C.n_atoms,
        C.energy_per_atom_ev, t.formation_energy_per_atom_ev,
    ).join(C, t.calculation_id == C.id)  # fmt: skip
    where = _filter(where, filters)
    query = _calc_filters(query, where, skip=("study",))
    if where.study is not None:
        query = query.where(t.study == where.study)
    return _frame(store, query, ("study", "polymorph", "calc_id"))


def series(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    analysis: str | None = None,
    quantity: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """MD analysis time series, one row per point (x, y) with units."""
    t = s.MdSeriesRow
    columns = ("analysis", "quantity", "index", "x", "y", "x_unit", "y_unit")
    query = _calc_filters(_with_calc(t, columns), _filter(where, filters))
    for column, value in ((t.analysis, analysis), (t.quantity, quantity)):
        if value is not None:
            query = query.where(column == value)
    return _frame(store, query, ("calc_id", "analysis", "quantity", "index"))


def scalars(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Scalar MD results (e.g. diffusion coefficients) with units."""
    t = s.MdScalarRow
    query = _calc_filters(_with_calc(t, ("name", "value", "unit")), _filter(where, filters))
    return _frame(store, query, ("calc_id", "name"))


def magmoms(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Magnetic moment per site (μB) of spin-polarised runs."""
    t = s.SiteMagmomRow
    columns = ("site_index", "element", "label", "moment_mub")
    query = _calc_filters(_with_calc(t, columns), _filter(where, filters))
    return _frame(store, query, ("calc_id", "site_index"))


#: Query name -> function, as offered by ``lisflow query``.
QUERIES = {
    "adsorption": adsorption,
    "charges": charges,
    "bands": bands,
    "icohp": icohp,
    "magmoms": magmoms,
    "polymorphs": polymorphs,
    "calculations": calculations,
    "series": series,
    "scalars": scalars,
}
from lisflow.db.queries_mechanism import free_energy, neb  # noqa: E402  (after the helpers)

QUERIES |= {"free-energy": free_energy, "neb": neb}
