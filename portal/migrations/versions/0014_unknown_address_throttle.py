"""Sign-in back-off for email addresses with no account (issue 12, item 6).

A locked-out sign-in is now told so ("Too many attempts..."). So that the message does not say
whether an address has an account, failures with an unknown address are counted in the same way
as an account's, here, under a blind index of the address (never the address itself).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_unknown_addresses",
        sa.Column("address_index", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("failed_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address_index", name=op.f("pk_sign_in_unknown_addresses")),
    )
    with op.batch_alter_table("sign_in_unknown_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_unknown_addresses_updated_at"),
                              ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_unknown_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_unknown_addresses_updated_at"))
    op.drop_table("sign_in_unknown_addresses")
