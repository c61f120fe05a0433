"""Each referral's "settled" mark: the answer of the one rule of a referral needing nothing more.

`referrals.settled` stores what `portal.models.referrals.settled_rule` says of the referral (an
answered referral with nothing left that can fall due); the portal rewrites it in the flush of
every change the rule reads (a referral sent, acknowledged or answered, a response recorded), so
the adviser's inbox reads its live referrals by an index instead of working the rule out from
every referral's responses (issue 15). This revision adds the column (false for new rows) with an
index for the inbox (an authority's live referrals; its settled ones newest first) and fills it
for the referrals already there from the same rule as it stood at this revision (one UPDATE, no
key needed; frozen here, since the rule has since read columns later revisions add: 0031).

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

    referrals = sa.table("referrals", sa.column("id"), sa.column("local_authority_id"),
                         sa.column("state"), sa.column("outcome"),
                         sa.column("strategy_meeting_at"), sa.column("settled", sa.Boolean()))
    responses = sa.table("referral_responses", sa.column("referral_id"),
                         sa.column("local_authority_id"), sa.column("outcome"))

    def answered_with(*kinds: str) -> sa.Exists:
        return sa.exists().where(
            responses.c.referral_id == referrals.c.id,
            responses.c.local_authority_id == referrals.c.local_authority_id,
            responses.c.outcome.in_(kinds)).correlate(referrals)

    # `portal.models.referrals.settled_rule` as it was at this revision.
    settled = sa.and_(
        referrals.c.state == "answered", referrals.c.outcome.is_not(None),
        referrals.c.outcome != "strategy_meeting", ~answered_with("csc_assessment"),
        sa.or_(referrals.c.strategy_meeting_at.is_(None),
               sa.and_(answered_with("minutes_sent"),
                       answered_with("icpc_held", "icpc_not_needed"))))
    op.get_bind().execute(sa.update(referrals).values(settled=settled))


def downgrade() -> None:
    op.drop_index("ix_referrals_la_settled_sent", table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("settled")
