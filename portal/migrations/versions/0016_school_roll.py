"""The school roll (issue 13): roll data on each child, their parents and carers, the record of
each roll import, and who was told in an R9 record (chosen from the roll's parents and carers).

`children.on_roll` (a yes/no that mixed "on the roll" with "attends this school") becomes
`roll_status`: "on_roll", "left" or "not_on_roll". Children marked on the roll stay on it; the
others are "not on the roll" (added by hand) until matched.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ROLL_COLUMNS = ("upn_enc", "sex_enc", "year_group_enc", "address_enc",
                 "home_authority_text_enc", "left_on_enc")


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("roll_status", sa.String(length=16), nullable=True))
        for name in _ROLL_COLUMNS:
            batch.add_column(sa.Column(name, sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("upn_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("roll_digest", sa.String(length=64), nullable=True))
    children = sa.table("children", sa.column("on_roll", sa.Boolean()),
                        sa.column("roll_status", sa.String()))
    op.execute(children.update().values(roll_status=sa.case(
        (children.c.on_roll.is_(True), "on_roll"), else_="not_on_roll")))
    with op.batch_alter_table("children") as batch:
        batch.alter_column("roll_status", existing_type=sa.String(length=16), nullable=False)
        batch.drop_column("on_roll")
        batch.create_unique_constraint("uq_children_school_upn", ["school_id", "upn_index"])

    with op.batch_alter_table("parent_contacts") as batch:
        batch.add_column(sa.Column("told_whom_enc", sa.LargeBinary(), nullable=True))

    op.create_table(
        "roll_contacts",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("relationship_enc", sa.LargeBinary(), nullable=True),
        sa.Column("responsibility_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phones_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("address_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_roll_contacts_child_id_children")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_roll_contacts_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_contacts")),
    )
    with op.batch_alter_table("roll_contacts") as batch:
        batch.create_index("ix_roll_contacts_child_priority", ["child_id", "priority"])
        batch.create_index(batch.f("ix_roll_contacts_school_id"), ["school_id"])

    op.create_table(
        "roll_imports",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("leaving_count", sa.Integer(), nullable=False),
        sa.Column("done_rows", sa.Integer(), nullable=False),
        sa.Column("leavers_done", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["users.id"],
                                name=op.f("fk_roll_imports_confirmed_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_roll_imports_created_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_roll_imports_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_imports")),
    )
    with op.batch_alter_table("roll_imports") as batch:
        batch.create_index("ix_roll_imports_school_created", ["school_id", "created_at"])
        batch.create_index(batch.f("ix_roll_imports_school_id"), ["school_id"])


def downgrade() -> None:
    op.drop_table("roll_imports")
    op.drop_table("roll_contacts")
    with op.batch_alter_table("parent_contacts") as batch:
        batch.drop_column("told_whom_enc")
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("on_roll", sa.Boolean(), nullable=True))
    children = sa.table("children", sa.column("on_roll", sa.Boolean()),
                        sa.column("roll_status", sa.String()))
    op.execute(children.update().values(on_roll=children.c.roll_status == "on_roll"))
    with op.batch_alter_table("children") as batch:
        batch.alter_column("on_roll", existing_type=sa.Boolean(), nullable=False)
        batch.drop_constraint("uq_children_school_upn", type_="unique")
        batch.drop_column("roll_status")
        batch.drop_column("roll_digest")
        batch.drop_column("upn_index")
        for name in _ROLL_COLUMNS:
            batch.drop_column(name)
