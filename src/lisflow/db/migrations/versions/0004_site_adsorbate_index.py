"""Make "one site + adsorbate" read one index range already in the query's order: the index
(site, adsorbate) becomes (site, adsorbate, study, configuration), on SQLite covering every
column the adsorption query reads (``lisflow.db.schema.ADSORPTION_*``). Rows are kept.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "adsorption_energies"
#: The index of revisions 0002-0003.
OLD_INDEX = "ix_adsorption_energies_site_adsorbate"
#: As in lisflow.db.schema at this revision (frozen here: a migration never changes).
KEYS = ["site", "adsorbate", "study", "configuration"]
COVERED = ["adslab_id", "slab_id", "molecule_id", "energy_ev", "slab_multiple",
           "molecule_coefficient", "equation", "state", "state_reason"]  # fmt: skip


def upgrade() -> None:
    bind = op.get_bind()
    have = {i["name"] for i in sa.inspect(bind).get_indexes(TABLE)}
    if bind.dialect.name == "sqlite":  # covering: no table row read by the query
        name, columns = "ix_adsorption_energies_site_adsorbate_covering", KEYS + COVERED
    else:  # PostgreSQL: index rows are size-limited (state_reason is Text): keys only
        name, columns = "ix_adsorption_energies_site_adsorbate_study", KEYS
    if name not in have:  # plain CREATE INDEX: the table is never rebuilt
        op.create_index(name, TABLE, columns)
    if OLD_INDEX in have:  # its lookups are the new index's leading columns
        op.drop_index(OLD_INDEX, table_name=TABLE)
