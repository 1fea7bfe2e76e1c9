"""Typed results of search (api/search): ranked hits with their matching pages and snippets, facet counts,
and type-ahead suggestions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from pydantic import Field

from api.views.base import View

MARK = re.compile(r"<mark\b[^>]*>(.*?)</mark>", re.DOTALL)


class Snippet(View):
    page: int
    text: str = Field(description="HTML-escaped fragments of the page's text; the matches wrapped in <mark>")

    def parts(self) -> Iterator[tuple[str, bool]]:
        """The fragment as plain text pieces, each with whether it is a match (for a terminal or a printout)."""
        position = 0
        for match in MARK.finditer(self.text):
            if match.start() > position:
                yield html.unescape(self.text[position : match.start()]), False
            yield html.unescape(match.group(1)), True
            position = match.end()
        if position < len(self.text):
            yield html.unescape(self.text[position:]), False


class HitLinks(View):
    self: str
    pdf: str
    text: str


class SearchHit(View):
    document_id: int
    reference_code: str
    title: str
    fonds: str
    access_level: str | None
    score: float
    pages: list[int] = Field(description="The pages that match, best first")
    date: str | None
    snippets: list[Snippet] = Field(description="Highlights from the first matching pages")
    links: HitLinks


class SearchResultsView(View):
    query: str
    total: int = Field(description="Documents that match (a lower bound when total_is_exact is false)")
    total_is_exact: bool
    page: int
    page_size: int
    sort: str
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(description="facet -> value -> matching documents")


class Suggestion(View):
    document_id: int
    reference_code: str
    title: str


class SuggestionsView(View):
    query: str
    suggestions: list[Suggestion]
