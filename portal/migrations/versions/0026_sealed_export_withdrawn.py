"""A sealed file made by mistake can be withdrawn by the DSL (issue 16, fixes).

* `sealed_exports.withdrawn_at`, `withdrawn_by_id`: when and by whom it was withdrawn. A
  withdrawn sealed file has no zip kept, its receipt link answers 404, it is no longer awaiting
  receipt and no longer stops the child's file being destroyed.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sealed_exports") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key("fk_sealed_exports_withdrawn_by_id_users", "users",
                                 ["withdrawn_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("sealed_exports") as batch:
        batch.drop_constraint("fk_sealed_exports_withdrawn_by_id_users", type_="foreignkey")
        batch.drop_column("withdrawn_by_id")
        batch.drop_column("withdrawn_at")
