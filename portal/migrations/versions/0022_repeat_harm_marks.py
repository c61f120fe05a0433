"""Repeat harm across schools (issue 17, part 3): `repeat_harm_marks`.

One row per child recorded in an incident in a role that harmed others, per authority that may be
told: a keyed hash (under the authority's blind-index key) of the child's UPN or of their folded
name and date of birth, with the school, incident, child, role and the incident's date
(portal/services/repeat_harm.py). Filled for the incidents already recorded by
`flask --app wsgi init-db` after upgrading (the hashes need the authorities' index keys, which a
migration does not hold).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repeat_harm_marks",
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("match_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["local_authority_id"], ["local_authorities.id"],
                                name=op.f("fk_repeat_harm_marks_local_authority_id_local_authorities")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_repeat_harm_marks_school_id_schools")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_repeat_harm_marks_incident_id_incidents")),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_repeat_harm_marks_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repeat_harm_marks")),
    )
    op.create_index("ix_repeat_harm_marks_authority_hash", "repeat_harm_marks",
                    ["local_authority_id", "match_hash"])
    op.create_index("ix_repeat_harm_marks_child_id", "repeat_harm_marks", ["child_id"])


def downgrade() -> None:
    op.drop_index("ix_repeat_harm_marks_child_id", table_name="repeat_harm_marks")
    op.drop_index("ix_repeat_harm_marks_authority_hash", table_name="repeat_harm_marks")
    op.drop_table("repeat_harm_marks")
