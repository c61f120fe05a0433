"""One-time submission keys: a creating form sent twice creates once (issue 12, item 2).

`submission_keys` holds, for each creating POST that carried a page's one-time key, a hash of
(user, key), the endpoint and where the created thing lives. Its primary key is the unique
constraint that identical POSTs sent at the same time race on: the first commits, the others
fail to insert and are sent to the first one's result. Rows are deleted after a week.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_keys",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("result_url", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_submission_keys_user_id_users"),
        sa.PrimaryKeyConstraint("key_hash", name="pk_submission_keys"),
    )
    op.create_index("ix_submission_keys_user_created", "submission_keys",
                    ["user_id", "created_at"])
    op.create_index("ix_submission_keys_created", "submission_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_submission_keys_created", table_name="submission_keys")
    op.drop_index("ix_submission_keys_user_created", table_name="submission_keys")
    op.drop_table("submission_keys")
