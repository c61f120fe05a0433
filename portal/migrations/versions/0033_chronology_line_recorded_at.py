"""Each line of a child's chronology says when it was written.

`child_record_entries.recorded_at`: when the line was written, beside `occurred_at`, when what
it records happened (a call typed as 10:15 may be recorded at 10:40). Lines of the same time
are shown in the order they were written (two calls typed at the same minute were in an order
of their own ids). Existing lines have none: ordered by their time, then as before.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("child_record_entries",
                  sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("child_record_entries") as batch:
        batch.drop_column("recorded_at")
