"""Alerts that arrive (issue 12, item 5): the mail outbox, and escalation of unopened urgent
concerns.

- `outbox_messages`: every email, written in the same transaction as what causes it, the
  message encrypted; `outbox_attempts`: each try at sending one (when, outcome, error type).
- `concerns.dsl_opened_at`, `concerns.escalated_at`: when a DSL first opened a concern, and when
  it was escalated to the deputy DSLs and the head. Concerns already picked up count as opened.
- `schools.escalation_minutes`, `school_days`, `day_starts`, `day_ends`: the school's set time
  and school hours (default 15 minutes, Monday to Friday 08:00 to 17:00 London time).
- `users.deputy_dsl`, `users.headteacher`: who is alerted when a concern is escalated.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("audit_object_type", sa.String(length=32), nullable=True),
        sa.Column("audit_object_id", sa.String(length=64), nullable=True),
        sa.Column("audit_ok", sa.String(length=64), nullable=True),
        sa.Column("audit_failed", sa.String(length=64), nullable=True),
        sa.Column("audit_detail", sa.JSON(), nullable=True),
        sa.Column("message_enc", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_outbox_messages_batch_id"), "outbox_messages", ["batch_id"])
    op.create_table(
        "outbox_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_messages.id"],
                                name=op.f("fk_outbox_attempts_message_id_outbox_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
    )
    op.create_index(op.f("ix_outbox_attempts_message_id"), "outbox_attempts", ["message_id"])
    # Plain ADD COLUMN (SQLite has it): a batch copy of `users` or `schools` would drop a table
    # that other rows reference.
    op.add_column("concerns", sa.Column("dsl_opened_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.add_column("concerns", sa.Column("escalated_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.execute("UPDATE concerns SET dsl_opened_at = picked_up_at WHERE state = 'picked_up'")
    op.add_column("schools", sa.Column("escalation_minutes", sa.Integer(), nullable=False,
                                       server_default="15"))
    op.add_column("schools", sa.Column("school_days", sa.String(length=7), nullable=False,
                                       server_default="12345"))
    op.add_column("schools", sa.Column("day_starts", sa.Integer(), nullable=False,
                                       server_default="480"))
    op.add_column("schools", sa.Column("day_ends", sa.Integer(), nullable=False,
                                       server_default="1020"))
    op.add_column("users", sa.Column("deputy_dsl", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("headteacher", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("headteacher")
        batch.drop_column("deputy_dsl")
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("day_ends")
        batch.drop_column("day_starts")
        batch.drop_column("school_days")
        batch.drop_column("escalation_minutes")
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("dsl_opened_at")
    op.drop_index(op.f("ix_outbox_attempts_message_id"), table_name="outbox_attempts")
    op.drop_table("outbox_attempts")
    op.drop_index(op.f("ix_outbox_messages_batch_id"), table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
