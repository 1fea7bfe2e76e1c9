"""digitisation process metadata and the scanning devices register

`scanner_device`: the register of scanning devices (扫描设备); `device_maintenance`: each device's maintenance log
(calibration, service, repair, check, with the next due day). `batch.scan_device` and `batch.process`: the batch's
device and declared scan settings, operator, times and the device's last calibration at the time; `page.process`:
what each image says of its capture (EXIF/TIFF tags), its uploader and the time it was received.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scanner_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("make", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("serial_number", sa.String(length=128), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scanner_device")),
        sa.UniqueConstraint("code", name=op.f("uq_scanner_device_code")),
    )
    op.create_table(
        "device_maintenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=128), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["scanner_device.id"], name=op.f("fk_device_maintenance_device_id_scanner_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_maintenance")),
    )
    with op.batch_alter_table("device_maintenance") as batch_op:
        batch_op.create_index(batch_op.f("ix_device_maintenance_device_id"), ["device_id"], unique=False)
    with op.batch_alter_table("batch") as batch_op:
        batch_op.add_column(sa.Column("scan_device", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("process", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_batch_scan_device"), ["scan_device"], unique=False)
    with op.batch_alter_table("page") as batch_op:
        batch_op.add_column(sa.Column("process", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: recreating `batch` or `page` would drop a
    # table other rows still refer to, which SQLite's enforced foreign keys refuse.
    op.drop_column("page", "process")
    op.drop_index(op.f("ix_batch_scan_device"), table_name="batch")
    op.drop_column("batch", "process")
    op.drop_column("batch", "scan_device")
    op.drop_table("device_maintenance")
    op.drop_table("scanner_device")
