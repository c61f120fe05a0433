"""Each referral's "settled" mark: the answer of the one rule of a referral needing nothing more.

`referrals.settled` stores what `portal.models.referrals.settled_rule` says of the referral (an
answered referral with nothing left that can fall due); the portal rewrites it in the flush of
every change the rule reads (a referral sent, acknowledged or answered, a response recorded), so
the adviser's inbox reads its live referrals by an index instead of working the rule out from
every referral's responses (issue 15). This revision adds the column (false for new rows) with an
index for the inbox (an authority's live referrals; its settled ones newest first) and fills it
for the referrals already there from the same rule (`keep_settled`: one UPDATE, no key needed).

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch: SQLite adds a column with a constant default in place (a batch would copy
    # the table, and its default, an expression, makes Alembic's batch copy it).
    op.add_column("referrals", sa.Column("settled", sa.Boolean(), server_default=sa.false(),
                                         nullable=False))
    op.create_index("ix_referrals_la_settled_sent", "referrals",
                    ["local_authority_id", "settled", "sent_at"])

    from portal.models.referrals import keep_settled

    keep_settled(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_referrals_la_settled_sent", table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("settled")
