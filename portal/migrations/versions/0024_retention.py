"""Retention (issue 16 part 4): reviews of files that fell due, tombstones of destroyed files,
the school's setting for concerns that led to nothing, and when a child's file was destroyed.

Values written before per-child keys stay under the school's key and still read; `flask
rekey-children` moves them to each child's key in batches (docs/retention.md).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("nfa_retention_months", sa.Integer(), nullable=False,
                                   server_default="72"))

    op.create_table(
        "retention_reviews",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_retention_reviews_child_id_children")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_retention_reviews_decided_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_retention_reviews_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_reviews")),
    )
    with op.batch_alter_table("retention_reviews") as batch:
        batch.create_index("ix_retention_reviews_child_decided", ["child_id", "decided_at"])
        batch.create_index(batch.f("ix_retention_reviews_school_id"), ["school_id"])

    op.create_table(
        "retention_tombstones",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("child_reference", sa.String(length=20), nullable=False),
        sa.Column("destroyed_by_id", sa.Uuid(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("review_due_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_retention_tombstones_child_id_children")),
        sa.ForeignKeyConstraint(["destroyed_by_id"], ["users.id"],
                                name=op.f("fk_retention_tombstones_destroyed_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_retention_tombstones_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_tombstones")),
        sa.UniqueConstraint("child_id", name=op.f("uq_retention_tombstones_child_id")),
    )
    with op.batch_alter_table("retention_tombstones") as batch:
        batch.create_index("ix_retention_tombstones_school_at", ["school_id", "destroyed_at"])


def downgrade() -> None:
    op.drop_table("retention_tombstones")
    op.drop_table("retention_reviews")
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("nfa_retention_months")
    with op.batch_alter_table("children") as batch:
        batch.drop_column("destroyed_at")
