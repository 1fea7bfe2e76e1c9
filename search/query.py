"""Query parsing and execution: the access filter is part of the query, so counts never include hidden pages."""

from __future__ import annotations

from collections import defaultdict

from whoosh import query as wq
from whoosh.qparser import MultifieldParser
from whoosh.searching import Searcher

from archive.access import SearchScope
from archive.errors import QueryError
from archive.text import HAN_RUN
from search.types import NO_DEPARTMENT, UNLEVELLED, DocumentHit, SearchResults

MAX_PAGE_HITS = 5000


def access_filter(scope: SearchScope) -> wq.Query:
    level: wq.Query = wq.NumericRange("level", None, scope.max_level)
    if scope.include_unlevelled:  # admins see records whose level was never set, but not above their clearance
        level = wq.Or([level, wq.Term("level", UNLEVELLED)])
    if scope.departments is None:
        return level
    allowed: list[wq.Query] = [wq.Term("departments", NO_DEPARTMENT)]
    allowed.extend(wq.Term("departments", d) for d in sorted(scope.departments))
    return wq.And([level, wq.Or(allowed)])


def parse(searcher: Searcher, query_text: str) -> wq.Query:
    if not query_text.strip():
        raise QueryError("the query is empty; type a word, a phrase in quotes, or Chinese characters")
    # The default group is AND: every term must match unless OR is written.
    parser = MultifieldParser(["title", "text"], schema=searcher.schema)
    try:
        parsed = parser.parse(query_text)
    except Exception as exc:  # whoosh raises assorted errors on malformed syntax
        raise QueryError(f"cannot understand the query {query_text!r}: {exc}") from exc
    if parsed is wq.NullQuery:
        raise QueryError(f"the query {query_text!r} has no searchable words")
    return parsed.accept(_single_characters)


def _single_characters(node: wq.Query) -> wq.Query:
    """A lone Han character cannot be a bigram: look it up in the `chars` field as well."""
    is_term = isinstance(node, wq.Term) and node.fieldname in ("title", "text")
    if is_term and len(node.text) == 1 and HAN_RUN.fullmatch(node.text):
        return wq.Or([node, wq.Term("chars", node.text)])
    return node


def run_query(searcher: Searcher, query_text: str, *, scope: SearchScope, limit: int) -> SearchResults:
    """Rank documents by their best page; list every matching page of each."""
    parsed = parse(searcher, query_text)
    results = searcher.search(parsed, filter=access_filter(scope), limit=MAX_PAGE_HITS)
    best: dict[int, float] = {}
    pages: dict[int, list[int]] = defaultdict(list)
    for hit in results:
        document_id = int(hit["doc"])
        pages[document_id].append(int(hit["page"]))
        best[document_id] = max(best.get(document_id, 0.0), float(hit.score or 0.0))
    ranked = sorted(best, key=lambda doc: (-best[doc], doc))
    hits = tuple(DocumentHit(doc, round(best[doc], 4), tuple(sorted(pages[doc]))) for doc in ranked[:limit])
    return SearchResults(query=query_text, total_documents=len(ranked), hits=hits)
