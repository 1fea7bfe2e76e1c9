"""Accounts: create, update, disable and re-enable users; log in and out. Admins manage users; nobody can
change their own roles or clearance through a request body that was not meant for it (schemas are strict)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from api.services.login_throttle import LoginThrottle
from api.services.users import UserService, token_hash
from api.wiring import Context
from archive import audit
from archive.errors import AuthenticationRequired, Conflict, DanganError, InvalidInput, NotFound, TooManyAttempts
from archive.events import AuditAction
from archive.models import ApiToken, User, utcnow
from archive.passwords import hash_password, password_matches
from archive.values import AccessLevel, Role


def user_view(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": list(user.roles),
        "clearance": AccessLevel(user.clearance).label,
        "departments": list(user.departments),
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def _roles(values: list[str]) -> list[str]:
    try:
        return sorted({Role(value.strip().lower()).value for value in values})
    except ValueError as exc:
        raise InvalidInput(f"unknown role in {values}; roles are {', '.join(r.value for r in Role)}") from exc


class AccountService:
    def __init__(self, context: Context, *, throttle: LoginThrottle | None = None) -> None:
        self.context = context
        self.throttle = throttle or LoginThrottle()

    def create(
        self,
        *,
        actor: str,
        username: str,
        password: str,
        roles: list[str],
        clearance: str,
        departments: list[str] | None = None,
        display_name: str = "",
        client: str | None = None,
    ) -> dict[str, Any]:
        if not username.strip() or len(username) > 128:
            raise InvalidInput("a username is 1 to 128 characters")
        level = AccessLevel.parse(clearance)
        with self.context.db.write() as session:
            if session.scalars(select(User.id).where(User.username == username)).first() is not None:
                raise Conflict(f"user {username!r} already exists")
            user = User(
                username=username,
                display_name=display_name,
                password_hash=hash_password(password),
                roles=_roles(roles),
                clearance=int(level),
                departments=sorted(set(departments or [])),
            )
            session.add(user)
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="user.create",
                target=f"user:{username}",
                client=client,
                details={"roles": user.roles, "clearance": level.label, "departments": user.departments},
            )
            return user_view(user)

    def update(
        self,
        *,
        actor: str,
        username: str,
        roles: list[str] | None = None,
        clearance: str | None = None,
        departments: list[str] | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        client: str | None = None,
    ) -> dict[str, Any]:
        with self.context.db.write() as session:
            user = self._user(session, username)
            before = user_view(user)
            if roles is not None:
                user.roles = _roles(roles)
            if clearance is not None:
                user.clearance = int(AccessLevel.parse(clearance))
            if departments is not None:
                user.departments = sorted(set(departments))
            if password is not None:
                user.password_hash = hash_password(password)
            if disabled is not None:
                user.disabled = disabled
            if disabled or password is not None:  # a disabled account or a new password ends every session
                session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True))
            after = user_view(user)
            changed = {k: after[k] for k in after if after[k] != before[k]}
            action = "user.disable" if disabled else "user.enable" if disabled is False else "user.update"
            audit.record(
                session,
                actor=actor,
                action=action,
                target=f"user:{username}",
                client=client,
                details={"changed": changed, "password_changed": password is not None},
            )
            return after

    def list(self) -> list[dict[str, Any]]:
        with self.context.db.session() as session:
            return [user_view(u) for u in session.scalars(select(User).order_by(User.username))]

    def login(self, username: str, password: str, *, client: str | None = None) -> dict[str, Any]:
        """A bearer token for a correct password; every attempt is an audit event; failures are throttled per
        account and client address (api/services/login_throttle.py), so nobody can lock another out."""
        with self.context.db.write() as session:
            try:
                self.throttle.check(session, username, client, utcnow())
            except TooManyAttempts as throttled:
                self._record_login(session, username, client, outcome="throttled")
                refusal: DanganError = throttled
            else:
                user = session.scalars(select(User).where(User.username == username)).first()
                ok = password_matches(user.password_hash if user else None, password) and user is not None
                if ok and user is not None and not user.disabled:
                    token = UserService(self.context).issue(
                        session, user, label=f"login from {client or 'cli'}", actor=username, client=client
                    )
                    self._record_login(session, username, client, outcome="success", roles=user.roles)
                    return {
                        "username": username,
                        "token": token,
                        "roles": list(user.roles),
                        "expires_in_days": self.context.settings.token_days,
                    }
                self._record_login(
                    session, username, client, outcome="failure", details={"disabled": bool(user and user.disabled)}
                )
                refusal = AuthenticationRequired("wrong username or password")
        raise refusal

    @staticmethod
    def _record_login(
        session: Any,
        username: str,
        client: str | None,
        *,
        outcome: str,
        roles: Sequence[str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        audit.record(
            session,
            actor=username,
            action=AuditAction.LOGIN,
            outcome=outcome,
            target=f"user:{username}",
            client=client,
            roles=roles,
            details=details,
        )

    def logout(self, token: str, *, actor: str, client: str | None = None) -> dict[str, Any]:
        with self.context.db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.token_sha256 == token_hash(token)).values(revoked=True))
            audit.record(session, actor=actor, action="token.revoke", target=f"user:{actor}", client=client)
        return {"revoked": True}

    @staticmethod
    def _user(session: Any, username: str) -> User:
        user: User | None = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        return user
