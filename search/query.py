"""The query language, shared by every engine: parsing, the access filter and the user's narrowing.

A typed query is parsed once into a Whoosh query tree (analysed with the same analyzer as the index); the
Whoosh engine runs that tree as it is and the tantivy engine translates it. The access filter and the user's
filters are trees too, applied inside the engine's query, so totals and facet counts never include pages
the caller may not see.
"""

from __future__ import annotations

import datetime as dt

from whoosh import query as wq
from whoosh.qparser import MultifieldParser
from whoosh.qparser.dateparse import DateParserPlugin

from archive.access import SearchScope
from archive.errors import QueryError
from archive.text import HAN_RUN
from search.analysis import tokens_of
from search.schema import FULL_TEXT_FIELDS, query_schema
from search.types import FILED, NO_DEPARTMENT, UNLEVELLED, SearchFilters, keyword_value

SORTS = ("relevance", "date")
MAX_PAGE_SIZE = 100


def access_filter(scope: SearchScope) -> wq.Query:
    level: wq.Query = wq.NumericRange("level", None, scope.max_level)
    if scope.include_unlevelled:  # admins see records whose level was never set, but not above their clearance
        level = wq.Or([level, wq.Term("level", UNLEVELLED)])
    parts = [level]
    if scope.departments is not None:
        allowed: list[wq.Query] = [wq.Term("departments", NO_DEPARTMENT)]
        allowed.extend(wq.Term("departments", d) for d in sorted(scope.departments))
        parts.append(wq.Or(allowed))
    if scope.filed_only:  # staff: an item only once its batch is filed, never work in progress
        parts.append(wq.Term("filed", FILED))
    return parts[0] if len(parts) == 1 else wq.And(parts)


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
    for fieldname, value in (("creator", filters.creator), ("organisation", filters.organisation)):
        if value:
            parts.append(wq.Term(fieldname, keyword_value(value).lower()))
    if filters.keyword:
        parts.append(wq.Term("keyword", keyword_value(filters.keyword).lower()))
    if filters.archival_year is not None:
        parts.append(wq.Term("ayear", str(filters.archival_year)))
    if filters.batch_id is not None:
        parts.append(wq.Term("batch", str(filters.batch_id)))
    if filters.level is not None:
        parts.append(wq.Term("level", filters.level))
    if filters.date_from or filters.date_to:
        start = dt.datetime.combine(filters.date_from, dt.time()) if filters.date_from else None
        end = dt.datetime.combine(filters.date_to, dt.time.max) if filters.date_to else None
        parts.append(wq.DateRange("date", start, end))
    return parts


def restriction(scope: SearchScope, filters: SearchFilters | None) -> wq.Query:
    """Everything a hit must satisfy besides the typed query: clearance, departments, the user's filters."""
    return wq.And([access_filter(scope), *narrowing(filters or SearchFilters())])


def check_window(page: int, limit: int, sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(f"sort by {' or '.join(SORTS)}, not {sort!r}")
    if page < 1 or not 1 <= limit <= MAX_PAGE_SIZE:
        raise QueryError(f"page starts at 1 and page size is 1 to {MAX_PAGE_SIZE}")


def parse(query_text: str) -> wq.Query:
    if not query_text.strip():
        raise QueryError("the query is empty; type a word, a phrase in quotes, or Chinese characters")
    # The default group is AND: every term must match unless OR is written. Fielded terms: title:, ref:,
    # fonds:, series:, type:, language:, creator:, organisation:, docnum:, keyword:, ayear:, and date ranges
    # like date:[2020 to 2021-06]. Unfielded words search the title, the page text and the descriptive metadata.
    parser = MultifieldParser(list(FULL_TEXT_FIELDS), schema=query_schema())
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


def suggestion_query(typed: str) -> wq.Query | None:
    """Titles and reference codes that complete what the user has typed so far: every whole word, and the last
    one as a prefix (of the word as typed or of its stem, since titles are indexed stemmed)."""
    typed = typed.strip()
    if not typed:
        return None
    words = [token.text for token in query_schema()["title"].analyzer(typed)]
    raw_last = [term.lower() for term, _, _ in tokens_of(typed)][-1:]
    title_parts: list[wq.Query] = []
    if words:
        *whole, last = words
        title_parts.extend(wq.Term("title", term) for term in whole)
        if HAN_RUN.fullmatch(last):
            title_parts.append(wq.Term("title", last) if len(last) > 1 else wq.Term("chars", last))
        else:
            title_parts.append(wq.Or([wq.Prefix("title", form) for form in sorted({last, *raw_last})]))
    ref = wq.Prefix("ref", typed.lower())
    return wq.Or([wq.And(title_parts), ref]) if title_parts else ref


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
