"""Search routes: full-text search with filters and facets, and type-ahead suggestions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.http.common import Caller, IdFilter, ResultPage, client_of, context_of
from api.http.openapi import error_responses
from api.search.filters import search_filters
from api.search.service import SearchService
from api.views.search import SearchResultsView, SuggestionsView

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get("", responses=error_responses(403, 503))
def search(
    request: Request,
    caller: Caller,
    q: Annotated[
        str,
        Query(description='Words, "a phrase", 汉字, AND/OR/NOT, title: ref: fonds: series: type: date:[2020 to 2021]'),
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="Documents per page")] = 20,
    page: ResultPage = 1,
    sort: Annotated[Literal["relevance", "date"], Query()] = "relevance",
    fonds: str | None = None,
    series: str | None = None,
    batch: IdFilter = None,
    date_from: Annotated[str | None, Query(description="Dated on or after: YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(description="Dated on or before (a year or month: to its end)")] = None,
    type: str | None = None,
    language: str | None = None,
    level: str | None = None,
    creator: Annotated[str | None, Query(description="Only this 责任者 (exact, any case)")] = None,
    organisation: Annotated[str | None, Query(description="Only this 机构 (exact, any case)")] = None,
    keyword: Annotated[str | None, Query(description="Only records with this 关键词")] = None,
    year: Annotated[int | None, Query(ge=1000, le=9999, description="Only this 归档年度 (archival year)")] = None,
) -> SearchResultsView:
    """Ranked documents with their matching pages, snippets and facet counts; all under the caller's clearance."""
    filters = search_filters(
        fonds=fonds,
        series=series,
        batch_id=batch,
        date_from=date_from,
        date_to=date_to,
        doc_type=type,
        language=language,
        level=level,
        creator=creator,
        organisation=organisation,
        keyword=keyword,
        year=year,
    )
    return SearchService(context_of(request)).search(
        caller, q, limit=limit, page=page, filters=filters, sort=sort, client=client_of(request)
    )


@router.get("/suggest", responses=error_responses(403, 503))
def suggest(
    request: Request,
    caller: Caller,
    q: Annotated[str, Query(min_length=1, description="What the user has typed so far")],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> SuggestionsView:
    """Titles and reference codes completing `q`, only among records the caller may see."""
    return SearchService(context_of(request)).suggest(caller, q, limit=limit, client=client_of(request))
