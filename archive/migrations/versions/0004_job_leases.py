"""job leases and retries: the worker holding a job (lease owner and expiry) and when a retrying job runs next

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_ingest_job_lease_expires_at"), ["lease_expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_job_lease_expires_at"))
        batch_op.drop_column("not_before")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
