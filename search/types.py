"""What crosses the search package's boundary: our own types, never Whoosh's."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 4  # 2: traditional→simplified; 3: `chars` field for 1-character queries; 4: English stems
NO_DEPARTMENT = "_none_"  # the department keyword of records open to every department
UNLEVELLED = 99  # documents with no level sort above every clearance: only admins' scope reaches them


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


@dataclass(frozen=True)
class DocumentHit:
    document_id: int
    score: float
    pages: tuple[int, ...]  # matching page numbers, ascending


@dataclass(frozen=True)
class SearchResults:
    query: str
    total_documents: int
    hits: tuple[DocumentHit, ...] = field(default_factory=tuple)
