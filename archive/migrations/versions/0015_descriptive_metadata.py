"""descriptive metadata: Dublin Core and Chinese archival fields on records, custom fields per series

`document`: creator 责任者, document_number 文号, organisation 机构, archival_year 归档年度, keywords 关键词 and the
other Dublin Core elements (description, subject, publisher, contributor, dc_type, coverage, rights, relation,
dc_source), and custom_fields (checked against `series_field`). `manifest_item.descriptive`: a manifest row's
metadata, copied onto its record when it is filed. Existing records get archival_year = their batch's year.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (
    ("creator", 255),
    ("document_number", 128),
    ("organisation", 255),
    ("subject", 512),
    ("publisher", 255),
    ("contributor", 255),
    ("coverage", 255),
    ("rights", 512),
    ("relation", 512),
    ("dc_source", 512),
)


def upgrade() -> None:
    # Plain-string server defaults: a SQL-expression default would make Alembic's SQLite batch mode recreate
    # `document`, which its enforced foreign keys refuse once pages and objects refer to it.
    with op.batch_alter_table("document") as batch_op:
        for name, length in TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.add_column(sa.Column("archival_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("keywords", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("dc_type", sa.String(length=64), nullable=False, server_default="Text"))
        batch_op.add_column(sa.Column("custom_fields", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.create_index(batch_op.f("ix_document_archival_year"), ["archival_year"], unique=False)
    with op.batch_alter_table("manifest_item") as batch_op:
        batch_op.add_column(sa.Column("descriptive", sa.JSON(), nullable=False, server_default="{}"))
    op.execute(
        "UPDATE document SET archival_year = (SELECT batch.year FROM batch WHERE batch.id = document.batch_id) "
        "WHERE batch_id IS NOT NULL"
    )
    op.create_table(
        "series_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fonds_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("label_zh", sa.String(length=128), nullable=False),
        sa.Column("label_en", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fonds_id"], ["fonds.id"], name=op.f("fk_series_field_fonds_id_fonds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_field")),
        sa.UniqueConstraint("fonds_id", "series", "name", name=op.f("uq_series_field_fonds_id_series_name")),
    )
    with op.batch_alter_table("series_field") as batch_op:
        batch_op.create_index(batch_op.f("ix_series_field_fonds_id"), ["fonds_id"], unique=False)


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: recreating `document` would drop a table
    # pages and objects refer to, which SQLite's enforced foreign keys refuse.
    op.drop_table("series_field")
    op.drop_column("manifest_item", "descriptive")
    op.drop_index(op.f("ix_document_archival_year"), table_name="document")
    for name in ("custom_fields", "dc_type", "description", "keywords", "archival_year"):
        op.drop_column("document", name)
    for name, _length in reversed(TEXT_COLUMNS):
        op.drop_column("document", name)
