"""Incident revisions record a merge: the version the saving form was loaded at.

Two saves of one incident merge field by field (issue 12, item 3). A revision saved from a form
loaded at an older version, merged with the saves made since, records that version in
`merged_from_version`; revisions saved before this revision were never merged (NULL).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident_revisions") as batch:
        batch.add_column(sa.Column("merged_from_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident_revisions") as batch:
        batch.drop_column("merged_from_version")
