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

from sqlalchemy import Select, bindparam, select

from lisflow.db import frames
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


def _params(where: QueryFilter, **options: Any) -> dict[str, Any]:
    """Bound values of the set filter fields and options, by bind-parameter name."""
    values = {name: getattr(where, name) for name in _FILTER_COLUMNS} | options
    return {name: value for name, value in values.items() if value is not None}


def _calc_filters(query: Select, keys: frozenset[str], skip: tuple[str, ...] = ()) -> Select:
    """``query`` restricted to the calculations the filter fields in ``keys`` select (fields in
    ``skip`` are applied by the caller on another table)."""
    for name, column in _FILTER_COLUMNS.items():
        if name in keys and name not in skip:
            query = query.where(column == bindparam(name))
    return query


def _options(query: Select, keys: frozenset[str], columns: dict[str, Any]) -> Select:
    """``query`` restricted by the set options ``keys`` (option name -> column)."""
    for name, column in columns.items():
        if name in keys:
            query = query.where(column == bindparam(name))
    return query


def _frame(
    store: ResultStore,
    build: frames.Builder,
    params: dict[str, Any],
    order: tuple[str, ...],
    *,
    tiebreak: bool = False,
) -> pd.DataFrame:
    """Rows of the query ``build`` makes for the set ``params``, sorted by the columns named
    in ``order`` (missing values first, text by code point on both back ends; ``tiebreak``:
    see :func:`lisflow.db.frames.run`)."""
    return frames.run(store.engine, build, params, order, tiebreak=tiebreak)


def _with_calc(table: Any, columns: tuple[str, ...]) -> Select:
    selected = [getattr(C, c) for c in _CALC_COLUMNS] + [getattr(table, c) for c in columns]
    return select(*selected).join(C, table.calculation_id == C.id)


#: Columns of ``calculations``, in the frame's order.
_CALCULATION_COLUMNS = (
    "calc_id", "study", "engine", "task", "role", "formula", "n_atoms", "site",
    "adsorbate", "state", "state_reason", "energy_ev", "energy_per_atom_ev", "input_hash",
    "fw_id", "run_dir", "updated_at", "engine_version", "lisflow_version", "lisflow_commit",
)  # fmt: skip


def _calculations_query(keys: frozenset[str]) -> Select:
    query = _calc_filters(select(*(getattr(C, n) for n in _CALCULATION_COLUMNS)), keys)
    return _options(query, keys, {"state": C.state})


def calculations(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    state: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """One row per calculation: identity, state, energies (eV), run directory and provenance
    (input hash, engine version, lisflow version and commit)."""
    params = _params(_filter(where, filters), state=state)
    return _frame(store, _calculations_query, params, ("calc_id",))


def _adsorption_query(keys: frozenset[str]) -> Select:
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
    filters = {"study": a.study, "site": a.site, "adsorbate": a.adsorbate,
               "engine": adslab.c.engine, "calc_id": adslab.c.calc_id}  # fmt: skip
    return _options(query, keys, filters)


def adsorption(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Adsorption energies E_ads = E_adslab − n·E_slab − ν·E_molecule (eV) with their inputs,
    n and ν, and FAILED rows (no energy) with the stoichiometry mismatch in ``state_reason``;
    a COMPLETED row whose adsorbate dissociated carries that note there (structures.integrity)."""
    order = ("study", "site", "adsorbate", "configuration", "adslab_calc_id")
    params = _params(_filter(where, filters))
    # one site + adsorbate: its index (schema.ADSORPTION_*) gives the order of the first four keys
    return _frame(store, _adsorption_query, params, order, tiebreak=True)


def _charges_query(keys: frozenset[str]) -> Select:
    t = s.SiteChargeRow
    columns = ("method", "site_index", "element", "label", "valence_electrons", "net_charge")
    return _options(_calc_filters(_with_calc(t, columns), keys), keys, {"method": t.method})


def charges(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    method: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Atomic charges (e): net charge and valence electrons per site and method."""
    params = _params(_filter(where, filters), method=method)
    return _frame(store, _charges_query, params, ("calc_id", "method", "site_index"))


def _bands_query(keys: frozenset[str]) -> Select:
    t = s.BandCentreRow
    columns = ("site_index", "element", "label", "orbital", "spin", "centre_ev")
    return _options(_calc_filters(_with_calc(t, columns), keys), keys, {"orbital": t.orbital})


def bands(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    orbital: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Band centres (eV relative to E_F) per atom, orbital and spin channel."""
    params = _params(_filter(where, filters), orbital=orbital)
    return _frame(store, _bands_query, params, ("calc_id", "site_index", "orbital", "spin"))


def _icohp_query(keys: frozenset[str]) -> Select:
    columns = ("label", "atom1", "atom2", "length_a", "icohp_ev",
               "translation_a", "translation_b", "translation_c")  # fmt: skip
    return _calc_filters(_with_calc(s.BondIcohpRow, columns), keys)


def icohp(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Integrated COHP per bond (eV; negative = bonding), bond length (Å) and the lattice
    translation of atom2's image (LOBSTER)."""
    return _frame(store, _icohp_query, _params(_filter(where, filters)), ("calc_id", "label"))


def _polymorphs_query(keys: frozenset[str]) -> Select:
    t = s.PolymorphEnergyRow
    query = select(
        t.study, t.polymorph, C.calc_id, C.engine, C.formula, C.n_atoms,
        C.energy_per_atom_ev, t.formation_energy_per_atom_ev,
    ).join(C, t.calculation_id == C.id)  # fmt: skip
    query = _calc_filters(query, keys, skip=("study",))
    return _options(query, keys, {"study": t.study})


def polymorphs(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Formation energy per atom (eV/atom) of each polymorph, with its total energy per atom."""
    params = _params(_filter(where, filters))
    return _frame(store, _polymorphs_query, params, ("study", "polymorph", "calc_id"))


def _series_query(keys: frozenset[str]) -> Select:
    t = s.MdSeriesRow
    columns = ("analysis", "quantity", "index", "x", "y", "x_unit", "y_unit")
    options = {"analysis": t.analysis, "quantity": t.quantity}
    return _options(_calc_filters(_with_calc(t, columns), keys), keys, options)


def series(
    store: ResultStore,
    where: QueryFilter | None = None,
    *,
    analysis: str | None = None,
    quantity: str | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """MD analysis time series, one row per point (x, y) with units."""
    params = _params(_filter(where, filters), analysis=analysis, quantity=quantity)
    order = ("calc_id", "analysis", "quantity", "index")
    return _frame(store, _series_query, params, order)


def _scalars_query(keys: frozenset[str]) -> Select:
    return _calc_filters(_with_calc(s.MdScalarRow, ("name", "value", "unit")), keys)


def scalars(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Scalar MD results (e.g. diffusion coefficients) with units."""
    return _frame(store, _scalars_query, _params(_filter(where, filters)), ("calc_id", "name"))


def _magmoms_query(keys: frozenset[str]) -> Select:
    columns = ("site_index", "element", "label", "moment_mub")
    return _calc_filters(_with_calc(s.SiteMagmomRow, columns), keys)


def magmoms(
    store: ResultStore,
    where: QueryFilter | None = None,
    **filters: Unpack[FilterFields],
) -> pd.DataFrame:
    """Magnetic moment per site (μB) of spin-polarised runs."""
    params = _params(_filter(where, filters))
    return _frame(store, _magmoms_query, params, ("calc_id", "site_index"))


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
