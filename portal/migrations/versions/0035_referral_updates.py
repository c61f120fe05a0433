"""More information a school sends about a referral already sent.

* `referral_updates`: the school's DSL's words, encrypted under the authority's key as the
  packet is, with who sent them and when, and who of the authority first read them.
* `referrals.updates_unread`: how many no adviser has opened yet; while any, the referral is
  not settled (`settled_rule`). Every referral already there has none, so no mark changes.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referrals", sa.Column("updates_unread", sa.Integer(), nullable=False,
                                         server_default="0"))
    op.create_table(
        "referral_updates",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("sent_by_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_by_id", sa.Uuid(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_referral_updates_referral_id_referrals")),
        sa.ForeignKeyConstraint(
            ["local_authority_id"], ["local_authorities.id"],
            name=op.f("fk_referral_updates_local_authority_id_local_authorities")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_referral_updates_school_id_schools")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"],
                                name=op.f("fk_referral_updates_sent_by_id_users")),
        sa.ForeignKeyConstraint(["read_by_id"], ["users.id"],
                                name=op.f("fk_referral_updates_read_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_updates")),
    )
    op.create_index(op.f("ix_referral_updates_referral_id"), "referral_updates",
                    ["referral_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_updates_referral_id"), table_name="referral_updates")
    op.drop_table("referral_updates")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("updates_unread")
