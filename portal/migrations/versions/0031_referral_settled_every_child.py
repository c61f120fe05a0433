"""A referral answered for some of its children is not settled (walk of 1 December).

`portal.models.referrals.settled_rule` now asks that every child of a referral answered child
by child has an answer: the decision for a child with none is still due. The rule only became
stricter, by that one condition, so this revision clears the stored mark of exactly the
referrals it now excludes (`rules.referral_answers.some_child_unanswered`, in SQL).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    referrals = sa.table("referrals", sa.column("settled", sa.Boolean()),
                         sa.column("children", sa.Integer()),
                         sa.column("children_answered", sa.Integer()))
    op.get_bind().execute(sa.update(referrals).where(
        referrals.c.children_answered.is_not(None), referrals.c.children.is_not(None),
        referrals.c.children_answered < referrals.c.children).values(settled=False))


def downgrade() -> None:
    pass  # the marks it cleared were wrong: nothing to put back
