"""Magnetic moments, final structures, ICOHP translations, stoichiometric adsorption
energies, Löwdin charges.

Revision ID: 0002
Revises: 0001

Idempotent (each step checks the database first), so databases made by create_all between
378404a and this revision, which have some of these already, upgrade too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: ``site_charges.method`` values after this revision (``lisflow.db.schema.CHARGE_METHODS``).
CHARGE_METHODS = ("bader", "acf", "mulliken", "hirshfeld", "loewdin")


def _calc_fk(**kw) -> sa.Column:
    return sa.Column(
        "calculation_id",
        sa.Integer(),
        sa.ForeignKey("calculations.id", ondelete="CASCADE"),
        nullable=False,
        **kw,
    )


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "site_magmoms" not in tables:
        op.create_table(
            "site_magmoms",
            sa.Column("id", sa.Integer(), primary_key=True),
            _calc_fk(index=True),
            sa.Column("site_index", sa.Integer(), nullable=False),
            sa.Column("element", sa.String(8)),
            sa.Column("label", sa.String(64)),
            sa.Column("moment_mub", sa.Double(), nullable=False),
            sa.UniqueConstraint("calculation_id", "site_index"),
        )
    if "final_structures" not in tables:
        op.create_table(
            "final_structures",
            sa.Column("id", sa.Integer(), primary_key=True),
            _calc_fk(unique=True),
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("structure", sa.JSON(), nullable=False),
        )
    _icohp_translations(inspector)
    _adsorption_stoichiometry(inspector)
    _loewdin(inspector)


def _columns(inspector, table: str) -> set[str]:
    return {c["name"] for c in inspector.get_columns(table)}


def _icohp_translations(inspector) -> None:
    missing = [
        f"translation_{axis}"
        for axis in "abc"
        if f"translation_{axis}" not in _columns(inspector, "bond_icohps")
    ]
    for name in missing:  # plain ADD COLUMN on both back ends
        op.add_column("bond_icohps", sa.Column(name, sa.Integer()))


def _adsorption_stoichiometry(inspector) -> None:
    """Nullable energy (FAILED rows), n·E_slab and ν·E_molecule, state; rows stored before
    were E_adslab − E_slab − E_molecule: n = ν = 1, COMPLETED."""
    table = "adsorption_energies"
    have = _columns(inspector, table)
    nullable_energy = next(c for c in inspector.get_columns(table) if c["name"] == "energy_ev")
    index = "ix_adsorption_energies_site_adsorbate"
    has_index = index in {i["name"] for i in inspector.get_indexes(table)}
    new: dict[str, sa.types.TypeEngine] = {
        "slab_multiple": sa.Integer(),
        "molecule_coefficient": sa.Float(),
        "equation": sa.String(255),
        "state": sa.String(16),
        "state_reason": sa.Text(),
    }
    if set(new) <= have and nullable_energy["nullable"] and has_index:
        return
    with op.batch_alter_table(table) as batch:
        batch.alter_column("energy_ev", existing_type=sa.Double(), nullable=True)
        for name, type_ in new.items():
            if name not in have:
                batch.add_column(sa.Column(name, type_, nullable=True))
        if not has_index:
            batch.create_index(index, ["site", "adsorbate"])
    op.execute(f"UPDATE {table} SET slab_multiple = 1 WHERE slab_multiple IS NULL")
    op.execute(f"UPDATE {table} SET molecule_coefficient = 1.0 WHERE molecule_coefficient IS NULL")
    op.execute(f"UPDATE {table} SET state = 'COMPLETED' WHERE state IS NULL")
    with op.batch_alter_table(table) as batch:
        batch.alter_column("state", existing_type=sa.String(16), nullable=False)


def _loewdin(inspector) -> None:
    """Widen the CHECK of ``site_charges.method`` by ``loewdin`` (SQLite: table rebuilt)."""
    name = "ck_site_charges_method"
    check = next(
        (c for c in inspector.get_check_constraints("site_charges") if c["name"] == name), None
    )
    if check is not None and "loewdin" in check["sqltext"]:
        return
    condition = f"method IN ({', '.join(repr(m) for m in CHARGE_METHODS)})"
    # SQLite cannot alter a CHECK: rebuild the table. PostgreSQL alters it in place (a
    # rebuild there would restart the id sequence at 1).
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("site_charges", recreate="always" if sqlite else "auto") as batch:
        if check is not None:
            batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, sa.text(condition))
