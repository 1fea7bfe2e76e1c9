"""a batch's OCR engine (auto, tesseract, ppocr, null); NULL: the DANGAN_OCR_ENGINE setting

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch") as batch_op:
        batch_op.add_column(sa.Column("ocr_engine", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch") as batch_op:
        batch_op.drop_column("ocr_engine")
