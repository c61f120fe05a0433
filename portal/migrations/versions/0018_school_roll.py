"""The school roll (issue 13): roll data on each child, their parents and carers, the record of
each roll import, and who was told in an R9 record (chosen from the roll's parents and carers).

`children.on_roll` (a yes/no that mixed "on the roll" with "attends this school") becomes
`roll_status`: "on_roll", "left" or "not_on_roll". Children marked on the roll stay on it; the
others are "not on the roll" (added by hand) until matched.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ROLL_COLUMNS = ("upn_enc", "sex_enc", "year_group_enc", "address_enc",
                 "home_authority_text_enc", "left_on_enc")


def upgrade() -> None:
    # No table is rebuilt (SQLite would rebuild `children`, which other tables reference, and
    # cannot turn off foreign keys inside the migration's transaction): columns are added, the
    # old column dropped in place, and the UPN's uniqueness is a unique index.
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("roll_status", sa.String(length=16), nullable=False,
                                   server_default="on_roll"))
        for name in _ROLL_COLUMNS:
            batch.add_column(sa.Column(name, sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("upn_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("roll_digest", sa.String(length=64), nullable=True))
    children = sa.table("children", sa.column("on_roll", sa.Boolean()),
                        sa.column("roll_status", sa.String()))
    op.execute(children.update().where(children.c.on_roll.is_(False))
               .values(roll_status="not_on_roll"))
    op.execute("ALTER TABLE children DROP COLUMN on_roll")
    op.create_index("uq_children_school_upn", "children", ["school_id", "upn_index"],
                    unique=True)

    op.add_column("parent_contacts", sa.Column("told_whom_enc", sa.LargeBinary(), nullable=True))

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
    op.execute("ALTER TABLE parent_contacts DROP COLUMN told_whom_enc")
    op.drop_index("uq_children_school_upn", table_name="children")
    op.add_column("children", sa.Column("on_roll", sa.Boolean(), nullable=False,
                                        server_default=sa.true()))
    children = sa.table("children", sa.column("on_roll", sa.Boolean()),
                        sa.column("roll_status", sa.String()))
    op.execute(children.update().where(children.c.roll_status != "on_roll")
               .values(on_roll=False))
    for name in ("roll_status", "roll_digest", "upn_index", *_ROLL_COLUMNS):
        op.execute(f"ALTER TABLE children DROP COLUMN {name}")
