"""HTTP routes for logging in and out and for managing users (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from api.access.accounts import AccountService
from api.http.common import Caller, Strict, bearer, client_of, context_of

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


@router.post("/auth/login")
def login(request: Request, body: LoginIn) -> dict[str, Any]:
    """A bearer token for a correct password. After five failures of one account from one address, that
    address waits (1 s, 2 s, 4 s, ... up to 15 minutes; 429 with Retry-After); other addresses are not held up."""
    return AccountService(context_of(request)).login(body.username, body.password, client=client_of(request))


@router.post("/auth/logout")
def logout(
    request: Request, caller: Caller, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> dict[str, Any]:
    """Revoke the token this request was made with."""
    assert credentials is not None  # Caller has already required it
    return AccountService(context_of(request)).logout(
        credentials.credentials, actor=caller.username, client=client_of(request)
    )


@router.get("/users")
def list_users(request: Request, caller: Caller) -> dict[str, Any]:
    return {"users": AccountService(context_of(request)).list(caller)}


@router.post("/users", status_code=201)
def create_user(request: Request, caller: Caller, body: UserIn) -> dict[str, Any]:
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


@router.patch("/users/{username}")
def update_user(request: Request, username: str, caller: Caller, body: UserPatch) -> dict[str, Any]:
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
