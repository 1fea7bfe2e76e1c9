"""The one access policy. Every read path (metadata, files, pages, jobs, batches, search) asks here or applies
`search_scope`. Deny by default; a record the caller may not see answers exactly like a missing one.

What a role may see beyond the basic rule comes from the permission table's `SEE_*` rows (archive.permissions);
which workflow states count as filed comes from the state machine (archive.workflow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from archive.errors import PasswordChangeRequired
from archive.events import SYSTEM_ACTOR
from archive.permissions import Action, allowed
from archive.values import AccessLevel, Role
from archive.workflow import is_filed, is_out_of_use


@dataclass(frozen=True)
class Principal:
    """Who is asking: their roles say what they may do, clearance and departments what they may see.
    `password_change_required`: a session opened by signing in with a password someone else set; it may do
    nothing but its holder's own account business (`require_settled_password`)."""

    username: str
    roles: frozenset[Role]
    clearance: AccessLevel
    departments: frozenset[str] = field(default_factory=frozenset)
    password_change_required: bool = False

    def may(self, action: Action) -> bool:
        return allowed(self.roles, action)


def require_settled_password(principal: Principal) -> None:
    """Refuse everything to a session whose password someone else set, except the account holder's own
    business: reading their own account, changing their own password, signing out (and signing in). Every
    adapter asks here before anything else; those few operations are the only ones that do not."""
    if principal.password_change_required:
        raise PasswordChangeRequired(
            f"{principal.username} signed in with a password someone else set (a new account or a reset): choose "
            "a new one first, on the web application's My account screen or with PATCH "
            f"/api/v1/users/{principal.username} and a new password, then sign in with it"
        )


def can_see(principal: Principal, *, level: int | None, departments: Sequence[str], status: str) -> bool:
    """A record is visible when its level is within clearance, its scope (if any) includes the caller, and its
    workflow state is one the caller's role may see (staff: filed items only).

    Default deny: a record with no level is visible only to the role that repairs it (SEE_UNLEVELLED)."""
    return status_visible(principal, status) and within_scope(principal, level=level, departments=departments)


def status_visible(principal: Principal, status: str) -> bool:
    """Whether the caller's role may see records in this workflow state (staff: filed items only)."""
    if is_out_of_use(status):  # withdrawn, destroyed (a tombstone) or transferred
        return principal.may(Action.SEE_WITHDRAWN)
    return is_filed(status) or principal.may(Action.SEE_UNFILED)


def within_scope(principal: Principal, *, level: int | None, departments: Sequence[str]) -> bool:
    """Clearance and departments alone (for things that are not records yet, like a queued job's item)."""
    if not principal.may(Action.READ_RECORD):
        return False
    if level is None:
        return principal.may(Action.SEE_UNLEVELLED)
    if level > principal.clearance:
        return False
    if departments and not principal.may(Action.SEE_ALL_DEPARTMENTS):
        return bool(principal.departments.intersection(departments))
    return True


@dataclass(frozen=True)
class SearchScope:
    """The access filter handed to the search engine, applied inside the query (never after it)."""

    max_level: int
    departments: frozenset[str] | None  # None: no department restriction
    include_unlevelled: bool
    filed_only: bool = False  # True: only documents whose batch is filed (staff, compliance); see archive.workflow


def search_scope(principal: Principal) -> SearchScope:
    all_departments = principal.may(Action.SEE_ALL_DEPARTMENTS)
    return SearchScope(
        max_level=int(principal.clearance) if principal.may(Action.READ_RECORD) else -1,
        departments=None if all_departments else principal.departments,
        include_unlevelled=principal.may(Action.SEE_UNLEVELLED),
        filed_only=not principal.may(Action.SEE_UNFILED),
    )


def system_principal() -> Principal:
    """Work the system does on its own (recovery, scheduled duties, scratch checks): labelled as the system's,
    never a person's. Not for anything a person asked for — those act as their own account."""
    return Principal(SYSTEM_ACTOR, frozenset({Role.SYSADMIN}), AccessLevel.TOP_SECRET)
