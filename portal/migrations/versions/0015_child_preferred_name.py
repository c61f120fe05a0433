"""A child's preferred name (the name they go by), beside the legal given and family names.

The school roll (issue 13) brings legal and preferred names; staff often know a child only by the
name they go by, so search and every page need both. Encrypted like the other names.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("preferred_name_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.drop_column("preferred_name_enc")
