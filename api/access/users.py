"""Users and bearer tokens. Tokens are 256-bit random strings stored only as their SHA-256."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select

from api.views.access import BootstrapAccount, BootstrapView, TokenView
from api.wiring import Context
from archive.access import Principal, require_settled_password
from archive.audit import log as audit
from archive.errors import AuthenticationRequired, NotFound
from archive.events import SYSTEM_ACTOR, AuditAction
from archive.hashing import sha256_bytes
from archive.models import ApiToken, User, utcnow
from archive.passwords import hash_password
from archive.permissions import Action, authorize
from archive.values import AccessLevel, Role

TOKEN_PREFIX = "dgn_"
ROLE_VALUES = {role.value for role in Role}
BOOTSTRAP_ACCOUNTS = (
    # Display names in both languages: the people who read them may read either, and the name is data, not a
    # string of the application (the security administrator can rename the accounts).
    (Role.SYSADMIN, "sysadmin", "系统管理员 System administrator"),
    (Role.SECADMIN, "secadmin", "安全管理员 Security administrator"),
    (Role.COMPLIANCE, "auditor", "安全审计员 Security auditor"),
)


def token_hash(token: str) -> str:
    return sha256_bytes(token.encode("utf-8"))


class UserService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def bootstrap(self) -> BootstrapView:
        """What a fresh install needs: one account for each of the three duties (三员分立) that has none yet —
        `sysadmin` (system administrator), `secadmin` (security administrator), `auditor` (security auditor) —
        each with a random password and a token, shown once, to be handed to three different people. Whoever
        installs sees the passwords, so each holder chooses their own at their first sign-in; the tokens are API
        tokens (not sign-ins) and work at once."""
        created: list[BootstrapAccount] = []
        with self.context.db.write() as session:
            users = list(session.scalars(select(User)))
            for role, username, name in BOOTSTRAP_ACCOUNTS:
                if any(role.value in user.roles for user in users) or any(u.username == username for u in users):
                    continue
                password = secrets.token_urlsafe(12)
                user = User(
                    username=username,
                    display_name=name,
                    password_hash=hash_password(password),
                    roles=[role.value],
                    clearance=int(AccessLevel.TOP_SECRET),
                    departments=[],
                    password_change_required=True,
                )
                session.add(user)
                session.flush()
                audit.record(
                    session,
                    actor=SYSTEM_ACTOR,
                    action=AuditAction.USER_CREATE,
                    target=f"user:{username}",
                    details={"roles": [role.value], "clearance": AccessLevel.TOP_SECRET.label, "by": "bootstrap"},
                )
                token = self.issue(session, user, label="bootstrap", actor=SYSTEM_ACTOR)
                created.append(BootstrapAccount(username=username, role=role.value, password=password, token=token))
        return BootstrapView(created=created)

    def officer(self, role: Role) -> Principal:
        """The first enabled account holding one of the three officer roles (for the first-run demo)."""
        with self.context.db.session() as session:
            for user in session.scalars(select(User).where(User.disabled.is_(False)).order_by(User.id)):
                if role.value in user.roles:
                    return principal_of(user)
        raise AuthenticationRequired(f"no enabled {role.value} account; run `dangan users bootstrap`")

    def principal(self, username: str) -> Principal:
        """The account the command line acts as: it must exist and be enabled. This is no sign-in (no password is
        given: whoever runs `dangan` at the server acts as any account), so a password change that is due does
        not hold it back; `dangan users` shows it, and `users update NAME --password` as NAME makes it."""
        with self.context.db.session() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None or user.disabled:
                raise AuthenticationRequired(
                    f"no enabled account {username!r}: the command line acts as a named account; give --user NAME "
                    "or set DANGAN_CLI_USER (`dangan users bootstrap` creates the first accounts)"
                )
            return principal_of(user)

    def issue_token(self, actor: Principal, username: str, *, label: str = "cli") -> TokenView:
        """A new token for one's own account, or, for the security administrator, for another's."""
        if actor.username != username:
            authorize(actor.roles, Action.MANAGE_USERS)
        with self.context.db.write() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"user {username!r} does not exist")
            return TokenView(username=username, token=self.issue(session, user, label=label, actor=actor.username))

    def issue(
        self, session: Any, user: User, *, label: str, actor: str, client: str | None = None, sign_in: bool = False
    ) -> str:
        """A new token for `user`; `actor` is who asked for it (the account itself when it logs in). `sign_in`:
        a session opened with the password (held to changing it while someone else's password is in force)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = utcnow() + dt.timedelta(days=self.context.settings.token_days)
        session.add(
            ApiToken(user_id=user.id, token_sha256=token_hash(token), label=label, expires_at=expires, sign_in=sign_in)
        )
        audit.record(
            session,
            actor=actor,
            action=AuditAction.TOKEN_ISSUE,
            target=f"user:{user.username}",
            client=client,
            details={"label": label, "expires_at": expires.isoformat()},
        )
        return token

    def authenticate(self, token: str | None, *, own_account: bool = False) -> Principal:
        """The principal behind a bearer token; one message for every failure so tokens cannot be probed. A
        sign-in session of an account whose password someone else set is refused (403 password_change_required,
        `archive.access.require_settled_password`) unless `own_account`: the holder's own account business
        (who am I, change my password, sign out), for which it comes back marked."""
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
            principal = principal_of(user, held=row.sign_in and user.password_change_required)
        if not own_account:
            require_settled_password(principal)
        return principal


def principal_of(user: User, *, held: bool = False) -> Principal:
    """`held`: a session that may only change the password (see `UserService.authenticate`)."""
    return Principal(
        username=user.username,
        roles=frozenset(Role(r) for r in user.roles if r in ROLE_VALUES),
        clearance=AccessLevel(user.clearance),
        departments=frozenset(user.departments),
        password_change_required=held,
    )
