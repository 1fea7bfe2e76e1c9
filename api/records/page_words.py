"""Where a query's terms are on a page, for highlighting them on the page image: the page's recognised words
and lines (kept at ingest as fractions of the page in the access copy) that the terms fall on. Under the
record's own visibility (hidden answers exactly like missing) and logged as a view of the record's page text."""

from __future__ import annotations

from typing import Any

from api.records.documents import log_record_read, visible_page
from api.views.pages import PageWordsView, WordBoxView
from api.wiring import Context
from archive.access import Principal
from archive.errors import NotFound
from archive.permissions import Action, authorize
from search.highlight import Box, matching_boxes


class PageWordsService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def words(
        self, principal: Principal, document_id: int, number: int, *, query: str | None, client: str | None = None
    ) -> PageWordsView:
        """The boxes of page `number` the query's terms fall on (all of them without a query). A rejected page
        has no current text, so no boxes (as in search); a page the record does not have is 'not found'."""
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                _, page = visible_page(session, principal, document_id, number)
                stored = [] if page.review == "rejected" else _boxes(page.boxes)
        except NotFound:
            self._log(principal, document_id, client, outcome="denied_or_missing", details={})
            raise
        hits = matching_boxes(query, stored)
        details: dict[str, Any] = {"text": number, "words": query if query else "all", "boxes": len(hits)}
        self._log(principal, document_id, client, outcome="success", details=details)
        boxes = [WordBoxView(text=hit.text, box=list(hit.box)) for hit in hits]
        return PageWordsView(document_id=document_id, page=number, query=query or None, boxes=boxes)

    def _log(
        self, principal: Principal, document_id: int, client: str | None, *, outcome: str, details: dict[str, Any]
    ) -> None:
        log_record_read(self.context, principal, document_id, client, outcome=outcome, details=details)


def _boxes(stored: list[list[Any]] | None) -> list[tuple[str, Box]]:
    """The catalogue's [text, left, top, right, bottom] rows; none for pages read before boxes were kept."""
    found: list[tuple[str, Box]] = []
    for row in stored or []:
        text, left, top, right, bottom = row
        found.append((str(text), (float(left), float(top), float(right), float(bottom))))
    return found
