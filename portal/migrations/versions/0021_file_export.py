"""A child's file leaving or reaching the school outside the portal (issue 16, parts 2, 3, 5):
sealed exports for a school not on the portal and their receipts, files received from a previous
school, and copies released for a subject access request or to the police.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "sealed_exports",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("receiving_school_enc", sa.LargeBinary(), nullable=True),
        sa.Column("passphrase_enc", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_enc", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_token_hash", sa.String(length=64), nullable=False),
        sa.Column("receipt_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_method", sa.String(length=16), nullable=True),
        sa.Column("receipt_recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_role_enc", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_school_enc", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_how_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("sealed_exports", "school_id", "schools"),
        _fk("sealed_exports", "child_id", "children"),
        _fk("sealed_exports", "created_by_id", "users"),
        _fk("sealed_exports", "receipt_recorded_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_exports")),
        sa.UniqueConstraint("receipt_token_hash",
                            name=op.f("uq_sealed_exports_receipt_token_hash")),
    )
    with op.batch_alter_table("sealed_exports") as batch:
        batch.create_index(batch.f("ix_sealed_exports_school_id"), ["school_id"])
        batch.create_index(batch.f("ix_sealed_exports_child_id"), ["child_id"])
        batch.create_index("ix_sealed_exports_school_received", ["school_id", "received_at"])

    op.create_table(
        "received_files",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_school_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("received_files", "school_id", "schools"),
        _fk("received_files", "child_id", "children"),
        _fk("received_files", "attachment_id", "attachments"),
        _fk("received_files", "recorded_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_files")),
    )
    with op.batch_alter_table("received_files") as batch:
        batch.create_index(batch.f("ix_received_files_school_id"), ["school_id"])
        batch.create_index(batch.f("ix_received_files_child_id"), ["child_id"])

    op.create_table(
        "disclosures",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("released_by_id", sa.Uuid(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf_size", sa.Integer(), nullable=False),
        sa.Column("requester_enc", sa.LargeBinary(), nullable=True),
        sa.Column("basis_detail_enc", sa.LargeBinary(), nullable=True),
        sa.Column("withheld_enc", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("disclosures", "school_id", "schools"),
        _fk("disclosures", "child_id", "children"),
        _fk("disclosures", "released_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    with op.batch_alter_table("disclosures") as batch:
        batch.create_index(batch.f("ix_disclosures_school_id"), ["school_id"])
        batch.create_index(batch.f("ix_disclosures_child_id"), ["child_id"])


def downgrade() -> None:
    op.drop_table("disclosures")
    op.drop_table("received_files")
    op.drop_table("sealed_exports")
