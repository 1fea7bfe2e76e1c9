"""The people tests act as: principals for service calls, and real accounts (with tokens) for HTTP and CLI.

Every account is made the way a real install makes it: `UserService.bootstrap` creates the three officers,
the security administrator creates everyone else through `AccountService` with an initial password, and its
holder then chooses their own (PASSWORD), as at a first sign-in."""

from __future__ import annotations

from api.access.accounts import AccountService
from api.access.users import UserService
from api.wiring import Context
from archive.access import Principal
from archive.values import AccessLevel, Role

PASSWORD = "correct horse battery staple"
INITIAL_PASSWORD = "the administrator's initial one"  # what the security administrator gives a new account


def principal(
    role: str, clearance: str = "top_secret", name: str | None = None, departments: tuple[str, ...] = ()
) -> Principal:
    """A principal for direct service calls (no account needed: services check roles, not rows)."""
    return Principal(name or f"t-{role}", frozenset({Role(role)}), AccessLevel.parse(clearance), frozenset(departments))


ARCHIVIST = principal("archivist")
REVIEWER = principal("archivist", name="t-reviewer")  # a second archivist: reviews what ARCHIVIST scanned
STAFF = principal("staff")
AUDITOR = principal("compliance")
SYSADMIN = principal("sysadmin")
SECADMIN = principal("secadmin")


def account(
    context: Context,
    username: str,
    roles: list[str],
    clearance: str = "top_secret",
    departments: list[str] | None = None,
) -> Principal:
    """A real account, created by the security administrator with an initial password, which its holder
    changes to PASSWORD (officer accounts come from the bootstrap)."""
    users = UserService(context)
    users.bootstrap()
    if set(roles) & {"sysadmin", "secadmin", "compliance"} and len(roles) == 1:
        officer = users.officer(Role(roles[0]))
        if officer.username == username or username in ("sysadmin", "secadmin", "auditor"):
            return officer
    accounts = AccountService(context)
    accounts.create(
        actor=users.officer(Role.SECADMIN),
        username=username,
        password=INITIAL_PASSWORD,
        roles=roles,
        clearance=clearance,
        departments=departments,
    )
    holder = users.principal(username)
    accounts.update(actor=holder, username=username, password=PASSWORD)  # their own, not the administrator's
    return holder


def token(context: Context, username: str) -> str:
    """A fresh bearer token for an existing account."""
    users = UserService(context)
    return str(users.issue_token(users.principal(username), username, label="test").token)


def bearer(
    context: Context, username: str, roles: list[str] | None = None, clearance: str = "top_secret"
) -> dict[str, str]:
    """Authorization headers for an account, creating it first when roles are given."""
    if roles is not None:
        account(context, username, roles, clearance)
    else:
        UserService(context).bootstrap()
    return {"Authorization": f"Bearer {token(context, username)}"}
