"""``calculations.lisflow_commit``: ``git describe`` of the lisflow checkout that stored a row
(the version for an installed lisflow); rows stored before have NULL (unknown).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("calculations")}
    if "lisflow_commit" not in columns:  # plain ADD COLUMN: calculations is never rebuilt
        op.add_column("calculations", sa.Column("lisflow_commit", sa.String(128)))
