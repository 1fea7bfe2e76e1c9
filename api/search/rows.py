"""The search index's entry for a catalogue document: current pages only, the filed flag, the facets.

One function builds it, so filing, review, metadata edits, withdrawal and a rebuild index the same thing."""

from __future__ import annotations

from archive.models import Document
from archive.values import DocumentStatus, ObjectRole
from search.types import IndexedDocument, PageText


def indexed_in_use(document: Document) -> list[IndexedDocument]:
    """What a change to this document upserts: its entry, or nothing once it is withdrawn (it left for good)."""
    return [] if document.status == DocumentStatus.WITHDRAWN else [indexed_document(document)]


def indexed_document(document: Document) -> IndexedDocument:
    original = next((o for o in document.objects if o.role == ObjectRole.ORIGINAL), None)
    return IndexedDocument(
        document_id=document.id,
        reference_code=document.reference_code,
        title=document.title,
        fonds=document.fonds.code,
        level=document.access_level,
        departments=tuple(document.departments),
        # Current pages only (superseded versions are not served); a rejected page's text is not current text.
        pages=tuple(PageText(page.number, "" if page.review == "rejected" else page.text) for page in document.pages),
        series=(document.batch.series or "") if document.batch else "",
        batch_id=document.batch_id,
        date=document.date,
        doc_type=original.media_type.split("/")[-1] if original else "",
        language=document.language,
        filed=document.status == DocumentStatus.FILED,
    )
