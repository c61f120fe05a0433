"""A child protection file sent to the child's next school on the portal, its files, each
school's term dates, and a leaver's next school from the roll (issue 16, item 1).

Revision ID: 0023
Revises: 0022 (numbered 0022 on its branch; re-chained after file export, 0021, and repeat
harm marks, 0022, were merged)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("destination_school_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "file_transfers",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("from_school_id", sa.Uuid(), nullable=False),
        sa.Column("to_school_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("sent_by_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_by_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_child_id", sa.Uuid(), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("packet_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_file_transfers_child_id_children")),
        sa.ForeignKeyConstraint(["from_school_id"], ["schools.id"],
                                name=op.f("fk_file_transfers_from_school_id_schools")),
        sa.ForeignKeyConstraint(["to_school_id"], ["schools.id"],
                                name=op.f("fk_file_transfers_to_school_id_schools")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"],
                                name=op.f("fk_file_transfers_sent_by_id_users")),
        sa.ForeignKeyConstraint(["accepted_by_id"], ["users.id"],
                                name=op.f("fk_file_transfers_accepted_by_id_users")),
        sa.ForeignKeyConstraint(["received_child_id"], ["children.id"],
                                name=op.f("fk_file_transfers_received_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_transfers")),
    )
    op.create_index(op.f("ix_file_transfers_child_id"), "file_transfers", ["child_id"])
    op.create_index(op.f("ix_file_transfers_received_child_id"), "file_transfers",
                    ["received_child_id"])
    op.create_index("ix_file_transfers_to_state", "file_transfers", ["to_school_id", "state"])
    op.create_index("ix_file_transfers_from_state", "file_transfers",
                    ["from_school_id", "state"])

    op.create_table(
        "transfer_attachments",
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("to_school_id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("source_copy_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filename_enc", sa.LargeBinary(), nullable=True),
        sa.Column("description_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["file_transfers.id"],
                                name=op.f("fk_transfer_attachments_transfer_id_file_transfers")),
        sa.ForeignKeyConstraint(["to_school_id"], ["schools.id"],
                                name=op.f("fk_transfer_attachments_to_school_id_schools")),
        sa.ForeignKeyConstraint(["source_id"], ["attachments.id"],
                                name=op.f("fk_transfer_attachments_source_id_attachments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_attachments")),
    )
    op.create_index(op.f("ix_transfer_attachments_transfer_id"), "transfer_attachments",
                    ["transfer_id"])

    op.create_table(
        "school_terms",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("half_term_starts", sa.Date(), nullable=True),
        sa.Column("half_term_ends", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_school_terms_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_terms")),
    )
    op.create_index("ix_school_terms_school_starts", "school_terms", ["school_id", "starts_on"])


def downgrade() -> None:
    op.drop_index("ix_school_terms_school_starts", table_name="school_terms")
    op.drop_table("school_terms")
    op.drop_index(op.f("ix_transfer_attachments_transfer_id"), table_name="transfer_attachments")
    op.drop_table("transfer_attachments")
    for name in ("ix_file_transfers_from_state", "ix_file_transfers_to_state",
                 "ix_file_transfers_received_child_id", "ix_file_transfers_child_id"):
        op.drop_index(name, table_name="file_transfers")
    op.drop_table("file_transfers")
    with op.batch_alter_table("children") as batch:
        batch.drop_column("destination_school_enc")
