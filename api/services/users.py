"""Users and bearer tokens. Tokens are 256-bit random strings stored only as their SHA-256."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select

from api.wiring import Context
from archive import audit
from archive.access import Principal
from archive.errors import AuthenticationRequired, Conflict, NotFound
from archive.events import SYSTEM_ACTOR, AuditAction
from archive.hashing import sha256_bytes
from archive.models import ApiToken, User, utcnow
from archive.values import AccessLevel, Role

TOKEN_PREFIX = "dgn_"


def token_hash(token: str) -> str:
    return sha256_bytes(token.encode("utf-8"))


class UserService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def create_admin(self, username: str, *, if_missing: bool = False) -> dict[str, Any]:
        """The bootstrap admin, with a first token printed once. With if_missing, an existing admin gets a new token."""
        with self.context.db.write() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            created = user is None
            if user is not None and not if_missing:
                raise Conflict(
                    f"user {username!r} already exists; issue a new token with `dangan users token {username}`"
                )
            if user is None:
                user = User(
                    username=username,
                    display_name="Administrator",
                    roles=[Role.ADMIN.value],
                    clearance=int(AccessLevel.TOP_SECRET),
                    departments=[],
                )
                session.add(user)
                session.flush()
                audit.record(
                    session,
                    actor="system",
                    action="user.create",
                    target=f"user:{username}",
                    details={"roles": [Role.ADMIN.value], "clearance": AccessLevel.TOP_SECRET.label},
                )
            token = self.issue(session, user, label="bootstrap" if created else "make-run")
        return {"username": username, "created": created, "token": token}

    def issue_token(self, username: str, *, label: str = "cli") -> dict[str, Any]:
        with self.context.db.write() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"user {username!r} does not exist")
            return {"username": username, "token": self.issue(session, user, label=label)}

    def issue(
        self, session: Any, user: User, *, label: str, actor: str = SYSTEM_ACTOR, client: str | None = None
    ) -> str:
        """A new token for `user`; `actor` is who asked for it (the account itself when it logs in)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = utcnow() + dt.timedelta(days=self.context.settings.token_days)
        session.add(ApiToken(user_id=user.id, token_sha256=token_hash(token), label=label, expires_at=expires))
        audit.record(
            session,
            actor=actor,
            action=AuditAction.TOKEN_ISSUE,
            target=f"user:{user.username}",
            client=client,
            details={"label": label, "expires_at": expires.isoformat()},
        )
        return token

    def authenticate(self, token: str | None) -> Principal:
        """The principal behind a bearer token; one message for every failure so tokens cannot be probed."""
        refusal = AuthenticationRequired("a valid bearer token is required (Authorization: Bearer <token>)")
        if not token:
            raise refusal
        with self.context.db.session() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == token_hash(token))).first()
            if row is None or row.revoked:
                raise refusal
            if row.expires_at is not None and row.expires_at < utcnow():
                raise refusal
            user = row.user
            if user.disabled:
                raise refusal
            return Principal(
                username=user.username,
                roles=frozenset(Role(r) for r in user.roles),
                clearance=AccessLevel(user.clearance),
                departments=frozenset(user.departments),
            )
