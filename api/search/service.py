"""Full-text search for a caller: the access scope goes into the query; results carry catalogue metadata."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.views.catalogue import level_label
from api.views.search import HitLinks, SearchHit, SearchResultsView, Snippet, Suggestion, SuggestionsView
from api.views.urls import document_pdf_url, document_text_url, document_url
from api.wiring import Context
from archive.access import Principal, search_scope
from archive.audit import log as audit
from archive.dates import stored_text
from archive.events import AuditAction
from archive.models import Document, Page
from archive.permissions import Action, authorize
from archive.visibility import document_visible
from search.types import DocumentHit, SearchFilters

MAX_LIMIT = 100
MAX_SUGGESTIONS = 20
SNIPPET_PAGES = 3  # highlighted pages per document in a result list
Snippets = dict[tuple[int, int], str]  # (document id, page number) -> highlighted fragments


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
    ) -> SearchResultsView:
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
            # The index is derived data: a row deleted or re-levelled since indexing is skipped, not shown.
            shown = [
                (hit, document)
                for hit, document in ((hit, rows.get(hit.document_id)) for hit in results.hits)
                if document is not None and document_visible(principal, document)
            ]
            snippets = self._snippets(session, query, shown)
            hits = [_hit_view(hit, document, snippets) for hit, document in shown]
        audit.append(
            self.context.db,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.SEARCH,
            client=client,
            details={"query": query, "hits": results.total_documents},
        )
        return SearchResultsView(
            query=query,
            total=results.total_documents,
            total_is_exact=results.complete,
            page=results.page,
            page_size=results.page_size,
            sort=sort,
            hits=hits,
            facets=results.facets,
        )

    def suggest(
        self, principal: Principal, typed: str, *, limit: int = 8, client: str | None = None
    ) -> SuggestionsView:
        """Titles and reference codes completing what the caller typed, among the records they may see."""
        authorize(principal.roles, Action.READ_RECORD)
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        ids = self.context.index.suggest(typed, scope=search_scope(principal), limit=limit)
        with self.context.db.read() as session:
            rows = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
            suggestions = [
                Suggestion(document_id=d.id, reference_code=d.reference_code, title=d.title)
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
        return SuggestionsView(query=typed, suggestions=suggestions)

    def _snippets(self, session: Session, query: str, shown: list[tuple[DocumentHit, Document]]) -> Snippets:
        """Highlighted fragments for the first matching pages of each hit, from the catalogue's page text."""
        wanted = {(hit.document_id, number) for hit, _ in shown for number in hit.pages[:SNIPPET_PAGES]}
        if not wanted:
            return {}
        rows = session.execute(
            select(Page.document_id, Page.number, Page.text).where(
                Page.document_id.in_({doc for doc, _ in wanted}), Page.current.is_(True), Page.review != "rejected"
            )
        )
        texts = {(doc, number): text for doc, number, text in rows if (doc, number) in wanted}
        return self.context.index.snippets(query, texts)


def _hit_view(hit: DocumentHit, document: Document, snippets: Snippets) -> SearchHit:
    return SearchHit(
        document_id=document.id,
        reference_code=document.reference_code,
        title=document.title,
        fonds=document.fonds.code,
        access_level=level_label(document.access_level),
        score=hit.score,
        pages=list(hit.pages),
        date=stored_text(document.date, document.date_precision),
        snippets=[
            Snippet(page=number, text=snippets[(document.id, number)])
            for number in hit.pages[:SNIPPET_PAGES]
            if snippets.get((document.id, number))
        ],
        links=HitLinks(
            self=document_url(document.id), pdf=document_pdf_url(document.id), text=document_text_url(document.id)
        ),
    )
