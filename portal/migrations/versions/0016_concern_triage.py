"""Triage of a concern (issue 13): a concern recorded without an incident keeps its outcome (who,
when, what, why, and the other route a concern of another kind took), and each school sets how
many working days a new concern may wait before the dashboard marks it overdue.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concern_outcomes",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("route", sa.String(length=32), nullable=True),
        sa.Column("route_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("route_detail_enc", sa.LargeBinary(), nullable=True),
        sa.Column("route_reference_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"],
                                name=op.f("fk_concern_outcomes_concern_id_concerns")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_concern_outcomes_decided_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_concern_outcomes_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_outcomes")),
    )
    op.create_index("ix_concern_outcomes_school_id", "concern_outcomes", ["school_id"])
    op.create_index("ix_concern_outcomes_concern_id", "concern_outcomes", ["concern_id"])
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("concern_days", sa.Integer(), nullable=False,
                                   server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("concern_days")
    op.drop_index("ix_concern_outcomes_concern_id", table_name="concern_outcomes")
    op.drop_index("ix_concern_outcomes_school_id", table_name="concern_outcomes")
    op.drop_table("concern_outcomes")
