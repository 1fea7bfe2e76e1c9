"""rules in the core: separation of duties, atomic duplicate claims, partial dates, workflow fields

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OFFICER_ROLES = ("sysadmin", "secadmin", "compliance")


def upgrade() -> None:
    with op.batch_alter_table("document") as batch_op:
        batch_op.add_column(sa.Column("date_precision", sa.String(length=8), nullable=True))
    with op.batch_alter_table("manifest_item") as batch_op:
        batch_op.add_column(sa.Column("date_precision", sa.String(length=8), nullable=True))
    with op.batch_alter_table("batch") as batch_op:
        batch_op.add_column(sa.Column("filing_justification", sa.Text(), nullable=True))
    with op.batch_alter_table("batch_sample") as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=False, server_default="initial"))
        batch_op.add_column(sa.Column("changed_page_ids", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.add_column(sa.Column("claim_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_ingest_job_claim_sha256"), ["claim_sha256"])
        batch_op.create_unique_constraint(batch_op.f("uq_ingest_job_external_id"), ["external_id"])
    _claim_existing_items()
    _split_the_administrator()


def _claim_existing_items() -> None:
    """Live and filed jobs claim their item's SHA-256 (the first job per file, if an old race made two)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, state, options FROM ingest_job ORDER BY id")).fetchall()
    claimed: set[str] = set()
    for job_id, state, options in rows:
        values = options if isinstance(options, dict) else json.loads(options or "{}")
        sha = values.get("sha256")
        if state == "failed" or not isinstance(sha, str) or sha in claimed:
            continue
        claimed.add(sha)
        connection.execute(sa.text("UPDATE ingest_job SET claim_sha256 = :sha WHERE id = :id"), {"sha": sha, "id": job_id})


def _split_the_administrator() -> None:
    """三员分立: the old all-powerful `admin` becomes the system administrator. An account that held `admin`
    beside `compliance` keeps only `compliance` (it cannot audit itself); user management passes to the
    security administrator that `dangan users bootstrap` creates."""
    connection = op.get_bind()
    for user_id, roles in connection.execute(sa.text("SELECT id, roles FROM user_account")).fetchall():
        values = roles if isinstance(roles, list) else json.loads(roles or "[]")
        if "admin" not in values:
            continue
        kept = [role for role in values if role != "admin"]
        if not any(role in OFFICER_ROLES for role in kept):
            kept.append("sysadmin")
        connection.execute(
            sa.text("UPDATE user_account SET roles = :roles WHERE id = :id"),
            {"roles": json.dumps(sorted(set(kept))), "id": user_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ingest_job_external_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_ingest_job_claim_sha256"), type_="unique")
        batch_op.drop_column("external_id")
        batch_op.drop_column("claim_sha256")
    with op.batch_alter_table("batch_sample") as batch_op:
        batch_op.drop_column("changed_page_ids")
        batch_op.drop_column("reason")
    with op.batch_alter_table("batch") as batch_op:
        batch_op.drop_column("filing_justification")
    with op.batch_alter_table("manifest_item") as batch_op:
        batch_op.drop_column("date_precision")
    with op.batch_alter_table("document") as batch_op:
        batch_op.drop_column("date_precision")
