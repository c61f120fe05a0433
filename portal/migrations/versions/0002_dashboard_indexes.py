"""Indexes for the DSL dashboard: concerns and incidents by school and state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_concerns_school_state", "concerns", ["school_id", "state", "submitted_at"]
    )
    op.create_index(
        "ix_incidents_school_state", "incidents", ["school_id", "state", "opened_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_school_state", table_name="incidents")
    op.drop_index("ix_concerns_school_state", table_name="concerns")
