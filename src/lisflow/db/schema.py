"""Tables of the results database (SQLAlchemy 2 typed ORM).

Units: energies in eV (band centres relative to the Fermi level), lengths in Å, charges in e.
Large arrays and volumetric data are never stored, only the paths of the files holding them
(``calculations.files``, e.g. ``{"CHGCAR": "/runs/.../CHGCAR"}``).
"""

from __future__ import annotations

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

from lisflow.db.records import (  # noqa: F401  (plain records and row converters, re-exported)
    CHARGE_METHODS,
    ORBITALS,
    SPINS,
    STATES,
    CalculationRecord,
    SiteCharge,
    band_row,
    charge_row,
    choice,
    icohp_row,
    magmom_row,
)
from lisflow.parsers.bands import BandCentre  # noqa: F401  (one record type, re-exported)
from lisflow.parsers.lobster import BondIcohp  # noqa: F401  (one record type, re-exported)


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
