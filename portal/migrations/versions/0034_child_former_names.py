"""The names a child was recorded under before, kept for redaction (R6).

`children.former_names_enc`: earlier (given, family) names, encrypted under the child's key as
JSON; `children.former_family_indexes`: their family names' blind indexes, space between. A
name corrected by a DSL or changed on the roll replaced the only copy: a text written under
the earlier name in another child's file was no longer redacted. Existing children have none.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("children", sa.Column("former_names_enc", sa.LargeBinary(), nullable=True))
    op.add_column("children", sa.Column("former_family_indexes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.drop_column("former_family_indexes")
        batch.drop_column("former_names_enc")
