"""The reports' summary table (issue 17): each school's report figures for each UK month.

* `report_months` (school, month as year * 100 + month, figures as JSON): counted from the
  plain columns the reports read, recounted in the same transaction whenever they change
  (portal/services/report_summary.py). This revision counts the records already there when it
  runs inside the portal (`flask init-db`); run outside it, the table stays empty and
  `flask init-db` counts them afterwards (or `flask rebuild-report-summary`).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_months",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name="fk_report_months_school_id_schools"),
        sa.PrimaryKeyConstraint("school_id", "month", name="pk_report_months"),
    )

    from flask import has_app_context

    if has_app_context():
        from sqlalchemy.orm import Session

        from portal.services.report_summary import rebuild

        with Session(bind=op.get_bind()) as session:
            rebuild(session)


def downgrade() -> None:
    op.drop_table("report_months")
