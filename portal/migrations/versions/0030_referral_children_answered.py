"""How far a referral about several children is answered (walk 10).

An authority may answer a referral for one of its children; the status showed the latest answer
as if it were for the whole referral. `referrals.children` keeps how many children the packet
names (written at hand-over; NULL for a referral sent before this revision: the packet is
encrypted under the authority's key, which a migration does not hold), and
`referrals.children_answered` how many have an answer while the latest is for one child only
(`portal.rules.referral_answers.children_answered`; NULL while the latest answer is for every
child). This revision fills `children_answered` from the responses already recorded.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referrals", sa.Column("children", sa.Integer(), nullable=True))
    op.add_column("referrals", sa.Column("children_answered", sa.Integer(), nullable=True))

    from portal.rules.referral_answers import children_answered
    from portal.rules.vocabulary import REFERRAL_OUTCOME_LABELS

    bind = op.get_bind()
    responses = sa.table("referral_responses", sa.column("id"), sa.column("referral_id"),
                         sa.column("local_authority_id"), sa.column("outcome"),
                         sa.column("child_ref"), sa.column("recorded_at"))
    referrals = sa.table("referrals", sa.column("id"), sa.column("local_authority_id"),
                         sa.column("children_answered"))
    answers: dict[object, list[str | None]] = {}
    # Each referral's answers (its own authority's, milestones aside), oldest first.
    for referral_id, child_ref in bind.execute(
            sa.select(referrals.c.id, responses.c.child_ref)
            .join(responses, sa.and_(
                responses.c.referral_id == referrals.c.id,
                responses.c.local_authority_id == referrals.c.local_authority_id))
            .where(responses.c.outcome.in_(list(REFERRAL_OUTCOME_LABELS)))
            .order_by(responses.c.recorded_at, responses.c.id)):
        answers.setdefault(referral_id, []).append(child_ref)
    for referral_id, refs in answers.items():
        count = children_answered(refs, None)
        if count is not None:
            bind.execute(sa.update(referrals).where(referrals.c.id == referral_id)
                         .values(children_answered=count))


def downgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("children_answered")
        batch.drop_column("children")
