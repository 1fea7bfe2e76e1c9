"""preservation events per record and object (PREMIS-style event history)

`object_event`: one row per thing done to a record or one of its objects — ingestion, message digest
calculation, accession, fixity check, replication, metadata modification and the preservation duties that follow.
`document_id` is not a foreign key, so a destroyed record's history stays.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=512), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_event")),
    )
    with op.batch_alter_table("object_event") as batch_op:
        batch_op.create_index(batch_op.f("ix_object_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_object_event_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_object_event_object_key"), ["object_key"], unique=False)


def downgrade() -> None:
    op.drop_table("object_event")
