"""The security administrator's view of an account's sessions (bearer tokens), revoking one, resetting a
password (generated when the administrator does not choose one), and the departments known to the archive.

Token values are never shown: the catalogue keeps only their SHA-256. The account rules (三员分立, peers,
oneself) are AccountService's: a reset is an account update with a new password."""

from __future__ import annotations

import secrets
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.access.accounts import AccountService, check_peer
from api.views.access import (
    DepartmentListView,
    DepartmentView,
    PasswordResetView,
    SessionListView,
    SessionView,
)
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import NotFound
from archive.events import AuditAction
from archive.models import ApiToken, Document, User, utcnow
from archive.permissions import Action, authorize

GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters


class SessionService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def sessions(self, actor: Principal, username: str) -> SessionListView:
        authorize(actor.roles, Action.READ_USERS)
        now = utcnow()
        with self.context.db.read() as session:
            user = _user(session, username)
            rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
            return SessionListView(
                username=username,
                sessions=[
                    SessionView(
                        id=row.id,
                        label=row.label,
                        created_at=row.created_at.isoformat(),
                        expires_at=row.expires_at.isoformat() if row.expires_at else None,
                        active=not row.revoked and (row.expires_at is None or row.expires_at >= now),
                        revoked=row.revoked,
                    )
                    for row in rows
                ],
            )

    def revoke(self, actor: Principal, username: str, session_id: int, *, client: str | None = None) -> SessionView:
        """End one session of an account now (its next request answers 401); an audit event."""
        authorize(actor.roles, Action.MANAGE_USERS)
        with self.context.db.write() as session:
            user = _user(session, username)
            if actor.username != username:
                check_peer(actor, list(user.roles))
            row = session.scalars(
                select(ApiToken).where(ApiToken.id == session_id, ApiToken.user_id == user.id)
            ).first()
            if row is None:
                raise NotFound(f"session {session_id} of user {username!r} does not exist")
            row.revoked = True
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.TOKEN_REVOKE,
                target=f"user:{username}",
                client=client,
                details={"session": session_id, "label": row.label},
            )
            return SessionView(
                id=row.id,
                label=row.label,
                created_at=row.created_at.isoformat(),
                expires_at=row.expires_at.isoformat() if row.expires_at else None,
                active=False,
                revoked=True,
            )

    def reset_password(
        self, actor: Principal, username: str, *, password: str | None = None, client: str | None = None
    ) -> PasswordResetView:
        """Set a new password for another account (generated unless given) and end its sessions; its holder must
        choose their own at their next sign-in."""
        authorize(actor.roles, Action.MANAGE_USERS)  # not the "own password" path of an account update
        generated = password is None
        chosen = password if password is not None else secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        with self.context.db.read() as session:
            user_id = _user(session, username).id
            active = self._active_count(session, user_id)
        changed = AccountService(self.context).update(actor=actor, username=username, password=chosen, client=client)
        return PasswordResetView(
            username=username,
            password=chosen if generated else None,
            sessions_revoked=active,
            password_change_required=changed.password_change_required,
        )

    def departments(self, actor: Principal) -> DepartmentListView:
        """Every department an account or a record is scoped to, with how many accounts it scopes."""
        authorize(actor.roles, Action.READ_USERS)
        accounts: Counter[str] = Counter()
        names: set[str] = set()
        with self.context.db.read() as session:
            for departments in session.scalars(select(User.departments)):
                accounts.update(set(departments or []))
            query = select(Document.departments).execution_options(yield_per=1000)
            for departments in session.scalars(query):
                names.update(departments or [])
        names.update(accounts)
        return DepartmentListView(
            departments=[DepartmentView(name=name, accounts=accounts[name]) for name in sorted(names)]
        )

    @staticmethod
    def _active_count(session: Session, user_id: int) -> int:
        now = utcnow()
        statement = (
            select(func.count())
            .select_from(ApiToken)
            .where(
                ApiToken.user_id == user_id,
                ApiToken.revoked.is_(False),
                (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at >= now),
            )
        )
        return int(session.scalar(statement) or 0)


def _user(session: Session, username: str) -> User:
    user: User | None = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user
