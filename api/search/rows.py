"""The search index's entry for a catalogue document: current pages only, the filed flag, the facets.

One function builds it, so filing, review, metadata edits, withdrawal and a rebuild index the same thing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.wiring import Context
from archive.models import Document
from archive.values import DocumentStatus, ObjectRole
from archive.workflow import is_out_of_use
from search.types import IndexedDocument, PageText

SEARCHED_FIELDS = ("creator", "document_number", "organisation", "description", "subject", "publisher", "contributor",
                   "coverage", "relation", "dc_source")  # fmt: skip


def index_current(context: Context, document_ids: Iterable[int]) -> None:
    """Bring these documents' index entries to their committed catalogue state, read under the index's writer
    lock: when two processes change one record at the same moment, the index ends with the last write."""
    ids = sorted(set(document_ids))

    def current() -> tuple[list[IndexedDocument], list[int]]:
        with context.db.read() as session:
            found = session.scalars(
                select(Document)
                .where(Document.id.in_(ids))
                .options(*(selectinload(r) for r in (Document.pages, Document.objects, Document.fonds, Document.batch)))
            )
            upserts = [entry for document in found for entry in indexed_in_use(document)]
        kept = {entry.document_id for entry in upserts}
        return upserts, [i for i in ids if i not in kept]  # withdrawn or gone: out of the index

    if ids:
        context.index.sync(current)


def indexed_in_use(document: Document) -> list[IndexedDocument]:
    """What a change to this document upserts: its entry, or nothing once it is out of use (withdrawn, destroyed,
    transferred: it left for good)."""
    return [] if is_out_of_use(document.status) else [indexed_document(document)]


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
        creator=document.creator or "",
        document_number=document.document_number or "",
        organisation=document.organisation or "",
        keywords=tuple(document.keywords or ()),
        archival_year=document.archival_year,
        meta_text=metadata_text(document),
    )


def metadata_text(document: Document) -> str:
    """What full-text search finds a record by besides its title and pages: 责任者, 文号, 机构, 关键词, the other
    Dublin Core text fields and the custom fields' text values."""
    parts = [getattr(document, name) for name in SEARCHED_FIELDS]
    parts.extend(document.keywords or ())
    parts.extend(str(value) for value in (document.custom_fields or {}).values())
    return "\n".join(str(part) for part in parts if part)
