"""poison jobs: how many times a job's runner died holding its lease (it fails at DANGAN_FAULTS__POISON_DEATHS)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.add_column(sa.Column("lost_leases", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.drop_column("lost_leases")
