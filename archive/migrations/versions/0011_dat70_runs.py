"""DA/T 70 four-property check runs: one row per check of a batch (at filing or asked for) or of a document,
with its grade, counts per check code and the full report

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dat70_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dat70_run")),
    )
    with op.batch_alter_table("dat70_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dat70_run_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dat70_run_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dat70_run_grade"), ["grade"], unique=False)


def downgrade() -> None:
    op.drop_table("dat70_run")
