"""Index the owning organisation of every table holding encrypted values.

Key rotation, shredding and backups select an organisation's rows by its id; four tables had
no index on that column, so rotating one school's keys scanned every school's rows of them
(about 20 s per school at 1,000,000 incidents).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_incident_children_school_id", "incident_children", "school_id"),
    ("ix_incident_revisions_school_id", "incident_revisions", "school_id"),
    ("ix_assessments_school_id", "assessments", "school_id"),
    ("ix_referral_responses_local_authority_id", "referral_responses", "local_authority_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
