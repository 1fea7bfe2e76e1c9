"""Accounts: create, update, disable and re-enable users; log in and out. The security administrator manages
accounts under the rules of archive.permissions (三员分立): no account combines two of the three duties, nobody
changes their own roles, clearance or departments, nobody grants a clearance above their own, and a security
administrator does not make or change a peer (`dangan users bootstrap` at the server does).

A password set by anyone but the account's holder — a new account's initial one, a reset — must be changed by
its holder: signing in with it opens a session that may only read the account, change that password (to
another one) and sign out (archive.access.require_settled_password). Changing it oneself clears that."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from api.access.login_throttle import LoginThrottle
from api.access.users import UserService, token_hash
from api.views.access import LoginView, LogoutView, MeView, UserListView, UserView, user_view
from api.wiring import Context
from archive.access import Principal, require_settled_password
from archive.audit import log as audit
from archive.errors import (
    AuthenticationRequired,
    Conflict,
    DanganError,
    InvalidInput,
    NotFound,
    PasswordReused,
    PermissionDenied,
    TooManyAttempts,
)
from archive.events import AuditAction
from archive.models import ApiToken, User, utcnow
from archive.passwords import hash_password, password_matches
from archive.permissions import PERMISSIONS, Action, allowed, authorize, check_account_change
from archive.values import AccessLevel, Role


def _roles(values: list[str]) -> list[Role]:
    if any(value.strip().lower() == "admin" for value in values):
        raise InvalidInput(
            "the admin role is split in three (三员分立): use sysadmin, secadmin or compliance",
            InvalidInput.ADMIN_ROLE_SPLIT,
        )
    try:
        return sorted({Role(value.strip().lower()) for value in values})
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role in {values}; roles are {roles}", InvalidInput.UNKNOWN_ROLE) from exc


def check_peer(actor: Principal, target_roles: list[str] | list[Role]) -> None:
    """A security administrator neither makes nor changes another security administrator."""
    if Role.SECADMIN.value in [str(role) for role in target_roles]:
        raise PermissionDenied(
            "a security administrator cannot create or change another security administrator's account; "
            "that is done at the server with `dangan users bootstrap`",
            PermissionDenied.PEER_SECADMIN,
        )


def _keep_an_auditor(session: Any, user: User, *, disabled: bool | None, roles: list[Role] | None) -> None:
    """The security auditor oversees the administrators: the last enabled one cannot be disabled or demoted."""
    if Role.COMPLIANCE.value not in user.roles or user.disabled:
        return
    if not disabled and (roles is None or Role.COMPLIANCE in roles):
        return
    others = [
        other
        for other in session.scalars(select(User).where(User.disabled.is_(False), User.id != user.id))
        if Role.COMPLIANCE.value in other.roles
    ]
    if not others:
        raise PermissionDenied(
            f"{user.username} is the only enabled security auditor; create another auditor before disabling "
            "or demoting this one (the log must always have someone to read it)",
            PermissionDenied.LAST_AUDITOR,
            {"username": user.username},
        )


def _check_new_password(user: User, password: str, *, own: bool) -> None:
    """Whoever was given a password chooses another one, not the same again."""
    if own and user.password_change_required and password_matches(user.password_hash, password):
        raise PasswordReused("choose a new password of your own, not the one you were given")


class AccountService:
    def __init__(self, context: Context, *, throttle: LoginThrottle | None = None) -> None:
        self.context = context
        self.throttle = throttle or LoginThrottle()

    def create(
        self,
        *,
        actor: Principal,
        username: str,
        password: str,
        roles: list[str],
        clearance: str,
        departments: list[str] | None = None,
        display_name: str = "",
        client: str | None = None,
    ) -> UserView:
        authorize(actor.roles, Action.MANAGE_USERS)
        if not username.strip() or len(username) > 128:
            raise InvalidInput("a username is 1 to 128 characters", InvalidInput.USERNAME_LENGTH)
        level = AccessLevel.parse(clearance)
        granted = _roles(roles)
        check_peer(actor, granted)
        check_account_change(
            actor=actor.username, actor_clearance=actor.clearance, target=username, roles=granted, clearance=level
        )
        with self.context.db.write() as session:
            if session.scalars(select(User.id).where(User.username == username)).first() is not None:
                raise Conflict(f"user {username!r} already exists", Conflict.USER_EXISTS, {"username": username})
            user = User(
                username=username,
                display_name=display_name,
                password_hash=hash_password(password),
                roles=[role.value for role in granted],
                clearance=int(level),
                departments=sorted(set(departments or [])),
                password_change_required=True,  # the administrator knows it: its holder chooses their own
            )
            session.add(user)
            session.flush()
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.USER_CREATE,
                target=f"user:{username}",
                client=client,
                details={
                    "roles": user.roles,
                    "clearance": level.label,
                    "departments": user.departments,
                    "password_change_required": True,
                },
            )
            return user_view(user)

    def update(
        self,
        *,
        actor: Principal,
        username: str,
        roles: list[str] | None = None,
        clearance: str | None = None,
        departments: list[str] | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        client: str | None = None,
    ) -> UserView:
        only_password = password is not None and all(v is None for v in (roles, clearance, departments, disabled))
        own_password = only_password and actor.username == username
        if not own_password:
            require_settled_password(actor)  # a session held to changing its password does only that
            authorize(actor.roles, Action.MANAGE_USERS)  # anyone may change their own password, nothing else
        granted = _roles(roles) if roles is not None else None
        level = AccessLevel.parse(clearance) if clearance is not None else None
        if actor.username == username and disabled:
            raise PermissionDenied("you cannot disable your own account", PermissionDenied.DISABLE_SELF)
        check_account_change(
            actor=actor.username,
            actor_clearance=actor.clearance,
            target=username,
            roles=granted,
            clearance=level,
            departments_changed=departments is not None,
        )
        with self.context.db.write() as session:
            user = self._user(session, username)
            if actor.username != username:
                check_peer(actor, [*user.roles, *(granted or [])])
            _keep_an_auditor(session, user, disabled=disabled, roles=granted)
            before = user_view(user).as_json()
            if granted is not None:
                user.roles = [role.value for role in granted]
            if level is not None:
                user.clearance = int(level)
            if departments is not None:
                user.departments = sorted(set(departments))
            if password is not None:
                _check_new_password(user, password, own=actor.username == username)
                user.password_hash = hash_password(password)
                user.password_change_required = actor.username != username  # someone else's: to be changed
            if disabled is not None:
                user.disabled = disabled
            if disabled or password is not None:  # a disabled account or a new password ends every session
                session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(revoked=True))
            after = user_view(user)
            changed = {key: value for key, value in after.as_json().items() if value != before[key]}
            action = (
                AuditAction.USER_DISABLE
                if disabled
                else AuditAction.USER_ENABLE
                if disabled is False
                else AuditAction.USER_UPDATE
            )
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=action,
                target=f"user:{username}",
                client=client,
                details={"changed": changed, "password_changed": password is not None},
            )
            return after

    def list(self, actor: Principal) -> UserListView:
        authorize(actor.roles, Action.READ_USERS)
        with self.context.db.session() as session:
            return UserListView(users=[user_view(u) for u in session.scalars(select(User).order_by(User.username))])

    def login(self, username: str, password: str, *, client: str | None = None) -> LoginView:
        """A bearer token for a correct password; every attempt is an audit event; failures are throttled per
        account and client address (api/access/login_throttle.py), so nobody can lock another out."""
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
                    return self._signed_in(session, user, client)
                self._record_login(
                    session, username, client, outcome="failure", details={"disabled": bool(user and user.disabled)}
                )
                refusal = AuthenticationRequired("wrong username or password")
        raise refusal

    def _signed_in(self, session: Any, user: User, client: str | None) -> LoginView:
        """A sign-in session; held to changing the password while it is someone else's (a new account, a reset)."""
        label = f"login from {client or 'cli'}"
        token = UserService(self.context).issue(
            session, user, label=label, actor=user.username, client=client, sign_in=True
        )
        held = user.password_change_required
        details = {"password_change_required": True} if held else None
        self._record_login(session, user.username, client, outcome="success", roles=user.roles, details=details)
        return LoginView(
            username=user.username,
            token=token,
            roles=list(user.roles),
            expires_in_days=self.context.settings.token_days,
            password_change_required=held,
        )

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

    def logout(self, token: str, *, actor: str, client: str | None = None) -> LogoutView:
        with self.context.db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.token_sha256 == token_hash(token)).values(revoked=True))
            audit.record(session, actor=actor, action=AuditAction.TOKEN_REVOKE, target=f"user:{actor}", client=client)
        return LogoutView(revoked=True)

    def me(self, caller: Principal) -> MeView:
        """The caller's own account and the actions of the one permission table their roles allow (none while
        the session is held to changing the password)."""
        held = caller.password_change_required
        with self.context.db.read() as session:
            user = self._user(session, caller.username)
            return MeView(
                username=user.username,
                display_name=user.display_name,
                roles=sorted(role.value for role in caller.roles),
                clearance=caller.clearance.label,
                departments=sorted(caller.departments),
                may=[] if held else sorted(action.value for action in PERMISSIONS if allowed(caller.roles, action)),
                password_change_required=held,
            )

    @staticmethod
    def _user(session: Any, username: str) -> User:
        user: User | None = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"user {username!r} does not exist")
        return user
