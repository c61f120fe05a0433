"""Which child an adviser's answer is for (issue 14, item 5).

An answer on a referral with two children may be for one of them: the school's reference of that
child (as the packet names it), or empty for every child in the referral.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_responses") as batch:
        batch.add_column(sa.Column("child_ref", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral_responses") as batch:
        batch.drop_column("child_ref")
