"""HTTP routes for reading the archive as a reader: browsing fonds → series → box → item, the recently filed
items, and a record's pages (list, display image, thumbnail). Thin: parse, one use-case call, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from api.http.common import Caller, Id, Offset, client_of, context_of
from api.http.documents import MAX_PAGE_NUMBER
from api.http.headers import NOSNIFF
from api.http.openapi import error_responses
from api.records.browse import MAX_LIMIT, BrowseService
from api.records.page_images import ImageDownload, PageImageService
from api.records.page_words import PageWordsService
from api.views.browse import BrowseItemsView, BrowseLevelView, RecentItemsView
from api.views.pages import PageListView, PageWordsView
from archive.values import ObjectRole

router = APIRouter()
RECORD = error_responses(403, 404)
MAX_QUERY = 1000  # characters of a query whose terms are looked for on a page
IMAGE_MAX_AGE = 3600  # seconds a browser may keep a page image: privately (never a shared cache)
PageNumber = Annotated[int, PathParam(ge=1, le=MAX_PAGE_NUMBER, description="The page number, from 1")]
Segment = Annotated[str, PathParam(min_length=1, max_length=64, description="A code; '-' for none")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
JPEG: dict[int | str, dict[str, Any]] = {
    200: {"description": "A JPEG image", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
}


@router.get("/api/v1/documents/recent", tags=["browse"], responses=error_responses(403))
def recent(request: Request, caller: Caller, limit: Limit = 20) -> RecentItemsView:
    """Filed items the caller may see, newest filed first."""
    return BrowseService(context_of(request)).recent(caller, limit=limit, client=client_of(request))


@router.get("/api/v1/browse", tags=["browse"], responses=error_responses(403))
def browse_fonds(request: Request, caller: Caller) -> BrowseLevelView:
    """Every fonds with how many items in it the caller may see (fonds with none are left out)."""
    return BrowseService(context_of(request)).level(caller, [], client=client_of(request))


@router.get("/api/v1/browse/{fonds}", tags=["browse"], responses=RECORD)
def browse_series(fonds: Segment, request: Request, caller: Caller) -> BrowseLevelView:
    """The series of a fonds with their counts of visible items."""
    return BrowseService(context_of(request)).level(caller, [fonds], client=client_of(request))


@router.get("/api/v1/browse/{fonds}/{series}", tags=["browse"], responses=RECORD)
def browse_boxes(fonds: Segment, series: Segment, request: Request, caller: Caller) -> BrowseLevelView:
    """The boxes (volumes) of a series with their counts of visible items."""
    return BrowseService(context_of(request)).level(caller, [fonds, series], client=client_of(request))


@router.get("/api/v1/browse/{fonds}/{series}/{box}", tags=["browse"], responses=RECORD)
def browse_items(
    fonds: Segment,
    series: Segment,
    box: Segment,
    request: Request,
    caller: Caller,
    offset: Offset = 0,
    limit: Limit = 50,
) -> BrowseItemsView:
    """The items of a box the caller may see, in item order, a page at a time."""
    service = BrowseService(context_of(request))
    return service.items(caller, [fonds, series, box], offset=offset, limit=limit, client=client_of(request))


@router.get("/api/v1/documents/{document_id}/pages", tags=["documents"], responses=RECORD)
def pages(document_id: Id, request: Request, caller: Caller) -> PageListView:
    """The record's current pages for the viewer: size, engine, confidence, review state, findings, links."""
    return PageImageService(context_of(request)).pages(caller, document_id, client=client_of(request))


@router.get(
    "/api/v1/documents/{document_id}/pages/{number}/image",
    tags=["documents"],
    response_class=StreamingResponse,
    responses=JPEG | error_responses(403, 404),
)
def page_image(document_id: Id, number: PageNumber, request: Request, caller: Caller) -> StreamingResponse:
    """The page drawn with its long side ~1600 px, under the record's own rule (drawn now if never made)."""
    return _image(request, caller, document_id, number, ObjectRole.PAGE_IMAGE)


@router.get(
    "/api/v1/documents/{document_id}/pages/{number}/thumbnail",
    tags=["documents"],
    response_class=StreamingResponse,
    responses=JPEG | error_responses(403, 404),
)
def page_thumbnail(document_id: Id, number: PageNumber, request: Request, caller: Caller) -> StreamingResponse:
    """The page drawn with its long side ~200 px, under the record's own rule (drawn now if never made)."""
    return _image(request, caller, document_id, number, ObjectRole.THUMBNAIL)


@router.get("/api/v1/documents/{document_id}/pages/{number}/words", tags=["documents"], responses=RECORD)
def page_words(
    document_id: Id,
    number: PageNumber,
    request: Request,
    caller: Caller,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY, description="The search's query: its terms' boxes; none for every box"),
    ] = None,
) -> PageWordsView:
    """Where the query's terms are on the page, as fractions of the page (for highlighting on its image)."""
    service = PageWordsService(context_of(request))
    return service.words(caller, document_id, number, query=q, client=client_of(request))


def _image(request: Request, caller: Caller, document_id: int, number: int, kind: ObjectRole) -> StreamingResponse:
    found: ImageDownload = PageImageService(context_of(request)).open(
        caller, document_id, number, kind, client=client_of(request)
    )

    def chunks() -> Any:
        with found.stream as stream:
            while chunk := stream.read(1 << 16):
                yield chunk

    headers = {
        "Content-Length": str(found.size),
        "Cache-Control": f"private, max-age={IMAGE_MAX_AGE}",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Vary": "Authorization",
    } | NOSNIFF
    return StreamingResponse(chunks(), media_type=found.media_type, headers=headers)
