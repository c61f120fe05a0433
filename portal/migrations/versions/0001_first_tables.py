"""First tables: organisations, keys, accounts, sessions, records, referrals, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("org_id", "seq", name=op.f("uq_audit_events_org_id")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_org_id"), ["org_id"], unique=False)

    op.create_table(
        "local_authorities",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("directory", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_authorities")),
        sa.UniqueConstraint("code", name=op.f("uq_local_authorities_code")),
    )
    op.create_table(
        "org_keys",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_keys")),
        sa.UniqueConstraint("org_id", "key_id", name=op.f("uq_org_keys_org_id")),
    )
    with op.batch_alter_table("org_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_org_keys_org_id"), ["org_id"], unique=False)

    op.create_table(
        "shredded_orgs",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_shredded_orgs")),
    )
    op.create_table(
        "schools",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("urn", sa.String(length=20), nullable=False),
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_child_number", sa.Integer(), nullable=False),
        sa.Column("next_incident_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_authority_id"],
            ["local_authorities.id"],
            name=op.f("fk_schools_local_authority_id_local_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("urn", name=op.f("uq_schools_urn")),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("local_authority_id", sa.Uuid(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("totp_enrolled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("failed_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_authority_id"],
            ["local_authorities.id"],
            name=op.f("fk_users_local_authority_id_local_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_users_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_local_authority_id"), ["local_authority_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_users_school_id"), ["school_id"], unique=False)

    op.create_table(
        "addenda",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_addenda_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_addenda_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addenda")),
    )
    with op.batch_alter_table("addenda", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addenda_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_addenda_target_id"), ["target_id"], unique=False)

    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("two_factor_done", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "children",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("given_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("family_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("dob_enc", sa.LargeBinary(), nullable=True),
        sa.Column("send_enc", sa.LargeBinary(), nullable=True),
        sa.Column("name_index", sa.String(length=64), nullable=False),
        sa.Column("family_name_index", sa.String(length=64), nullable=False),
        sa.Column("local_authority_code", sa.String(length=40), nullable=True),
        sa.Column("family_group", sa.Uuid(), nullable=True),
        sa.Column("on_roll", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_children_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_children_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_children")),
        sa.UniqueConstraint("school_id", "reference", name=op.f("uq_children_school_id")),
    )
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_children_family_group"), ["family_group"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_children_family_name_index"), ["family_name_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_children_name_index"), ["name_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_children_school_id"), ["school_id"], unique=False)

    op.create_table(
        "concerns",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("raised_by_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("what_happened_enc", sa.LargeBinary(), nullable=True),
        sa.Column("child_words_enc", sa.LargeBinary(), nullable=True),
        sa.Column("child_words_missing_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("where_enc", sa.LargeBinary(), nullable=True),
        sa.Column("when_text_enc", sa.LargeBinary(), nullable=True),
        sa.Column("urgent_detail_enc", sa.LargeBinary(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["picked_up_by_id"], ["users.id"], name=op.f("fk_concerns_picked_up_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["users.id"], name=op.f("fk_concerns_raised_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_concerns_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concerns_raised_by_id"), ["raised_by_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_concerns_school_id"), ["school_id"], unique=False)

    op.create_table(
        "incidents",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Uuid(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("sexual_activity", sa.Boolean(), nullable=False),
        sa.Column("immediate_danger", sa.Boolean(), nullable=False),
        sa.Column("crime_suspected", sa.Boolean(), nullable=False),
        sa.Column("arrested", sa.Boolean(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("adults_harmed", sa.JSON(), nullable=False),
        sa.Column("summary_enc", sa.LargeBinary(), nullable=True),
        sa.Column("mandatory_routes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"], name=op.f("fk_incidents_opened_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_incidents_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("school_id", "reference", name=op.f("uq_incidents_school_id")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_state"), ["state"], unique=False)

    op.create_table(
        "assessments",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_version", sa.Integer(), nullable=False),
        sa.Column("rules_version", sa.String(length=20), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("mandatory_routes", sa.JSON(), nullable=False),
        sa.Column("considerations", sa.JSON(), nullable=False),
        sa.Column("result_enc", sa.LargeBinary(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_assessments_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_assessments_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessments_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "attachments",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("concern_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary(), nullable=True),
        sa.Column("description_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["concerns.id"], name=op.f("fk_attachments_concern_id_concerns")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_attachments_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_attachments_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_concern_id"), ["concern_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachments_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachments_school_id"), ["school_id"], unique=False)

    op.create_table(
        "child_record_entries",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_child_record_entries_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_child_record_entries_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_child_record_entries_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_child_record_entries_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_record_entries")),
    )
    with op.batch_alter_table("child_record_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_child_record_entries_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_child_record_entries_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_child_record_entries_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "concern_children",
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_concern_children_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["concerns.id"], name=op.f("fk_concern_children_concern_id_concerns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_children")),
        sa.UniqueConstraint("concern_id", "child_id", name=op.f("uq_concern_children_concern_id")),
    )
    with op.batch_alter_table("concern_children", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_children_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_concern_children_concern_id"), ["concern_id"], unique=False
        )

    op.create_table(
        "concern_drafts",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("data_enc", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_concern_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_concern_drafts_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_concern_id"],
            ["concerns.id"],
            name=op.f("fk_concern_drafts_submitted_concern_id_concerns"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_concern_drafts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_drafts")),
    )
    with op.batch_alter_table("concern_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_drafts_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_concern_drafts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "consultation_calls",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("local_authority_code", sa.String(length=40), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spoke_to_enc", sa.LargeBinary(), nullable=True),
        sa.Column("advice_enc", sa.LargeBinary(), nullable=True),
        sa.Column("decision_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_consultation_calls_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_consultation_calls_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_consultation_calls_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_calls")),
    )
    with op.batch_alter_table("consultation_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_calls_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_calls_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("route", sa.String(length=32), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("what_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_decisions_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_decisions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_decisions_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_decisions_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_school_id"), ["school_id"], unique=False)

    op.create_table(
        "incident_children",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("same_school", sa.Boolean(), nullable=False),
        sa.Column("household", sa.String(length=40), nullable=True),
        sa.Column("child_words_enc", sa.LargeBinary(), nullable=True),
        sa.Column("child_words_missing_reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_incident_children_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_children_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_incident_children_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_children")),
        sa.UniqueConstraint(
            "incident_id", "child_id", name=op.f("uq_incident_children_incident_id")
        ),
    )
    with op.batch_alter_table("incident_children", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_children_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incident_children_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_concerns",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"], ["concerns.id"], name=op.f("fk_incident_concerns_concern_id_concerns")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_concerns_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_concerns")),
        sa.UniqueConstraint(
            "incident_id", "concern_id", name=op.f("uq_incident_concerns_incident_id")
        ),
    )
    with op.batch_alter_table("incident_concerns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_concerns_concern_id"), ["concern_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incident_concerns_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_revisions",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("saved_by_id", sa.Uuid(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_revisions_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"], ["users.id"], name=op.f("fk_incident_revisions_saved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_incident_revisions_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_revisions")),
        sa.UniqueConstraint(
            "incident_id", "version", name=op.f("uq_incident_revisions_incident_id")
        ),
    )
    with op.batch_alter_table("incident_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_revisions_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("convening", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by_id", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("strategy_meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("packet_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_referrals_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_referrals_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["local_authority_id"],
            ["local_authorities.id"],
            name=op.f("fk_referrals_local_authority_id_local_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_referrals_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["users.id"], name=op.f("fk_referrals_sent_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referrals_local_authority_id"), ["local_authority_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referrals_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_state"), ["state"], unique=False)

    op.create_table(
        "referral_responses",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("local_authority_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("workers_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_authority_id"],
            ["local_authorities.id"],
            name=op.f("fk_referral_responses_local_authority_id_local_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_referral_responses_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_responses_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_responses")),
    )
    with op.batch_alter_table("referral_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_responses_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("referral_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_responses_referral_id"))

    op.drop_table("referral_responses")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_state"))
        batch_op.drop_index(batch_op.f("ix_referrals_school_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_local_authority_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_incident_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("incident_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_revisions_incident_id"))

    op.drop_table("incident_revisions")
    with op.batch_alter_table("incident_concerns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_concerns_incident_id"))
        batch_op.drop_index(batch_op.f("ix_incident_concerns_concern_id"))

    op.drop_table("incident_concerns")
    with op.batch_alter_table("incident_children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_children_incident_id"))
        batch_op.drop_index(batch_op.f("ix_incident_children_child_id"))

    op.drop_table("incident_children")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_school_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_incident_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_child_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("consultation_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_calls_school_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_calls_incident_id"))

    op.drop_table("consultation_calls")
    with op.batch_alter_table("concern_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_drafts_user_id"))
        batch_op.drop_index(batch_op.f("ix_concern_drafts_school_id"))

    op.drop_table("concern_drafts")
    with op.batch_alter_table("concern_children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_children_concern_id"))
        batch_op.drop_index(batch_op.f("ix_concern_children_child_id"))

    op.drop_table("concern_children")
    with op.batch_alter_table("child_record_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_child_record_entries_school_id"))
        batch_op.drop_index(batch_op.f("ix_child_record_entries_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_child_record_entries_child_id"))

    op.drop_table("child_record_entries")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_school_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_incident_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_concern_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_incident_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_state"))
        batch_op.drop_index(batch_op.f("ix_incidents_school_id"))

    op.drop_table("incidents")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concerns_school_id"))
        batch_op.drop_index(batch_op.f("ix_concerns_raised_by_id"))

    op.drop_table("concerns")
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_children_school_id"))
        batch_op.drop_index(batch_op.f("ix_children_name_index"))
        batch_op.drop_index(batch_op.f("ix_children_family_name_index"))
        batch_op.drop_index(batch_op.f("ix_children_family_group"))

    op.drop_table("children")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
    with op.batch_alter_table("addenda", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addenda_target_id"))
        batch_op.drop_index(batch_op.f("ix_addenda_school_id"))

    op.drop_table("addenda")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_school_id"))
        batch_op.drop_index(batch_op.f("ix_users_local_authority_id"))

    op.drop_table("users")
    op.drop_table("schools")
    op.drop_table("shredded_orgs")
    with op.batch_alter_table("org_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_keys_org_id"))

    op.drop_table("org_keys")
    op.drop_table("local_authorities")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_org_id"))

    op.drop_table("audit_events")
