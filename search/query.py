"""Query parsing and execution. The access filter and the user's filters are part of the query, so totals and
facet counts never include pages the caller may not see."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh.qparser import MultifieldParser
from whoosh.qparser.dateparse import DateParserPlugin
from whoosh.searching import Searcher

from archive.access import SearchScope
from archive.errors import QueryError
from archive.text import HAN_RUN
from archive.values import AccessLevel
from search.types import FACETS, NO_DEPARTMENT, UNLEVELLED, DocumentHit, SearchFilters, SearchResults

MAX_PAGE_HITS = 5000
MAX_PAGE_SIZE = 100
SORTS = ("relevance", "date")


def access_filter(scope: SearchScope) -> wq.Query:
    level: wq.Query = wq.NumericRange("level", None, scope.max_level)
    if scope.include_unlevelled:  # admins see records whose level was never set, but not above their clearance
        level = wq.Or([level, wq.Term("level", UNLEVELLED)])
    if scope.departments is None:
        return level
    allowed: list[wq.Query] = [wq.Term("departments", NO_DEPARTMENT)]
    allowed.extend(wq.Term("departments", d) for d in sorted(scope.departments))
    return wq.And([level, wq.Or(allowed)])


def narrowing(filters: SearchFilters) -> list[wq.Query]:
    parts: list[wq.Query] = []
    for fieldname, value in (
        ("fonds", filters.fonds),
        ("series", filters.series),
        ("type", filters.doc_type),
        ("language", filters.language),
    ):
        if value:
            parts.append(wq.Term(fieldname, value.lower()))
    if filters.batch_id is not None:
        parts.append(wq.Term("batch", str(filters.batch_id)))
    if filters.level is not None:
        parts.append(wq.Term("level", filters.level))
    if filters.date_from or filters.date_to:
        start = dt.datetime.combine(filters.date_from, dt.time()) if filters.date_from else None
        end = dt.datetime.combine(filters.date_to, dt.time.max) if filters.date_to else None
        parts.append(wq.DateRange("date", start, end))
    return parts


def parse(searcher: Searcher, query_text: str) -> wq.Query:
    if not query_text.strip():
        raise QueryError("the query is empty; type a word, a phrase in quotes, or Chinese characters")
    # The default group is AND: every term must match unless OR is written. Fielded terms: title:, ref:,
    # fonds:, series:, type:, language:, and date ranges like date:[2020 to 2021-06].
    parser = MultifieldParser(["title", "text"], schema=searcher.schema)
    parser.add_plugin(DateParserPlugin(free=False))
    try:
        parsed = parser.parse(query_text)
    except Exception as exc:  # whoosh raises assorted errors on malformed syntax
        raise QueryError(f"cannot understand the query {query_text!r}: {exc}") from exc
    if parsed is wq.NullQuery:
        raise QueryError(f"the query {query_text!r} has no searchable words")
    if _has_error(parsed):
        raise QueryError(f"cannot understand part of the query {query_text!r}; check dates and field names")
    return parsed.accept(_single_characters)


def _has_error(node: wq.Query) -> bool:
    if getattr(node, "error", None):  # whoosh marks what it could not read (e.g. a bad date) with .error
        return True
    return any(_has_error(child) for child in node.children())


def _single_characters(node: wq.Query) -> wq.Query:
    """A lone Han character cannot be a bigram: look it up in the `chars` field as well."""
    is_term = isinstance(node, wq.Term) and node.fieldname in ("title", "text")
    if is_term and len(node.text) == 1 and HAN_RUN.fullmatch(node.text):
        return wq.Or([node, wq.Term("chars", node.text)])
    return node


@dataclass
class _Documents:
    best: dict[int, float] = field(default_factory=dict)
    pages: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    stored: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, hit: Any) -> None:
        document_id = int(hit["doc"])
        self.pages[document_id].append(int(hit["page"]))
        self.best[document_id] = max(self.best.get(document_id, 0.0), float(hit.score or 0.0))
        self.stored.setdefault(document_id, hit.fields())


def run_query(
    searcher: Searcher,
    query_text: str,
    *,
    scope: SearchScope,
    limit: int,
    page: int = 1,
    filters: SearchFilters | None = None,
    sort: str = "relevance",
) -> SearchResults:
    """Rank documents by their best page (or by date); list every matching page of each; count facets."""
    if sort not in SORTS:
        raise QueryError(f"sort by {' or '.join(SORTS)}, not {sort!r}")
    if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise QueryError(f"page starts at 1 and page size is 1 to {MAX_PAGE_SIZE}")
    parsed = parse(searcher, query_text)
    restriction = wq.And([access_filter(scope), *narrowing(filters or SearchFilters())])
    documents = _Documents()
    for hit in searcher.search(parsed, filter=restriction, limit=MAX_PAGE_HITS):
        documents.add(hit)
    ranked = sorted(documents.best, key=lambda doc: (-documents.best[doc], doc))
    if sort == "date":
        ranked.sort(key=lambda doc: _date(documents.stored[doc]) or dt.date.min, reverse=True)
    window = ranked[(page - 1) * limit : page * limit]
    hits = tuple(
        DocumentHit(
            doc, round(documents.best[doc], 4), tuple(sorted(documents.pages[doc])), _date(documents.stored[doc])
        )
        for doc in window
    )
    return SearchResults(
        query=query_text,
        total_documents=len(ranked),
        hits=hits,
        facets=_facets(documents.stored.values()),
        page=page,
        page_size=limit,
    )


def _date(stored: dict[str, Any]) -> dt.date | None:
    value = stored.get("date")
    return value.date() if isinstance(value, dt.datetime) else None


def _facets(stored: Any) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for fields in stored:
        for name in ("fonds", "series", "type", "language"):
            if fields.get(name):
                counts[name][str(fields[name])] += 1
        level = fields.get("level")
        counts["level"]["unlevelled" if level == UNLEVELLED else AccessLevel(int(level)).label] += 1
        if (date := _date(fields)) is not None:
            counts["year"][str(date.year)] += 1
    return {name: dict(sorted(counter.items())) for name, counter in counts.items()}
