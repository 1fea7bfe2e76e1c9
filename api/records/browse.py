"""Browsing the hierarchy fonds → series → box/volume → item, and the recently filed items.

The caller's visibility (clearance, departments, the workflow states their role sees) is a condition of every
query (archive.visibility.document_scope), so a record the caller may not see is in no count and no listing;
a fonds, series or box with nothing visible under it answers exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from api.views.browse import (
    NONE_SEGMENT,
    BrowseEntry,
    BrowseItemsView,
    BrowseLevelView,
    RecentItemsView,
    browse_url,
    item_summary,
    segment,
)
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import NotFound
from archive.events import AuditAction
from archive.models import Batch, Document, Fonds
from archive.permissions import Action, authorize
from archive.values import DocumentStatus
from archive.visibility import document_scope

MAX_LIMIT = 200


def _scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    return document_scope(principal, session.get_bind().dialect.name)


def _matches(column: Any, value: str) -> ColumnElement[bool]:
    return column.is_(None) if value == NONE_SEGMENT else column == value  # type: ignore[no-any-return]


def _counted(session: Session, principal: Principal, column: Any, *conditions: ColumnElement[bool]) -> Select[Any]:
    return (
        select(column, func.count(Document.id))
        .select_from(Document)
        .join(Fonds, Document.fonds_id == Fonds.id)
        .outerjoin(Batch, Document.batch_id == Batch.id)
        .where(_scope(session, principal), *conditions)
        .group_by(column)
    )


class BrowseService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def _log(self, principal: Principal, details: dict[str, Any], client: str | None, *, found: bool = True) -> None:
        audit.append(
            self.context.db,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.BROWSE,
            outcome="success" if found else "denied_or_missing",
            target="browse:" + "/".join(details.get("path", [])),
            client=client,
            details=details,
        )

    def level(self, principal: Principal, path: list[str], *, client: str | None = None) -> BrowseLevelView:
        """The entries below `path` ([]: the fonds; [fonds]: its series; [fonds, series]: its boxes)."""
        authorize(principal.roles, Action.READ_RECORD)
        with self.context.db.read() as session:
            if not path:
                rows = session.execute(_counted(session, principal, Fonds.code).add_columns(func.min(Fonds.name)))
                found = [(str(code), str(name), int(count)) for code, count, name in rows]
            else:
                column = Batch.series if len(path) == 1 else Batch.box
                conditions = [Fonds.code == path[0]] + ([_matches(Batch.series, path[1])] if len(path) > 1 else [])
                rows = session.execute(_counted(session, principal, column, *conditions))
                found = [(segment(key), key or "", int(count)) for key, count in rows]
        if path and not found:
            self._log(principal, {"path": path}, client, found=False)
            raise NotFound(f"{'/'.join(path)} does not exist")
        self._log(principal, {"path": path}, client)
        entries = [
            BrowseEntry(key=key, label=label, count=count, link=browse_url(*path, key))
            for key, label, count in sorted(found)
        ]
        return BrowseLevelView(
            level=("fonds", "series", "box")[len(path)],
            path=path,
            total=sum(entry.count for entry in entries),
            entries=entries,
        )

    def items(
        self, principal: Principal, path: list[str], *, offset: int = 0, limit: int = 50, client: str | None = None
    ) -> BrowseItemsView:
        """The items of one box (path [fonds, series, box]), in item order, a page at a time."""
        authorize(principal.roles, Action.READ_RECORD)
        fonds, series, box = path
        limit = max(1, min(limit, MAX_LIMIT))
        with self.context.db.read() as session:
            conditions = (
                _scope(session, principal),
                Fonds.code == fonds,
                _matches(Batch.series, series),
                _matches(Batch.box, box),
            )
            base = (
                select(Document, Batch.filed_at)
                .join(Fonds, Document.fonds_id == Fonds.id)
                .outerjoin(Batch, Document.batch_id == Batch.id)
                .where(*conditions)
            )
            total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
            query = base.options(selectinload(Document.fonds)).order_by(
                Document.item_number, Document.reference_code, Document.id
            )
            rows = session.execute(query.offset(offset).limit(limit)).all()
            items = [item_summary(document, filed_at) for document, filed_at in rows]
        if not total:
            self._log(principal, {"path": path}, client, found=False)
            raise NotFound(f"{'/'.join(path)} does not exist")
        self._log(principal, {"path": path, "offset": offset}, client)
        return BrowseItemsView(path=path, total=total, offset=offset, limit=limit, items=items)

    def recent(self, principal: Principal, *, limit: int = 20, client: str | None = None) -> RecentItemsView:
        """Filed items the caller may see, newest filed first."""
        authorize(principal.roles, Action.READ_RECORD)
        limit = max(1, min(limit, MAX_LIMIT))
        with self.context.db.read() as session:
            query = (
                select(Document, Batch.filed_at)
                .join(Batch, Document.batch_id == Batch.id)
                .where(_scope(session, principal), Document.status == DocumentStatus.FILED)
                .options(selectinload(Document.fonds))
                .order_by(Batch.filed_at.desc(), Document.id.desc())
                .limit(limit)
            )
            items = [item_summary(document, filed_at) for document, filed_at in session.execute(query)]
        self._log(principal, {"recent": limit}, client)
        return RecentItemsView(items=items)
