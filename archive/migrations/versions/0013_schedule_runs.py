"""scheduled duties' runs (`dangan scheduler`)

`schedule_run`: one row per run of a duty (backup, sample verification, restore drill, checkpoint, compliance
report): when it started and ended, its outcome and a summary. A duty is due when its last run is older than
its interval.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_run")),
    )
    with op.batch_alter_table("schedule_run") as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_run_duty"), ["duty"], unique=False)
        batch_op.create_index(batch_op.f("ix_schedule_run_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_table("schedule_run")
