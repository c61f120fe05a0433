"""Alert batching: when each concern was counted in an alert email to the school's DSLs.

Several concerns sent to one school within a minute go out as one email per DSL saying how many
(issue 11, item 7). `alerted_at` marks the concerns an email has counted; the index finds a
school's concerns not yet counted and its last alert. Concerns already sent before this
revision were alerted one by one: they are marked with their own sending time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("concerns") as batch:
        batch.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE concerns SET alerted_at = submitted_at WHERE state <> 'draft'")
    op.create_index("ix_concerns_school_alerted", "concerns", ["school_id", "alerted_at"])


def downgrade() -> None:
    op.drop_index("ix_concerns_school_alerted", table_name="concerns")
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("alerted_at")
