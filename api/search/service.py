"""Full-text search for a caller: the access scope goes into the query; results carry catalogue metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.views.catalogue import level_label
from api.views.urls import document_pdf_url, document_url
from api.wiring import Context
from archive.access import Principal, search_scope
from archive.audit import log as audit
from archive.dates import stored_text
from archive.events import AuditAction
from archive.models import Document, Page
from archive.permissions import Action, authorize
from archive.visibility import document_visible
from search.types import SearchFilters

MAX_LIMIT = 100
MAX_SUGGESTIONS = 20
SNIPPET_PAGES = 3  # highlighted pages per document in a result list


class SearchService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def search(
        self,
        principal: Principal,
        query: str,
        *,
        limit: int = 20,
        page: int = 1,
        filters: SearchFilters | None = None,
        sort: str = "relevance",
        client: str | None = None,
    ) -> dict[str, Any]:
        authorize(principal.roles, Action.READ_RECORD)
        limit = max(1, min(limit, MAX_LIMIT))
        results = self.context.index.search(
            query, scope=search_scope(principal), limit=limit, page=page, filters=filters, sort=sort
        )
        ids = [hit.document_id for hit in results.hits]
        with self.context.db.read() as session:
            rows = {
                document.id: document
                for document in session.scalars(
                    select(Document).where(Document.id.in_(ids)).options(selectinload(Document.fonds))
                )
            }
            hits = []
            for hit in results.hits:
                document = rows.get(hit.document_id)
                # The index is derived data: a row deleted or re-levelled since indexing is skipped, not shown.
                if document is None or not document_visible(principal, document):
                    continue
                hits.append(
                    {
                        "document_id": document.id,
                        "reference_code": document.reference_code,
                        "title": document.title,
                        "fonds": document.fonds.code,
                        "access_level": level_label(document.access_level),
                        "score": hit.score,
                        "pages": list(hit.pages),
                        "date": stored_text(document.date, document.date_precision),
                        "snippets": [],
                        "links": {
                            "self": document_url(document.id),
                            "pdf": document_pdf_url(document.id),
                        },
                    }
                )
            self._add_snippets(session, query, hits)
        audit.append(
            self.context.db,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.SEARCH,
            client=client,
            details={"query": query, "hits": results.total_documents},
        )
        return {
            "query": query,
            "total": results.total_documents,
            "total_is_exact": results.complete,
            "page": results.page,
            "page_size": results.page_size,
            "sort": sort,
            "hits": hits,
            "facets": results.facets,
        }

    def suggest(self, principal: Principal, typed: str, *, limit: int = 8, client: str | None = None) -> dict[str, Any]:
        """Titles and reference codes completing what the caller typed, among the records they may see."""
        authorize(principal.roles, Action.READ_RECORD)
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        ids = self.context.index.suggest(typed, scope=search_scope(principal), limit=limit)
        with self.context.db.read() as session:
            rows = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
            suggestions = [
                {"document_id": d.id, "reference_code": d.reference_code, "title": d.title}
                for d in (rows.get(i) for i in ids)
                if d is not None and document_visible(principal, d)
            ]
        audit.append(
            self.context.db,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.SEARCH_SUGGEST,
            client=client,
            details={"query": typed, "hits": len(suggestions)},
        )
        return {"query": typed, "suggestions": suggestions}

    def _add_snippets(self, session: Session, query: str, hits: list[dict[str, Any]]) -> None:
        """Highlighted fragments for the first matching pages of each hit, from the catalogue's page text."""
        wanted = {(hit["document_id"], number) for hit in hits for number in hit["pages"][:SNIPPET_PAGES]}
        if not wanted:
            return
        rows = session.execute(
            select(Page.document_id, Page.number, Page.text).where(
                Page.document_id.in_({doc for doc, _ in wanted}), Page.current.is_(True), Page.review != "rejected"
            )
        )
        texts = {(doc, number): text for doc, number, text in rows if (doc, number) in wanted}
        found = self.context.index.snippets(query, texts)
        for hit in hits:
            hit["snippets"] = [
                {"page": number, "text": found[(hit["document_id"], number)]}
                for number in hit["pages"][:SNIPPET_PAGES]
                if found.get((hit["document_id"], number))
            ]
