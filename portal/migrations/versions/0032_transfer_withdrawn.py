"""A file sent to another school can be withdrawn before it is accepted (who, when and why).

`file_transfers` gains who withdrew it, when, and their reasons (encrypted under the sending
school's key). Existing transfers are all sent or accepted: nothing to fill.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each column added in place, not by a batch: a batch copies the table and drops the old
    # one, which SQLite refuses while `transfer_attachments` rows point at it. SQLite adds a
    # column with its (named) reference in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE file_transfers ADD COLUMN withdrawn_by_id CHAR(32) "
                   "CONSTRAINT fk_file_transfers_withdrawn_by_id_users REFERENCES users (id)")
    else:
        op.add_column("file_transfers", sa.Column("withdrawn_by_id", sa.Uuid(), nullable=True))
        op.create_foreign_key("fk_file_transfers_withdrawn_by_id_users", "file_transfers",
                              "users", ["withdrawn_by_id"], ["id"])
    op.add_column("file_transfers",
                  sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("file_transfers",
                  sa.Column("withdrawn_reasons_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("file_transfers") as batch:
        batch.drop_constraint("fk_file_transfers_withdrawn_by_id_users", type_="foreignkey")
        batch.drop_column("withdrawn_reasons_enc")
        batch.drop_column("withdrawn_at")
        batch.drop_column("withdrawn_by_id")
