"""HTTP routes for logging in and out and for managing users (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from api.access.accounts import AccountService
from api.http.common import Caller, Strict, bearer, client_of, context_of
from api.http.openapi import error_responses
from api.views.access import LoginView, LogoutView, MeView, UserListView, UserView

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


class UserPatch(Strict):
    roles: list[str] | None = None
    clearance: str | None = None
    departments: list[str] | None = None
    disabled: bool | None = None
    password: str | None = None


@router.post("/auth/login", responses=error_responses(401, 429, public=True))
def login(request: Request, body: LoginIn) -> LoginView:
    """A bearer token for a correct password. After five failures of one account from one address, that
    address waits (1 s, 2 s, 4 s, ... up to 15 minutes; 429 with Retry-After); other addresses are not held up."""
    return AccountService(context_of(request)).login(body.username, body.password, client=client_of(request))


@router.post("/auth/logout", responses=error_responses())
def logout(
    request: Request, caller: Caller, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> LogoutView:
    """Revoke the token this request was made with."""
    assert credentials is not None  # Caller has already required it
    return AccountService(context_of(request)).logout(
        credentials.credentials, actor=caller.username, client=client_of(request)
    )


@router.get("/auth/me", responses=error_responses())
def me(request: Request, caller: Caller) -> MeView:
    """The caller's username, display name, roles, clearance, departments and `may`: the actions their roles
    allow, from the one permission table (any signed-in account)."""
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
def update_user(request: Request, username: str, caller: Caller, body: UserPatch) -> UserView:
    """Change roles, clearance, departments, state or password; a disabled account or new password ends its
    sessions. Anyone may change their own password, nothing else of their own."""
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
