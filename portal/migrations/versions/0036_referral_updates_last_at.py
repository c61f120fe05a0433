"""When a school last sent more information about a referral.

`referrals.updates_last_at`: the inbox says when the more information came, not only when the
referral was sent (a walk). Filled from `referral_updates` for referrals that have some.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referrals", sa.Column("updates_last_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.execute("UPDATE referrals SET updates_last_at = (SELECT MAX(u.sent_at) FROM "
               "referral_updates u WHERE u.referral_id = referrals.id)")


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("updates_last_at")
