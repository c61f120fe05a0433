"""Each local authority row's stamp: a random number drawn afresh whenever the row is written.

The authorities and the directory built from them are kept once per process (portal/reads.py)
and used while the sum of the stamps plus the number of rows, read with each request's session
row, is the one they were read with; an administrator's edit changes it, so every process reads
them again on its next request. Rows already there start at 0 (any value serves: a write draws a
new one, and a row added by hand changes the count).

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("local_authorities") as batch:
        batch.add_column(sa.Column("stamp", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("local_authorities") as batch:
        batch.drop_column("stamp")
