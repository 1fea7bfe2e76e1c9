"""ingest job options the catalogue queries become columns: reference code, item number, manifest row,
access level and departments (the rest of the options stay free-form JSON)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LEVELS = ("public", "internal", "confidential", "secret", "top_secret")  # archive.values.AccessLevel, frozen here
MOVED = ("reference_code", "item_number", "manifest_item_id", "level", "departments")


def upgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.add_column(sa.Column("reference_code", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("item_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("manifest_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("access_level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("departments", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(batch_op.f("ix_ingest_job_reference_code"), ["reference_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_job_manifest_item_id"), ["manifest_item_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ingest_job_manifest_item_id_manifest_item"), "manifest_item", ["manifest_item_id"], ["id"]
        )
    connection = op.get_bind()
    for job_id, options in connection.execute(sa.text("SELECT id, options FROM ingest_job")).fetchall():
        values = _loaded(options)
        connection.execute(
            sa.text(
                "UPDATE ingest_job SET reference_code = :ref, item_number = :number, manifest_item_id = :row, "
                "access_level = :level, departments = :departments, options = :options WHERE id = :id"
            ),
            {
                "ref": _text(values.get("reference_code")),
                "number": _number(values.get("item_number")),
                "row": _number(values.get("manifest_item_id")),
                "level": _level(values.get("level")),
                "departments": json.dumps(sorted({str(d) for d in values.get("departments") or []})),
                "options": json.dumps({k: v for k, v in values.items() if k not in MOVED}),
                "id": job_id,
            },
        )


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, options, reference_code, item_number, manifest_item_id, access_level, departments "
            "FROM ingest_job"
        )
    ).fetchall()
    for job_id, options, reference, number, row, level, departments in rows:
        values = _loaded(options) | {
            "reference_code": reference,
            "item_number": number,
            "manifest_item_id": row,
            "level": LEVELS[level] if level is not None and 0 <= level < len(LEVELS) else None,
            "departments": _loaded(departments, default=[]),
        }
        connection.execute(
            sa.text("UPDATE ingest_job SET options = :options WHERE id = :id"),
            {"options": json.dumps(values), "id": job_id},
        )
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ingest_job_manifest_item_id_manifest_item"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ingest_job_manifest_item_id"))
        batch_op.drop_index(batch_op.f("ix_ingest_job_reference_code"))
        for column in ("departments", "access_level", "manifest_item_id", "item_number", "reference_code"):
            batch_op.drop_column(column)


def _loaded(value: Any, default: Any = None) -> Any:
    if isinstance(value, dict | list):
        return value
    return json.loads(value) if value else ({} if default is None else default)


def _text(value: Any) -> str | None:
    return str(value) if value is not None and str(value) else None


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _level(value: Any) -> int | None:
    """The level label (or number) an old job stored; an unreadable one stays None: visible to no one."""
    cleaned = str(value).strip().lower().replace("-", "_") if value is not None else ""
    if cleaned in LEVELS:
        return LEVELS.index(cleaned)
    return int(cleaned) if cleaned.isdigit() and int(cleaned) < len(LEVELS) else None
