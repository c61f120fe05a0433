"""Each mandatory route's own record of being handed over (RULES.md R4): the report to the
police, the 999 call, the referral to adult social care, and a referral to children's social care
made outside the portal to an authority that does not use it.

Until now a referral sent to the convening authority counted for every mandatory route. From
this revision each of those routes needs its own record. Incidents already closed stay closed;
open ones lacking a record are listed on the DSL's dashboard.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_handovers",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=True),
        sa.Column("local_authority_code", sa.String(length=40), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("force_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reference_enc", sa.LargeBinary(), nullable=True),
        sa.Column("no_reference_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("caller_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recipient_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_route_handovers_incident_id_incidents")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_route_handovers_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_route_handovers_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_handovers")),
    )
    op.create_index("ix_route_handovers_school_id", "route_handovers", ["school_id"])
    op.create_index("ix_route_handovers_incident_route", "route_handovers",
                    ["incident_id", "route"])


def downgrade() -> None:
    op.drop_index("ix_route_handovers_incident_route", table_name="route_handovers")
    op.drop_index("ix_route_handovers_school_id", table_name="route_handovers")
    op.drop_table("route_handovers")
