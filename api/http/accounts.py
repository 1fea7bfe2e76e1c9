"""HTTP routes for logging in and out and for managing users (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from api.access.accounts import AccountService
from api.access.sessions import SessionService
from api.http.common import AccountHolder, Caller, Id, Strict, bearer, client_of, context_of
from api.http.openapi import error_responses
from api.views.access import (
    DepartmentListView,
    LoginView,
    LogoutView,
    MeView,
    PasswordResetView,
    SessionListView,
    SessionView,
    UserListView,
    UserView,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class LoginIn(Strict):
    username: str
    password: str


class UserIn(Strict):
    username: str
    password: str
    roles: list[str]
    clearance: str = "internal"
    departments: list[str] = Field(default_factory=list)
    display_name: str = ""


class PasswordResetIn(Strict):
    password: str | None = Field(default=None, description="The new password; generated (and shown once) if unset")


class UserPatch(Strict):
    roles: list[str] | None = None
    clearance: str | None = None
    departments: list[str] | None = None
    disabled: bool | None = None
    password: str | None = None


@router.post("/auth/login", responses=error_responses(401, 429, public=True))
def login(request: Request, body: LoginIn) -> LoginView:
    """A bearer token for a correct password. After five failures of one account from one address, that
    address waits (1 s, 2 s, 4 s, ... up to 15 minutes; 429 with Retry-After); other addresses are not held up.
    A password someone else set (a new account, a reset) opens a session held to changing it
    (`password_change_required`): every other route answers 403 password_change_required until it is changed."""
    return AccountService(context_of(request)).login(body.username, body.password, client=client_of(request))


@router.post("/auth/logout", responses=error_responses())
def logout(
    request: Request,
    caller: AccountHolder,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> LogoutView:
    """Revoke the token this request was made with."""
    assert credentials is not None  # Caller has already required it
    return AccountService(context_of(request)).logout(
        credentials.credentials, actor=caller.username, client=client_of(request)
    )


@router.get("/auth/me", responses=error_responses())
def me(request: Request, caller: AccountHolder) -> MeView:
    """The caller's username, display name, roles, clearance, departments and `may`: the actions their roles
    allow, from the one permission table (any signed-in account; `may` is empty and `password_change_required`
    true while the password must be changed)."""
    return AccountService(context_of(request)).me(caller)


@router.get("/users", responses=error_responses(403))
def list_users(request: Request, caller: Caller) -> UserListView:
    """Every account with its roles, clearance, departments and state (security administrator, auditor)."""
    return AccountService(context_of(request)).list(caller)


@router.post("/users", status_code=201, responses=error_responses(403, 409))
def create_user(request: Request, caller: Caller, body: UserIn) -> UserView:
    """A new account; 三员分立: no two officer roles together, no clearance above your own."""
    return AccountService(context_of(request)).create(
        actor=caller,
        username=body.username,
        password=body.password,
        roles=body.roles,
        clearance=body.clearance,
        departments=body.departments,
        display_name=body.display_name,
        client=client_of(request),
    )


@router.patch("/users/{username}", responses=error_responses(403, 404))
def update_user(request: Request, username: str, caller: AccountHolder, body: UserPatch) -> UserView:
    """Change roles, clearance, departments, state or password; a disabled account or new password ends its
    sessions. Anyone may change their own password, nothing else of their own. A password set for another
    account must be changed by its holder at their next sign-in; one's own new password clears that (and
    must differ from the one given)."""
    return AccountService(context_of(request)).update(
        actor=caller,
        username=username,
        roles=body.roles,
        clearance=body.clearance,
        departments=body.departments,
        disabled=body.disabled,
        password=body.password,
        client=client_of(request),
    )


@router.get("/users/{username}/tokens", responses=error_responses(403, 404))
def list_tokens(request: Request, username: str, caller: Caller) -> SessionListView:
    """The account's sessions and API tokens, newest first: label, times, active or not (never the token)."""
    return SessionService(context_of(request)).sessions(caller, username)


@router.delete("/users/{username}/tokens/{token_id}", responses=error_responses(403, 404))
def revoke_token(request: Request, username: str, token_id: Id, caller: Caller) -> SessionView:
    """End one session or token of the account now; its next request answers 401."""
    return SessionService(context_of(request)).revoke(caller, username, token_id, client=client_of(request))


@router.post("/users/{username}/password-reset", responses=error_responses(403, 404))
def reset_password(
    request: Request, username: str, caller: Caller, body: PasswordResetIn | None = None
) -> PasswordResetView:
    """A new password for another account, generated and shown once unless one is given; ends its sessions."""
    password = body.password if body else None
    return SessionService(context_of(request)).reset_password(
        caller, username, password=password, client=client_of(request)
    )


@router.get("/departments", responses=error_responses(403))
def departments(request: Request, caller: Caller) -> DepartmentListView:
    """Departments that accounts or records are scoped to (for the account form's choices)."""
    return SessionService(context_of(request)).departments(caller)
