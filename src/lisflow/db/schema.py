"""Tables of the results database (SQLAlchemy 2 typed ORM).

Units: energies in eV (band centres relative to the Fermi level), lengths in Å, charges in e.
Large arrays and volumetric data are never stored, only the paths of the files holding them
(``calculations.files``, e.g. ``{"CHGCAR": "/runs/.../CHGCAR"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lisflow.errors import InputError
from lisflow.parsers.bands import BandCentre  # noqa: F401  (one record type, re-exported)
from lisflow.parsers.lobster import BondIcohp  # noqa: F401  (one record type, re-exported)

#: Life cycle of a calculation.
STATES = ("PLANNED", "RUNNING", "COMPLETED", "FAILED", "PARSE_ERROR")
#: Population-analysis methods of ``site_charges.method``.
CHARGE_METHODS = ("bader", "acf", "mulliken", "hirshfeld", "loewdin")
#: Angular momenta of ``band_centres.orbital``.
ORBITALS = ("s", "p", "d")
#: Spin channels of ``band_centres.spin``.
SPINS = ("up", "down", "total")


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _in(column: str, allowed: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(a) for a in allowed)})"


def _calc_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("calculations.id", ondelete="CASCADE"), index=True)


class Base(DeclarativeBase):
    """Declarative base of every lisflow table."""

    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class CalculationRow(Base):
    """One engine run: identity, state, total energy, provenance and output file paths."""

    __tablename__ = "calculations"
    __table_args__ = (CheckConstraint(_in("state", STATES), name="ck_calculations_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calc_id: Mapped[str] = mapped_column(String(255), unique=True)
    study: Mapped[str] = mapped_column(String(128), index=True)
    engine: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    formula: Mapped[str] = mapped_column(String(255), default="")
    n_atoms: Mapped[int] = mapped_column(Integer, default=0)
    input_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    state: Mapped[str] = mapped_column(String(16), default="PLANNED", index=True)
    state_reason: Mapped[str | None] = mapped_column(Text)
    energy_ev: Mapped[float | None] = mapped_column(Float)
    energy_per_atom_ev: Mapped[float | None] = mapped_column(Float)
    fw_id: Mapped[int | None] = mapped_column(Integer)
    run_dir: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    site: Mapped[str | None] = mapped_column(String(128), index=True)
    adsorbate: Mapped[str | None] = mapped_column(String(128), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lisflow_version: Mapped[str | None] = mapped_column(String(64))
    #: ``git describe`` of the lisflow checkout (the version when installed); migration 0003
    lisflow_commit: Mapped[str | None] = mapped_column(String(128))
    pymatgen_version: Mapped[str | None] = mapped_column(String(64))
    engine_version: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class SiteChargeRow(Base):
    """Charge of one atom from a population analysis (e)."""

    __tablename__ = "site_charges"
    __table_args__ = (
        UniqueConstraint("calculation_id", "site_index", "method"),
        CheckConstraint(_in("method", CHARGE_METHODS), name="ck_site_charges_method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    site_index: Mapped[int]
    element: Mapped[str | None] = mapped_column(String(8))
    label: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    valence_electrons: Mapped[float | None]
    net_charge: Mapped[float | None]


class BandCentreRow(Base):
    """Band centre of one orbital of one atom (eV, relative to the Fermi level)."""

    __tablename__ = "band_centres"
    __table_args__ = (
        UniqueConstraint("calculation_id", "site_index", "orbital", "spin"),
        CheckConstraint(_in("orbital", ORBITALS), name="ck_band_centres_orbital"),
        CheckConstraint(_in("spin", SPINS), name="ck_band_centres_spin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    site_index: Mapped[int]
    element: Mapped[str | None] = mapped_column(String(8))
    label: Mapped[str | None] = mapped_column(String(64))
    orbital: Mapped[str] = mapped_column(String(1))
    spin: Mapped[str] = mapped_column(String(8))
    centre_ev: Mapped[float]


class BondIcohpRow(Base):
    """Integrated COHP of one bond (eV; negative is bonding) and its length (Å)."""

    __tablename__ = "bond_icohps"
    __table_args__ = (UniqueConstraint("calculation_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    label: Mapped[str] = mapped_column(String(64))
    atom1: Mapped[str] = mapped_column(String(32))
    atom2: Mapped[str] = mapped_column(String(32))
    length_a: Mapped[float | None]
    icohp_ev: Mapped[float]
    #: lattice translation (a, b, c) of atom2's image (LOBSTER ICOHPLIST "translation")
    translation_a: Mapped[int | None] = mapped_column(Integer)
    translation_b: Mapped[int | None] = mapped_column(Integer)
    translation_c: Mapped[int | None] = mapped_column(Integer)


class SiteMagmomRow(Base):
    """Magnetic moment of one atom (μB; VASP OUTCAR "magnetization (x)" tot column)."""

    __tablename__ = "site_magmoms"
    __table_args__ = (UniqueConstraint("calculation_id", "site_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    site_index: Mapped[int]
    element: Mapped[str | None] = mapped_column(String(8))
    label: Mapped[str | None] = mapped_column(String(64))
    moment_mub: Mapped[float]


#: Indexes of "one site + adsorbate" (migration 0004 replaced ix_adsorption_energies_site_adsorbate).
ADSORPTION_SQLITE_INDEX = "ix_adsorption_energies_site_adsorbate_covering"
ADSORPTION_POSTGRESQL_INDEX = "ix_adsorption_energies_site_adsorbate_study"
ADSORPTION_INDEX_KEYS = ("site", "adsorbate", "study", "configuration")
ADSORPTION_COVERED = ("adslab_id", "slab_id", "molecule_id", "energy_ev", "slab_multiple",
                      "molecule_coefficient", "equation", "state", "state_reason")  # fmt: skip


class AdsorptionEnergyRow(Base):
    """E_ads = E_adslab − n·E_slab − ν·E_molecule (eV); negative binds.

    n = ``slab_multiple`` (adslab on an n-fold supercell of the slab), ν =
    ``molecule_coefficient`` (½ for ½H₂, 1/8 for S8/8), both from the exact stoichiometry
    (``equation`` spells it out). A FAILED row (stoichiometry mismatch) has no energy and
    says why in ``state_reason``.
    """

    __tablename__ = "adsorption_energies"
    #: "one site + adsorbate" (``lisflow query adsorption --site --adsorbate``): one index range
    #: whose rows come in the query's order (study, configuration); migration 0004
    __table_args__ = (
        # SQLite: covering every column the query reads, so no table row is looked up
        Index(ADSORPTION_SQLITE_INDEX, *ADSORPTION_INDEX_KEYS, *ADSORPTION_COVERED).ddl_if(
            dialect="sqlite"
        ),
        # PostgreSQL: the keys only (index rows are size-limited; state_reason is Text)
        Index(ADSORPTION_POSTGRESQL_INDEX, *ADSORPTION_INDEX_KEYS).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study: Mapped[str] = mapped_column(String(128), index=True)
    site: Mapped[str | None] = mapped_column(String(128), index=True)
    adsorbate: Mapped[str | None] = mapped_column(String(128), index=True)
    configuration: Mapped[str | None] = mapped_column(String(128))
    adslab_id: Mapped[int] = mapped_column(
        ForeignKey("calculations.id", ondelete="CASCADE"), unique=True
    )
    slab_id: Mapped[int] = mapped_column(ForeignKey("calculations.id", ondelete="CASCADE"))
    molecule_id: Mapped[int] = mapped_column(ForeignKey("calculations.id", ondelete="CASCADE"))
    energy_ev: Mapped[float | None]
    slab_multiple: Mapped[int | None] = mapped_column(Integer, default=1)
    molecule_coefficient: Mapped[float | None] = mapped_column(Float, default=1.0)
    equation: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="COMPLETED")
    state_reason: Mapped[str | None] = mapped_column(Text)


class PolymorphEnergyRow(Base):
    """Formation energy per atom of one polymorph (eV/atom)."""

    __tablename__ = "polymorph_energies"

    id: Mapped[int] = mapped_column(primary_key=True)
    study: Mapped[str] = mapped_column(String(128), index=True)
    polymorph: Mapped[str] = mapped_column(String(128))
    calculation_id: Mapped[int] = mapped_column(
        ForeignKey("calculations.id", ondelete="CASCADE"), unique=True
    )
    formation_energy_per_atom_ev: Mapped[float]


class MdSeriesRow(Base):
    """One point (x, y) of an MD analysis time series; units named per row."""

    __tablename__ = "md_series"
    __table_args__ = (UniqueConstraint("calculation_id", "analysis", "quantity", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    analysis: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[str] = mapped_column(String(64))
    x_unit: Mapped[str] = mapped_column(String(32))
    y_unit: Mapped[str] = mapped_column(String(32))
    index: Mapped[int]
    x: Mapped[float]
    y: Mapped[float]


class MdScalarRow(Base):
    """One scalar result of an MD analysis (e.g. a diffusion coefficient) with its unit."""

    __tablename__ = "md_scalars"
    __table_args__ = (UniqueConstraint("calculation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = _calc_fk()
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(32))


class FinalStructureRow(Base):
    """The final structure of one calculation as pymatgen JSON (``Structure.as_dict()``, Å).

    ``source``: ``engine`` (the engine's relaxed output) or ``input`` (a single point, whose
    final structure is its input). A relaxation without an engine final structure has none.
    """

    __tablename__ = "final_structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    calculation_id: Mapped[int] = mapped_column(
        ForeignKey("calculations.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(String(16))
    structure: Mapped[dict[str, Any]]


#: Table name -> ORM class, for ``ResultStore.count`` and the CLI.
TABLES: dict[str, type[Base]] = {
    cls.__tablename__: cls
    for cls in (
        CalculationRow,
        SiteChargeRow,
        BandCentreRow,
        BondIcohpRow,
        SiteMagmomRow,
        AdsorptionEnergyRow,
        PolymorphEnergyRow,
        MdSeriesRow,
        MdScalarRow,
        FinalStructureRow,
    )
}


# --- plain records passed in and out of ResultStore -------------------------------------------


@dataclass
class CalculationRecord:
    """A ``calculations`` row as a plain dataclass (``ResultStore.upsert_calculation``/``get``).

    ``site`` and ``adsorbate`` columns are taken from ``labels``. In an upsert, fields left at
    None keep the stored value (``state`` becomes ``PLANNED`` for a new row).
    """

    calc_id: str
    study: str
    engine: str
    task: str
    role: str
    formula: str = ""
    n_atoms: int = 0
    input_hash: str | None = None
    state: str | None = None
    state_reason: str | None = None
    energy_ev: float | None = None
    energy_per_atom_ev: float | None = None
    fw_id: int | None = None
    run_dir: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] | None = None
    lisflow_version: str | None = None
    lisflow_commit: str | None = None
    pymatgen_version: str | None = None
    engine_version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def site(self) -> str | None:
        value = self.labels.get("site")
        return None if value is None else str(value)

    @property
    def adsorbate(self) -> str | None:
        value = self.labels.get("adsorbate")
        return None if value is None else str(value)

    @classmethod
    def from_calculation(cls, calc: Any, input_hash: str | None = None, **extra: Any):
        """Record of a ``lisflow.calculation.Calculation`` (``extra``: fw_id, run_dir, ...)."""
        return cls(
            calc_id=calc.calc_id,
            study=calc.study,
            engine=calc.engine,
            task=calc.task,
            role=calc.role,
            formula=calc.formula,
            n_atoms=calc.n_atoms,
            input_hash=input_hash,
            labels=dict(calc.labels),
            **extra,
        )


@dataclass(frozen=True)
class SiteCharge:
    """Charge of atom ``site_index`` (0-based) by ``method``: net charge and valence electrons (e)."""

    site_index: int
    element: str
    method: str
    net_charge: float
    valence_electrons: float | None = None
    label: str | None = None


# --- duck-typed result rows -> column dicts (validated) ----------------------------------
# Band centres and ICOHPs have one record type each, the parser's
# (lisflow.parsers.bands.BandCentre, lisflow.parsers.lobster.BondIcohp); Bader sites come in as
# ``BaderResult.to_records()`` rows.


def _field(obj: Any, names: str | tuple[str, ...], where: str, default: Any = ...) -> Any:
    """First present attribute (or key) of ``names``; ``InputError`` when required and absent."""
    names = (names,) if isinstance(names, str) else names
    for name in names:
        value = obj.get(name, ...) if isinstance(obj, Mapping) else getattr(obj, name, ...)
        if value is not ...:
            return value
    if default is ...:
        raise InputError(f"{where}.{names[0]}", "missing")
    return default


def choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    """``value`` as the matching member of ``allowed`` (case-insensitive) or ``InputError``."""
    by_lower = {a.lower(): a for a in allowed}
    if str(value).lower() not in by_lower:
        raise InputError(where, f"{value!r} is not valid", allowed=", ".join(allowed))
    return by_lower[str(value).lower()]


def _opt(kind: type, value: Any) -> Any:
    return None if value is None else kind(value)


def charge_row(obj: Any, i: int, method: str | None = None) -> dict[str, Any]:
    """Columns of ``site_charges`` from ``obj``; ``method`` is used when ``obj`` has none."""
    w = f"charges[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "method": choice(_field(obj, "method", w, method), CHARGE_METHODS, f"{w}.method"),
        "net_charge": _opt(float, _field(obj, "net_charge", w)),
        "valence_electrons": _opt(float, _field(obj, "valence_electrons", w, None)),
        "label": _opt(str, _field(obj, "label", w, None)),
    }


def band_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``band_centres`` from ``obj`` (spin defaults to ``total``)."""
    w = f"bands[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "orbital": choice(_field(obj, "orbital", w), ORBITALS, f"{w}.orbital"),
        "spin": choice(_field(obj, "spin", w, "total"), SPINS, f"{w}.spin"),
        "centre_ev": float(_field(obj, "centre_ev", w)),
        "label": _opt(str, _field(obj, "label", w, None)),
    }


def icohp_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``bond_icohps`` from ``obj``."""
    w = f"icohps[{i}]"
    return {
        "label": str(_field(obj, "label", w)),
        "atom1": str(_field(obj, "atom1", w)),
        "atom2": str(_field(obj, "atom2", w)),
        "icohp_ev": float(_field(obj, "icohp_ev", w)),
        "length_a": _opt(float, _field(obj, "length_a", w, None)),
        **_translation(_field(obj, "translation", w, None), w),
    }


def _translation(value: Any, where: str) -> dict[str, int | None]:
    """``translation`` (three integers or None) as the three ``translation_*`` columns."""
    if value is None:
        return {"translation_a": None, "translation_b": None, "translation_c": None}
    if len(value) != 3:
        raise InputError(f"{where}.translation", f"{value!r} is not three integers")
    a, b, c = (int(v) for v in value)
    return {"translation_a": a, "translation_b": b, "translation_c": c}


def magmom_row(obj: Any, i: int) -> dict[str, Any]:
    """Columns of ``site_magmoms`` from ``obj`` (moment in μB)."""
    w = f"magmoms[{i}]"
    return {
        "site_index": int(_field(obj, ("site_index", "index"), w)),
        "element": _opt(str, _field(obj, "element", w, None)),
        "label": _opt(str, _field(obj, "label", w, None)),
        "moment_mub": float(_field(obj, "moment_mub", w)),
    }
