"""What crosses the search package's boundary: our own types, never Whoosh's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SCHEMA_VERSION = 9  # 2: trad→simp; 3: `chars` for 1-character queries; 4: English stems; 5: facets;
# 6: numeric document ids in columns, engine recorded; 7: labels stamp and day number in columns; 8: `filed`;
# 9: descriptive metadata (creator, organisation, document number, keywords, archival year, `meta` text)
NO_DEPARTMENT = "_none_"  # the department keyword of records open to every department
UNLEVELLED = 99  # documents with no level sort above every clearance: only admins' scope reaches them
FILED, UNFILED = "1", "0"  # the `filed` keyword: a scope with filed_only matches FILED pages only


@dataclass(frozen=True)
class IndexStats:
    """What the live index holds: the engine that built it, its pages, its bytes on disk."""

    engine: str
    pages: int
    bytes: int


@dataclass(frozen=True)
class PageText:
    number: int
    text: str


@dataclass(frozen=True)
class IndexedDocument:
    """Everything the index needs of one catalogue document."""

    document_id: int
    reference_code: str
    title: str
    fonds: str
    level: int | None
    departments: tuple[str, ...]
    pages: tuple[PageText, ...]
    series: str = ""
    batch_id: int | None = None
    date: dt.date | None = None
    doc_type: str = ""  # the original's format: tiff, jpeg, png, pdf
    language: str = ""
    filed: bool = False  # its batch is filed: only then does a filed-only scope (staff) reach it
    creator: str = ""  # 责任者
    document_number: str = ""  # 文号
    organisation: str = ""  # 机构
    keywords: tuple[str, ...] = ()  # 关键词
    archival_year: int | None = None  # 归档年度
    meta_text: str = ""  # descriptive text searched with title and text: 责任者, 文号, 机构, 关键词, description, ...


FACETS = ("fonds", "series", "type", "language", "level", "year", "organisation", "creator", "archival_year")


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing applied inside the query, next to the access filter (so counts and facets obey both)."""

    fonds: str | None = None
    series: str | None = None
    batch_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    doc_type: str | None = None
    language: str | None = None
    level: int | None = None
    creator: str | None = None
    organisation: str | None = None
    keyword: str | None = None
    archival_year: int | None = None


def keyword_value(value: str) -> str:
    """One exact value as keyword fields index it (both engines): trimmed, no commas (Whoosh splits on them)."""
    return " ".join(value.replace(",", " ").split())


@dataclass(frozen=True)
class DocumentHit:
    document_id: int
    score: float
    pages: tuple[int, ...]  # matching page numbers, ascending
    date: dt.date | None = None


@dataclass(frozen=True)
class SearchResults:
    query: str
    total_documents: int
    hits: tuple[DocumentHit, ...] = field(default_factory=tuple)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet -> value -> documents
    page: int = 1
    page_size: int = 20
    complete: bool = True  # False when more pages matched than one search collects: totals are a lower bound
