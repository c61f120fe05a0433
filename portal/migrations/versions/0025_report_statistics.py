"""Reports (issue 17): plain statistics codes on a child's part in an incident, and indexes.

* `incident_children.stat_year_group`, `stat_sex`, `stat_send`: coarse codes ("7", "F", "Y";
  "U" for not known) copied from the child's encrypted roll details when the child is put in
  an incident, so reports count them without decrypting (docs/security.md, "Plain statistics
  for reports"). This revision fills them for the children already in incidents, decrypting
  only those three details with the portal's key ring (`flask init-db` runs it inside the
  application); run outside it, the rows stay empty and `flask init-db` fills them afterwards.
* Indexes for counting a school's concerns and incidents, and an authority's referrals, in a
  period.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident_children") as batch:
        batch.add_column(sa.Column("stat_year_group", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("stat_sex", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("stat_send", sa.String(length=1), nullable=True))
    op.create_index("ix_incidents_school_opened", "incidents", ["school_id", "opened_at"])
    op.create_index("ix_concerns_school_submitted", "concerns", ["school_id", "submitted_at"])
    op.create_index("ix_referrals_la_sent", "referrals", ["local_authority_id", "sent_at"])

    from flask import current_app, has_app_context

    if has_app_context() and "keyring" in current_app.extensions:
        from portal.services.report_stats import fill_statistics

        fill_statistics(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_referrals_la_sent", table_name="referrals")
    op.drop_index("ix_concerns_school_submitted", table_name="concerns")
    op.drop_index("ix_incidents_school_opened", table_name="incidents")
    with op.batch_alter_table("incident_children") as batch:
        batch.drop_column("stat_send")
        batch.drop_column("stat_sex")
        batch.drop_column("stat_year_group")
