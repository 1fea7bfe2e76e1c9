"""Reading documents and their files, always through the access policy; hidden records are 'not found'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.services.filing import indexed_document
from api.services.views import document_view
from api.wiring import Context
from archive import audit
from archive.access import Principal, can_see
from archive.dates import PartialDate, stored_text
from archive.errors import Conflict, InvalidInput, NotFound
from archive.models import Document, StoredObject
from archive.values import AccessLevel, DocumentStatus, ObjectRole


@dataclass
class FileDownload:
    stream: BinaryIO
    media_type: str
    filename: str
    size: int


def _visible_document(session: Session, principal: Principal, document_id: int) -> Document:
    document = session.scalars(
        select(Document)
        .where(Document.id == document_id)
        .options(selectinload(Document.pages), selectinload(Document.objects), selectinload(Document.fonds))
    ).first()
    if document is None or not can_see(principal, level=document.access_level, departments=document.departments):
        raise NotFound(f"document {document_id} does not exist")
    if document.status == DocumentStatus.WITHDRAWN and not principal.is_admin:
        raise NotFound(f"document {document_id} does not exist")  # withdrawn records stay visible to admins only
    return document


class DocumentService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def _record_refusal(self, principal: Principal, action: str, document_id: int, client: str | None) -> None:
        """A refused or missing record is logged in its own transaction, so the refusal itself is kept."""
        with self.context.db.write() as session:
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=action,
                outcome="denied_or_missing",
                target=f"document:{document_id}",
                client=client,
            )

    def get(self, principal: Principal, document_id: int, *, client: str | None = None) -> dict[str, Any]:
        try:
            with self.context.db.write() as session:
                document = _visible_document(session, principal, document_id)
                audit.record(
                    session,
                    actor=principal.username,
                    roles=principal.roles,
                    action="document.view",
                    target=f"document:{document_id}",
                    client=client,
                )
                return document_view(document)
        except NotFound:
            self._record_refusal(principal, "document.view", document_id, client)
            raise

    def open_file(
        self, principal: Principal, document_id: int, role: ObjectRole, *, client: str | None = None
    ) -> FileDownload:
        try:
            with self.context.db.session() as session:
                _visible_document(session, principal, document_id)
        except NotFound:
            self._record_refusal(principal, "document.download", document_id, client)
            raise
        with self.context.db.write() as session:
            document = _visible_document(session, principal, document_id)
            stored: StoredObject | None = next((o for o in document.objects if o.role == role), None)
            if stored is None:
                raise NotFound(f"document {document_id} has no {role.value} file")
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action="document.download",
                target=f"document:{document_id}",
                client=client,
                details={"role": role.value},
            )
            filename = document.original_filename if role == ObjectRole.ORIGINAL else f"{document.reference_code}.pdf"
            key, media_type, size = stored.key, stored.media_type, stored.size
        return FileDownload(self.context.store.open_read(key), media_type, filename, size)


def update_document(
    context: Context,
    principal: Principal,
    document_id: int,
    *,
    title: str | None = None,
    date: str | None = None,
    level: str | None = None,
    departments: list[str] | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """Edit metadata; a level or scope change reaches the search index before this returns, so the very next
    search already obeys it. Only records the caller can see can be edited (others are 'not found')."""
    with context.db.write() as session:
        document = _visible_document(session, principal, document_id)
        before = {
            "title": document.title,
            "date": stored_text(document.date, document.date_precision),
            "level": document.access_level,
            "departments": list(document.departments),
        }
        if title is not None:
            if not title.strip():
                raise InvalidInput("a title cannot be empty")
            document.title = title.strip()
        if date is not None:
            new_date = PartialDate.parse_optional(date)  # "" clears the date
            document.date = new_date.start() if new_date else None
            document.date_precision = new_date.stored_precision if new_date else None
        if level is not None:
            new_level = AccessLevel.parse(level)
            if new_level > principal.clearance:
                raise InvalidInput(f"you cannot set a level above your own clearance ({principal.clearance.label})")
            document.access_level = int(new_level)
        if departments is not None:
            document.departments = sorted(set(departments))
        after = {
            "title": document.title,
            "date": stored_text(document.date, document.date_precision),
            "level": document.access_level,
            "departments": list(document.departments),
        }
        changed = {key: str(after[key]) for key in after if after[key] != before[key]}
        action = "level.change" if {"level", "departments"} & set(changed) else "document.update"
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=action,
            target=f"document:{document_id}",
            client=client,
            details={"changed": changed, "before": {k: str(before[k]) for k in changed}},
        )
        view = document_view(document)
        indexed = indexed_document(document)
    context.index.upsert([indexed])
    return view


def withdraw_document(
    context: Context, principal: Principal, document_id: int, *, reason: str, client: str | None = None
) -> dict[str, Any]:
    """Take a record out of use: it leaves the search index before this returns, answers 'not found' to all but
    admins, and keeps its files, catalogue row and history (destruction is a separate, approved act)."""
    if not reason.strip():
        raise InvalidInput("give the reason for withdrawing the record (it goes into the access log)")
    with context.db.write() as session:
        document = _visible_document(session, principal, document_id)
        if document.status == DocumentStatus.WITHDRAWN:
            raise Conflict(f"document {document_id} ({document.reference_code}) is already withdrawn")
        previous = document.status
        document.status = DocumentStatus.WITHDRAWN
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action="document.withdraw",
            target=f"document:{document_id}",
            client=client,
            details={"reason": reason.strip(), "reference_code": document.reference_code, "status_was": previous},
        )
        view = document_view(document)
    context.index.delete([document_id])
    return view
