"""Full-text search for a caller: the access scope goes into the query; results carry catalogue metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.services.views import level_label
from api.wiring import Context
from archive import audit
from archive.access import Principal, can_see, search_scope
from archive.models import Document
from search.types import SearchFilters

MAX_LIMIT = 100


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
        limit = max(1, min(limit, MAX_LIMIT))
        results = self.context.index.search(
            query, scope=search_scope(principal), limit=limit, page=page, filters=filters, sort=sort
        )
        ids = [hit.document_id for hit in results.hits]
        with self.context.db.write() as session:
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
                if document is None or not can_see(
                    principal, level=document.access_level, departments=document.departments
                ):
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
                        "date": hit.date.isoformat() if hit.date else None,
                        "links": {
                            "self": f"/api/v1/documents/{document.id}",
                            "pdf": f"/api/v1/documents/{document.id}/pdf",
                        },
                    }
                )
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action="search",
                client=client,
                details={"query": query, "hits": results.total_documents},
            )
        return {
            "query": query,
            "total": results.total_documents,
            "page": results.page,
            "page_size": results.page_size,
            "sort": sort,
            "hits": hits,
            "facets": results.facets,
        }
