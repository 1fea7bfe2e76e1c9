"""The one access policy. Every read path (metadata, files, search) asks here or applies `search_scope`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from archive.values import AccessLevel, Role


@dataclass(frozen=True)
class Principal:
    """Who is asking: their roles say what they may do, clearance and departments what they may see."""

    username: str
    roles: frozenset[Role]
    clearance: AccessLevel
    departments: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def can_see(principal: Principal, *, level: int | None, departments: Sequence[str]) -> bool:
    """A record is visible when its level is within clearance and its scope (if any) includes the caller.

    Default deny: a record with no level is visible to admins only.
    """
    if level is None:
        return principal.is_admin
    if level > principal.clearance:
        return False
    if departments and not principal.is_admin:
        return bool(principal.departments.intersection(departments))
    return True


@dataclass(frozen=True)
class SearchScope:
    """The access filter handed to the search engine, applied inside the query (never after it)."""

    max_level: int
    departments: frozenset[str] | None  # None: no department restriction (admins)
    include_unlevelled: bool
    filed_only: bool = False  # True: only documents whose batch is filed (staff, compliance); see archive.workflow


def search_scope(principal: Principal) -> SearchScope:
    return SearchScope(
        max_level=int(principal.clearance),
        departments=None if principal.is_admin else principal.departments,
        include_unlevelled=principal.is_admin,
    )


def system_operator() -> Principal:
    """The local operator at the shell, who owns the data directory and so sees everything."""
    return Principal("system", frozenset({Role.ADMIN}), AccessLevel.TOP_SECRET)
