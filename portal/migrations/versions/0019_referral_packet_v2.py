"""The referral a front door accepts (issue 14): what a multi-agency referral form asks for on
each child (first language, interpreter, ethnicity, religion, GP, other agencies), a DSL's
contact details for referrals (role, direct phone, availability), and the files sent with a
referral (copies re-encrypted under the authority's key).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_CHILD_COLUMNS = ("first_language_enc", "interpreter_enc", "ethnicity_enc", "religion_enc",
                  "gp_enc", "other_agencies_enc")
_USER_COLUMNS = ("job_title_enc", "direct_phone_enc", "availability_enc")


def upgrade() -> None:
    # Columns are added in place (no table rebuilt: see 0018).
    for name in _CHILD_COLUMNS:
        op.add_column("children", sa.Column(name, sa.LargeBinary(), nullable=True))
    for name in _USER_COLUMNS:
        op.add_column("users", sa.Column(name, sa.LargeBinary(), nullable=True))

    op.create_table(
        "referral_attachments",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary(), nullable=True),
        sa.Column("description_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["local_authority_id"], ["local_authorities.id"],
                                name=op.f("fk_referral_attachments_local_authority_id_"
                                          "local_authorities")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name=op.f("fk_referral_attachments_referral_id_referrals")),
        sa.ForeignKeyConstraint(["source_id"], ["attachments.id"],
                                name=op.f("fk_referral_attachments_source_id_attachments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_attachments")),
    )
    with op.batch_alter_table("referral_attachments") as batch:
        batch.create_index(batch.f("ix_referral_attachments_referral_id"), ["referral_id"])


def downgrade() -> None:
    op.drop_table("referral_attachments")
    for name in _USER_COLUMNS:
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
    for name in _CHILD_COLUMNS:
        op.execute(f"ALTER TABLE children DROP COLUMN {name}")
