"""R9 parents and carers, R10 kept under review.

- `parent_contacts`: per child of an incident, whether their parents or carers were told, when
  and by whom (encrypted), or why not (a reason code and encrypted free text). Append-only.
- `decisions.review_on`, `decisions.reviews_id`, `decisions.review_outcome`: the review date of
  a decision of no further action or support in school, and a review's link to the decision it
  reviewed and its outcome; an index on (school_id, review_on) for the dashboard.
- `schools.review_weeks`: the school's default weeks to a review (4).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("schools", sa.Column("review_weeks", sa.Integer(), nullable=False,
                                       server_default="4"))

    op.add_column("decisions", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column("decisions", sa.Column("reviews_id", sa.Uuid(), nullable=True))
    op.add_column("decisions", sa.Column("review_outcome", sa.String(length=32), nullable=True))
    op.create_index("ix_decisions_reviews_id", "decisions", ["reviews_id"])
    op.create_index("ix_decisions_school_review", "decisions", ["school_id", "review_on"])

    op.create_table(
        "parent_contacts",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("told", sa.Boolean(), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_whom_enc", sa.LargeBinary(), nullable=True),
        sa.Column("detail_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_parent_contacts_child_id_children")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_parent_contacts_incident_id_incidents")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_parent_contacts_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_parent_contacts_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parent_contacts")),
        sa.UniqueConstraint("incident_id", "child_id", "number",
                            name="uq_parent_contacts_incident_child_number"),
    )
    op.create_index("ix_parent_contacts_school_id", "parent_contacts", ["school_id"])
    op.create_index("ix_parent_contacts_child_id", "parent_contacts", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_parent_contacts_child_id", table_name="parent_contacts")
    op.drop_index("ix_parent_contacts_school_id", table_name="parent_contacts")
    op.drop_table("parent_contacts")
    op.drop_index("ix_decisions_school_review", table_name="decisions")
    op.drop_index("ix_decisions_reviews_id", table_name="decisions")
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.drop_column("review_outcome")
        batch_op.drop_column("reviews_id")
        batch_op.drop_column("review_on")
    with op.batch_alter_table("schools") as batch_op:
        batch_op.drop_column("review_weeks")
