"""Reading documents and their files, always through the access policy; hidden records are 'not found'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.services.views import document_view
from api.wiring import Context
from archive import audit
from archive.access import Principal, can_see
from archive.errors import NotFound
from archive.models import Document, StoredObject
from archive.values import ObjectRole


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
    return document


class DocumentService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def get(self, principal: Principal, document_id: int, *, client: str | None = None) -> dict[str, Any]:
        with self.context.db.write() as session:
            try:
                document = _visible_document(session, principal, document_id)
            except NotFound:
                audit.record(
                    session,
                    actor=principal.username,
                    action="document.view",
                    outcome="denied_or_missing",
                    target=f"document:{document_id}",
                    client=client,
                )
                raise
            audit.record(
                session,
                actor=principal.username,
                action="document.view",
                target=f"document:{document_id}",
                client=client,
            )
            return document_view(document)

    def open_file(
        self, principal: Principal, document_id: int, role: ObjectRole, *, client: str | None = None
    ) -> FileDownload:
        with self.context.db.write() as session:
            try:
                document = _visible_document(session, principal, document_id)
            except NotFound:
                audit.record(
                    session,
                    actor=principal.username,
                    action="document.download",
                    outcome="denied_or_missing",
                    target=f"document:{document_id}",
                    client=client,
                )
                raise
            stored: StoredObject | None = next((o for o in document.objects if o.role == role), None)
            if stored is None:
                raise NotFound(f"document {document_id} has no {role.value} file")
            audit.record(
                session,
                actor=principal.username,
                action="document.download",
                target=f"document:{document_id}",
                client=client,
                details={"role": role.value},
            )
            filename = document.original_filename if role == ObjectRole.ORIGINAL else f"{document.reference_code}.pdf"
            key, media_type, size = stored.key, stored.media_type, stored.size
        return FileDownload(self.context.store.open_read(key), media_type, filename, size)
