"""From page matches to the result list: documents ranked by their best page (or by date), every matching
page of each, a window of them, and facet counts over all matching documents. Engine-independent.

A broad query matches thousands of pages, so this runs once per search over all of them: matches travel as
three parallel lists, and each document's facet values are computed once, when its facts are first read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archive.values import AccessLevel
from search.types import FACETS, UNLEVELLED, DocumentHit, IndexedDocument, SearchResults, keyword_value


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What a result list and its facets need of a document, read from the index (never from the catalogue)."""

    fonds: str
    series: str
    doc_type: str
    language: str
    level: int
    date: dt.date | None
    organisation: str = ""
    creator: str = ""
    archival_year: str = ""
    facet_ids: tuple[int, ...] = field(init=False, compare=False)  # its (facet, value) pairs, as small ints

    def __post_init__(self) -> None:
        level = "unlevelled" if self.level == UNLEVELLED else AccessLevel(self.level).label
        year = str(self.date.year) if self.date else ""
        values = (
            self.fonds, self.series, self.doc_type, self.language, level, year,
            self.organisation, self.creator, self.archival_year,
        )  # fmt: skip
        ids = tuple(_pair_id(name, value) for name, value in zip(FACETS, values, strict=True) if value)
        object.__setattr__(self, "facet_ids", ids)


def labels_stamp(document: IndexedDocument) -> int:
    """A 63-bit digest of a document's facet labels, indexed in a column beside its level and day: engines read
    those three numbers per hit and look the labels up in a cache that never goes stale (a digest always
    names the same labels), instead of reading every matched document's stored fields."""
    labels = (document.fonds, document.series, document.doc_type, document.language, *stored_metadata(document))
    digest = hashlib.blake2b("\x1f".join(labels).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def stored_metadata(document: IndexedDocument) -> tuple[str, str, str]:
    """The facet labels of descriptive metadata a document's pages store: organisation, creator, archival year."""
    year = str(document.archival_year) if document.archival_year else ""
    return keyword_value(document.organisation), keyword_value(document.creator), year


def day_number(date: dt.date | None) -> int:
    return date.toordinal() if date else 0


def from_day_number(day: int) -> dt.date | None:
    return dt.date.fromordinal(day) if day else None


FactsKey = tuple[int, int, int]  # (labels stamp, level, day number)

_PAIR_IDS: dict[tuple[str, str], int] = {}  # counting small ints is several times faster than counting pairs
_PAIRS: list[tuple[str, str]] = []


def _pair_id(name: str, value: str) -> int:
    found = _PAIR_IDS.get((name, value))
    if found is None:
        found = _PAIR_IDS.setdefault((name, value), len(_PAIRS))
        if found == len(_PAIRS):
            _PAIRS.append((name, value))
    return found


def _label(value: object) -> str:
    """A stored label as engines give it back: a string (Whoosh) or a list of values (tantivy)."""
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def facts_from_stored(stored: dict[str, Any], key: FactsKey) -> DocumentFacts:
    """A document's facts from one of its pages' stored fields, and the (labels, level, day) columns."""
    names = ("fonds", "series", "type", "language", "organisation", "creator", "ayear")
    fonds, series, doc_type, language, organisation, creator, year = (_label(stored.get(name)) for name in names)
    return DocumentFacts(
        fonds, series, doc_type, language, level=key[1], date=from_day_number(key[2]),
        organisation=organisation, creator=creator, archival_year=year,
    )  # fmt: skip


class FactsCache:
    """Facts by (labels stamp, level, day): never stale, since a stamp always names the same labels, so it
    survives commits; a miss reads one stored page of that document."""

    def __init__(self) -> None:
        self._known: dict[FactsKey, DocumentFacts] = {}

    def fill(
        self,
        matches: PageMatches,
        columns: tuple[list[int], list[int], list[int]],
        read_stored: Callable[[int], dict[str, Any]],
    ) -> None:
        """Give every matched document its facts; `columns` are the hits' labels, levels and days, and
        `read_stored(n)` returns the stored fields of the n-th hit."""
        first_hit: dict[int, int] = {}  # built on the first miss only
        keys = zip(*columns, strict=True)
        for document_id, key in dict(zip(matches.documents, keys, strict=True)).items():
            found = self._known.get(key)
            if found is None:
                if not first_hit:
                    first_hit = {doc: n for n, doc in reversed(list(enumerate(matches.documents)))}
                found = self._known[key] = facts_from_stored(read_stored(first_hit[document_id]), key)
            matches.facts[document_id] = found


@dataclass
class PageMatches:
    """Best first: the n-th page match is page `pages[n]` of document `documents[n]`, scored `scores[n]`."""

    documents: list[int] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    facts: dict[int, DocumentFacts] = field(default_factory=dict)  # of every matched document
    complete: bool = True  # False when the engine stopped collecting at its cap


def assemble(query_text: str, matches: PageMatches, *, limit: int, page: int, sort: str) -> SearchResults:
    # Matches arrive best first: walking them backwards leaves each document's best score in the dict.
    best = dict(zip(reversed(matches.documents), reversed(matches.scores), strict=True))
    ranked = sorted(best, key=lambda doc: (-best[doc], doc))
    facts = matches.facts
    if sort == "date":
        ranked.sort(key=lambda doc: facts[doc].date or dt.date.min, reverse=True)
    window = ranked[(page - 1) * limit : page * limit]
    wanted = set(window)
    pages: dict[int, list[int]] = {doc: [] for doc in window}
    for document_id, number in zip(matches.documents, matches.pages, strict=True):
        if document_id in wanted:
            pages[document_id].append(number)
    hits = tuple(DocumentHit(doc, round(best[doc], 4), tuple(sorted(pages[doc])), facts[doc].date) for doc in window)
    counted = Counter(itertools.chain.from_iterable(facts[doc].facet_ids for doc in ranked))
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for (name, value), count in sorted((_PAIRS[pair], count) for pair, count in counted.items()):
        facets[name][value] = count
    return SearchResults(
        query=query_text,
        total_documents=len(ranked),
        hits=hits,
        facets=facets,
        page=page,
        page_size=limit,
        complete=matches.complete,
    )
