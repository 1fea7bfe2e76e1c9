"""Typed results of the access-and-audit use cases (api/access): accounts, tokens, login, audit events, alerts,
checkpoints, exports. The JSON names and values are the API's (and `--json`'s); builders from catalogue rows
and core records sit beside the models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from api.views.base import View
from archive.audit.alerts import Alert
from archive.audit.checkpoints import Checkpoint
from archive.audit.query import AuditRow
from archive.models import User
from archive.values import AccessLevel

ExportFormat = Literal["csv", "json"]
EXPORT_MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


class UserView(View):
    """An account as the security administrator sees it (never its password hash or tokens)."""

    username: str
    display_name: str
    roles: list[str] = Field(description="Role values: archivist, staff, compliance, sysadmin, secadmin")
    clearance: str = Field(description="The highest classification level the account may see, by label")
    departments: list[str]
    disabled: bool
    password_change_required: bool = Field(
        description="Its password was set by someone else (a new account, a reset): signing in with it opens a "
        "session that may only change it, until its holder does"
    )
    created_at: str = Field(description="ISO 8601 time the account was made")


class UserListView(View):
    users: list[UserView]


class LoginView(View):
    """A bearer token for a correct password."""

    username: str
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once")
    roles: list[str]
    expires_in_days: int
    password_change_required: bool = Field(
        description="The password was set by someone else: this session may only read the account (GET /auth/me), "
        "change the password (PATCH /users/{username} with `password`) and sign out; everything else answers 403 "
        "password_change_required"
    )


class MeView(View):
    """Who the caller is and what their roles allow (the web application shows only what `may` holds; the server
    still checks every request)."""

    username: str
    display_name: str
    roles: list[str] = Field(description="Role values: archivist, staff, compliance, sysadmin, secadmin")
    clearance: str = Field(description="The highest classification level the account may see, by label")
    departments: list[str]
    may: list[str] = Field(
        description="The actions (archive.permissions values, e.g. record.read) the roles allow; none while the "
        "password must be changed"
    )
    password_change_required: bool = Field(
        description="This session was opened with a password someone else set: change it before anything else"
    )


class LogoutView(View):
    revoked: bool


class TokenView(View):
    """A new API token, shown once."""

    username: str
    token: str


class BootstrapAccount(View):
    """One of the three officer accounts a fresh install makes, with its password and token (shown once)."""

    username: str
    role: str
    password: str
    token: str


class BootstrapView(View):
    created: list[BootstrapAccount] = Field(description="Empty when every officer account exists already")


class AuditEventView(View):
    """One event of the access log."""

    id: int
    at: str = Field(description="ISO 8601 time in UTC")
    actor: str
    action: str
    target: str | None
    outcome: str
    client: str | None
    details: dict[str, JsonValue]
    hash: str = Field(description="SHA-256 of this event chained to the previous one")


class AuditEventsView(View):
    events: list[AuditEventView] = Field(description="Oldest first; at most `limit` after skipping `offset`")
    total: int = Field(description="How many events match the filters, whatever the limit and offset")
    offset: int
    limit: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last page")


class AlertView(View):
    """A pattern in the log that a security auditor should look at, with the events that make it up."""

    kind: str = Field(description="denied_burst, bulk_download, integrity_failure or off_hours_access")
    actor: str
    first_at: str
    last_at: str
    count: int
    event_ids: list[int]
    message: str


class AlertsView(View):
    alerts: list[AlertView]


class CheckpointView(View):
    """A signed checkpoint of the log's head, as written to the object store."""

    sequence: int
    last_event_id: int
    last_hash: str
    event_count: int
    created_at: str
    public_key: str = Field(description="Base64 of the 32-byte Ed25519 public key")
    signature: str = Field(description="Base64 signature over the other fields")


class PruneView(View):
    pruned: int = Field(description="How many events were removed")
    before: str = Field(description="ISO 8601 time: events older than this were removed")


class AuditExportView(View):
    """An export of the access log: the file's text and what it holds (the export is itself an audit event)."""

    format: ExportFormat
    count: int = Field(description="How many events the export holds")
    content: str

    @property
    def media_type(self) -> str:
        return EXPORT_MEDIA_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"access-log.{self.format}"


def user_view(user: User) -> UserView:
    return UserView(
        username=user.username,
        display_name=user.display_name,
        roles=list(user.roles),
        clearance=AccessLevel(user.clearance).label,
        departments=list(user.departments),
        disabled=user.disabled,
        password_change_required=user.password_change_required,
        created_at=user.created_at.isoformat(),
    )


def audit_event_view(row: AuditRow) -> AuditEventView:
    return AuditEventView.model_validate(row)


def alert_view(alert: Alert) -> AlertView:
    return AlertView.model_validate(alert.as_dict())


def checkpoint_view(checkpoint: Checkpoint) -> CheckpointView:
    return CheckpointView.model_validate(checkpoint.as_dict())


class SessionView(View):
    """One of an account's bearer tokens (a login session or an API token): never its value."""

    id: int
    label: str = Field(description="e.g. 'login from 10.0.0.5' or the label given with `dangan users token`")
    created_at: str
    expires_at: str | None
    active: bool = Field(description="Neither revoked nor expired: it still signs in")
    revoked: bool


class SessionListView(View):
    username: str
    sessions: list[SessionView] = Field(description="Newest first; revoked and expired ones too, marked")


class PasswordResetView(View):
    """A new password set by the security administrator; `password` is shown once (only when generated)."""

    username: str
    password: str | None = Field(description="The generated password, shown once; null when the admin chose one")
    sessions_revoked: int = Field(description="Sessions the reset ended (a new password ends every session)")
    password_change_required: bool = Field(
        description="Its holder must choose a new one at their next sign-in (always, but for one's own password)"
    )


class DepartmentView(View):
    name: str
    accounts: int = Field(description="Accounts scoped to this department")


class DepartmentListView(View):
    departments: list[DepartmentView] = Field(description="Known departments: of accounts and of records, by name")
