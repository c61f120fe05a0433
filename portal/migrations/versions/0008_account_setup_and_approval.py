"""Accounts: one-time set-up links, DSL approval and four eyes for a school's first DSL.

- `users.setup_token_hash`, `users.setup_expires_at`, `users.setup_pending`: the set-up link an
  account is created with (only the SHA-256 of its token is kept; it expires).
- `users.approval` (approved | awaiting_peer | awaiting_admin | declined), `users.proposed_by_id`,
  `users.previous_role`, `users.declined_reasons_enc`: a new DSL of a school with DSLs (adviser
  of an authority with advisers) waits for one of them to approve it; a school's first DSL (an
  authority's first adviser) waits for a second administrator.

Existing accounts are approved and set up.

- `ix_audit_events_org_action_at` on audit_events (org_id, action, at): the dashboard lists an
  organisation's recent account changes without reading its whole chain.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("setup_token_hash", sa.LargeBinary(length=32),
                                     nullable=True))
    op.add_column("users", sa.Column("setup_expires_at", sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column("users", sa.Column("setup_pending", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("approval", sa.String(length=16), nullable=False,
                                     server_default="approved"))
    op.add_column("users", sa.Column("proposed_by_id", sa.Uuid(), nullable=True))
    op.add_column("users", sa.Column("previous_role", sa.String(length=16), nullable=True))
    op.add_column("users", sa.Column("declined_reasons_enc", sa.LargeBinary(), nullable=True))
    op.create_index("ix_users_setup_token_hash", "users", ["setup_token_hash"])
    op.create_index("ix_audit_events_org_action_at", "audit_events", ["org_id", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_org_action_at", table_name="audit_events")
    op.drop_index("ix_users_setup_token_hash", table_name="users")
    with op.batch_alter_table("users") as batch:
        for column in ("declined_reasons_enc", "previous_role", "proposed_by_id", "approval",
                       "setup_pending", "setup_expires_at", "setup_token_hash"):
            batch.drop_column(column)
