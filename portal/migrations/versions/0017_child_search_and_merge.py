"""Finding the right child (issue 13): search terms of children's names, and merged records.

* `child_name_terms`: keyed hashes of the words and word prefixes of each child's names
  (portal/services/children.py `index_names`); filled for the children already recorded by
  `flask --app wsgi index-child-names`, which `flask --app wsgi init-db` also runs after
  upgrading (the hashes need the school's index key, which a migration does not hold).
* `children.search_version`: which version of the terms a child has (0: none yet).
* `children.merged_into_id` and `child_merges`: two records of one child merged by a DSL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("search_version", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch.create_index(batch.f("ix_children_merged_into_id"), ["merged_into_id"],
                           unique=False)

    op.create_table(
        "child_name_terms",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"],
                                name=op.f("fk_child_name_terms_child_id_children")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_child_name_terms_school_id_schools")),
        sa.PrimaryKeyConstraint("child_id", "term", name=op.f("pk_child_name_terms")),
    )
    op.create_index("ix_child_name_terms_school_term", "child_name_terms",
                    ["school_id", "term"])

    op.create_table(
        "child_merges",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("kept_child_id", sa.Uuid(), nullable=False),
        sa.Column("merged_child_id", sa.Uuid(), nullable=False),
        sa.Column("merged_by_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("before_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["kept_child_id"], ["children.id"],
                                name=op.f("fk_child_merges_kept_child_id_children")),
        sa.ForeignKeyConstraint(["merged_child_id"], ["children.id"],
                                name=op.f("fk_child_merges_merged_child_id_children")),
        sa.ForeignKeyConstraint(["merged_by_id"], ["users.id"],
                                name=op.f("fk_child_merges_merged_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_child_merges_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_merges")),
    )
    op.create_index("ix_child_merges_school_id", "child_merges", ["school_id"])
    op.create_index("ix_child_merges_kept_child_id", "child_merges", ["kept_child_id"])
    op.create_index("ix_child_merges_merged_child_id", "child_merges", ["merged_child_id"])


def downgrade() -> None:
    op.drop_index("ix_child_merges_merged_child_id", table_name="child_merges")
    op.drop_index("ix_child_merges_kept_child_id", table_name="child_merges")
    op.drop_index("ix_child_merges_school_id", table_name="child_merges")
    op.drop_table("child_merges")
    op.drop_index("ix_child_name_terms_school_term", table_name="child_name_terms")
    op.drop_table("child_name_terms")
    with op.batch_alter_table("children") as batch:
        batch.drop_index(batch.f("ix_children_merged_into_id"))
        batch.drop_column("merged_into_id")
        batch.drop_column("search_version")
