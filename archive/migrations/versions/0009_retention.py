"""retention and disposition: appraisals, legal holds, dispositions and their records, destroyed objects

`document.retention` (the record's own code, overriding its batch's), `document.retention_counted_after` (a keep
appraisal's year: the new period counts after it), `document.disposition_id` (the executed disposition that
destroyed or transferred it: the tombstone names its certificate through it). NULL for the rows already there.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disposition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("destination", sa.String(length=1024), nullable=True),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=128), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("executed_by", sa.String(length=128), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate_document_id", sa.Integer(), nullable=True),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=True),
        sa.Column("export_path", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposition")),
    )
    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposition_status"), ["status"], unique=False)

    op.create_table(
        "destroyed_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("disposition_id", sa.Integer(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_from", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["disposition_id"], ["disposition.id"], name=op.f("fk_destroyed_object_disposition_id_disposition")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destroyed_object")),
    )
    with op.batch_alter_table("destroyed_object", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destroyed_object_key"), ["key"], unique=False)

    op.create_table(
        "appraisal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("retention", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_appraisal_document_id_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appraisal")),
    )
    with op.batch_alter_table("appraisal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appraisal_document_id"), ["document_id"], unique=False)

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=128), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], name=op.f("fk_legal_hold_document_id_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_hold_document_id"), ["document_id"], unique=False)

    op.create_table(
        "disposition_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disposition_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("appraisal_id", sa.Integer(), nullable=False),
        sa.Column("reference_code", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("access_level", sa.Integer(), nullable=True),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appraisal_id"], ["appraisal.id"], name=op.f("fk_disposition_item_appraisal_id_appraisal")
        ),
        sa.ForeignKeyConstraint(
            ["disposition_id"],
            ["disposition.id"],
            name=op.f("fk_disposition_item_disposition_id_disposition"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_disposition_item_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposition_item")),
        sa.UniqueConstraint(
            "disposition_id", "document_id", name=op.f("uq_disposition_item_disposition_id_document_id")
        ),
    )
    with op.batch_alter_table("disposition_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposition_item_document_id"), ["document_id"], unique=False)

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("retention_counted_after", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disposition_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_document_disposition_id"), ["disposition_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_disposition_id"))
        batch_op.drop_column("disposition_id")
        batch_op.drop_column("retention_counted_after")
        batch_op.drop_column("retention")

    with op.batch_alter_table("disposition_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposition_item_document_id"))

    op.drop_table("disposition_item")
    with op.batch_alter_table("legal_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_hold_document_id"))

    op.drop_table("legal_hold")
    with op.batch_alter_table("appraisal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appraisal_document_id"))

    op.drop_table("appraisal")
    with op.batch_alter_table("destroyed_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destroyed_object_key"))

    op.drop_table("destroyed_object")
    with op.batch_alter_table("disposition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposition_status"))

    op.drop_table("disposition")
