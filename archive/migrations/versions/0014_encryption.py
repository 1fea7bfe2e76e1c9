"""encryption at rest: a stored object's envelope (storage_config/encryption.py)

`stored_object` gains the master key id and the wrapped data key of an encrypted object, and the SHA-256 and size
of its plaintext (`sha256` and `size` stay those of the stored bytes). NULL key_id: stored in the clear.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_object") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("wrapped_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("plain_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("plain_size", sa.BigInteger(), nullable=True))
        batch.create_index("ix_stored_object_key_id", ["key_id"])


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): no table is recreated under the rows that refer to it.
    op.drop_index("ix_stored_object_key_id", table_name="stored_object")
    for name in ("plain_size", "plain_sha256", "wrapped_key", "key_id"):
        op.drop_column("stored_object", name)
