"""Drafts for every form that takes text: the concern form's drafts table, made general.

`concern_drafts` keeps its name (the table name is bound into each encrypted value, so the
drafts already saved keep decrypting) and gains `form_key`, which names the form and the object
it is about; the drafts saved before this revision are the staff concern form's, so they take
"concerns.new". A draft may now belong to an adviser (`local_authority_id`) or an administrator
(neither organisation: the deployment's own key), so `school_id` may be empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("concern_drafts") as batch:
        batch.add_column(sa.Column("form_key", sa.String(length=160), nullable=False,
                                   server_default="concerns.new"))
        batch.add_column(sa.Column("local_authority_id", sa.Uuid(), nullable=True))
        batch.alter_column("school_id", existing_type=sa.Uuid(), nullable=True)
        batch.create_foreign_key("fk_concern_drafts_local_authority_id_local_authorities",
                                 "local_authorities", ["local_authority_id"], ["id"])
        batch.create_index("ix_concern_drafts_user_form", ["user_id", "form_key"])


def downgrade() -> None:
    with op.batch_alter_table("concern_drafts") as batch:
        batch.drop_index("ix_concern_drafts_user_form")
        batch.drop_constraint("fk_concern_drafts_local_authority_id_local_authorities",
                              type_="foreignkey")
        batch.drop_column("local_authority_id")
        batch.drop_column("form_key")
        batch.alter_column("school_id", existing_type=sa.Uuid(), nullable=False)
