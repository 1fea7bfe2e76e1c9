"""a page's word and line boxes for highlighting (fractions of the page); NULL: read before boxes were kept

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("page") as batch_op:
        batch_op.add_column(sa.Column("boxes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("page") as batch_op:
        batch_op.drop_column("boxes")
