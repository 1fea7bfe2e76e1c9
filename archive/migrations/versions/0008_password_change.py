"""a password someone else set must be changed by its holder; which bearer tokens are sign-in sessions

`user_account.password_change_required`: the password was set by a security administrator (a new account, a
reset) or by the bootstrap, and its holder has not chosen their own yet. `api_token.sign_in`: the token came
from signing in with the password (not from `dangan users token`, the bootstrap or `make run`), so such a
password opens only a session that can change it. Both false for the rows already there.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(
            sa.Column("password_change_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(sa.Column("sign_in", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("sign_in")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("password_change_required")
