"""The Whoosh index: one writer, a shared searcher, a schema version, the access filter inside every query.

The index is derived data: `rebuild` makes a fresh one beside the live one and swaps it in, so searches keep
answering during a rebuild. A missing, corrupt or outdated index raises SearchUnavailable (never partial
results) until it is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.index import Index
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from archive.access import SearchScope
from archive.errors import SearchUnavailable
from search.analysis import archive_analyzer, han_char_analyzer
from search.query import parse, run_query
from search.snippets import query_terms, snippet
from search.types import NO_DEPARTMENT, SCHEMA_VERSION, UNLEVELLED, IndexedDocument, SearchFilters, SearchResults

VERSION_FILE = "dangan-index.json"
WRITE_LOCK_TIMEOUT = 60.0


def build_schema() -> Schema:
    analyzer = archive_analyzer()
    return Schema(
        page_key=ID(unique=True, stored=True),
        doc=ID(stored=True),
        page=NUMERIC(int, stored=True),
        level=NUMERIC(int, stored=True),
        departments=KEYWORD(commas=True),
        fonds=KEYWORD(stored=True, lowercase=True, commas=True),
        series=KEYWORD(stored=True, lowercase=True, commas=True),
        batch=ID(stored=True),
        type=KEYWORD(stored=True, lowercase=True, commas=True),
        language=KEYWORD(stored=True, lowercase=True, commas=True),
        date=DATETIME(stored=True),
        ref=KEYWORD(stored=True, lowercase=True, commas=True),
        title=TEXT(analyzer=analyzer, multitoken_query="phrase"),
        text=TEXT(analyzer=analyzer, multitoken_query="phrase"),
        chars=TEXT(analyzer=han_char_analyzer(), phrase=False),  # single Han characters, for 1-character queries
    )


class SearchIndex:
    """One per process. Writes are serialised here and by Whoosh's own lock across processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._write_lock = threading.Lock()
        self._search_lock = threading.Lock()
        self._searcher: Searcher | None = None

    # -- life cycle -------------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.directory / VERSION_FILE).exists()

    def create(self) -> None:
        """Create an empty index if there is none (used by `dangan init`)."""
        if not self.exists():
            _create_at(self.directory)

    def _open(self) -> Index:
        if not self.exists():
            raise SearchUnavailable(
                f"the search index at {self.directory} is missing; run `dangan reindex` to rebuild it"
            )
        try:
            recorded = json.loads((self.directory / VERSION_FILE).read_text())["schema_version"]
        except (OSError, ValueError, KeyError) as exc:
            raise SearchUnavailable(
                f"the search index version file is unreadable ({exc}); run `dangan reindex`"
            ) from exc
        if recorded != SCHEMA_VERSION:
            raise SearchUnavailable(
                f"the search index has schema version {recorded}, this release needs {SCHEMA_VERSION}; "
                "run `dangan reindex`"
            )
        try:
            return whoosh_index.open_dir(str(self.directory))
        except Exception as exc:  # whoosh raises many kinds on damaged segment files
            raise SearchUnavailable(
                f"the search index at {self.directory} is damaged ({exc.__class__.__name__}); run `dangan reindex`"
            ) from exc

    def close(self) -> None:
        with self._search_lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    # -- writing ----------------------------------------------------------------------------------
    def upsert(self, documents: Iterable[IndexedDocument]) -> None:
        """Replace these documents' pages; the batch commits as a unit or not at all."""
        with self._write_lock:
            writer = self._open().writer(timeout=WRITE_LOCK_TIMEOUT)
            try:
                for document in documents:
                    writer.delete_by_term("doc", str(document.document_id))
                    _add_pages(writer, document)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def delete(self, document_ids: Iterable[int]) -> None:
        with self._write_lock:
            writer = self._open().writer(timeout=WRITE_LOCK_TIMEOUT)
            try:
                for document_id in document_ids:
                    writer.delete_by_term("doc", str(document_id))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def rebuild(self, documents: Iterable[IndexedDocument], progress: Callable[[int], None] | None = None) -> int:
        """Build a fresh index beside the live one, then swap it in; returns the number of documents."""
        staging = self.directory.with_name(self.directory.name + ".rebuild")
        shutil.rmtree(staging, ignore_errors=True)
        ix = _create_at(staging, write_version=False)
        count = 0
        writer = ix.writer(limitmb=256)
        try:
            for document in documents:
                _add_pages(writer, document)
                count += 1
                if progress is not None:
                    progress(count)
        except BaseException:
            writer.cancel()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        writer.commit(optimize=True)
        _write_version(staging)
        with self._write_lock:
            self.close()
            retired = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(retired, ignore_errors=True)
            if self.directory.exists():
                self.directory.rename(retired)
            staging.rename(self.directory)
            shutil.rmtree(retired, ignore_errors=True)
        return count

    # -- reading ----------------------------------------------------------------------------------
    def search(
        self,
        query_text: str,
        *,
        scope: SearchScope,
        limit: int = 20,
        page: int = 1,
        filters: SearchFilters | None = None,
        sort: str = "relevance",
    ) -> SearchResults:
        with self._search_lock:
            searcher = self._current_searcher()
            try:
                return run_query(
                    searcher,
                    query_text,
                    scope=scope,
                    limit=limit,
                    page=page,
                    filters=filters or SearchFilters(),
                    sort=sort,
                )
            except SearchUnavailable:
                raise
            except (OSError, ValueError, EOFError) as exc:
                self._searcher = None
                raise SearchUnavailable(f"the search index could not be read ({exc}); run `dangan reindex`") from exc

    def snippets(self, query_text: str, page_texts: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
        """Highlighted fragments of the given pages' text for this query (texts come from the catalogue)."""
        with self._search_lock:
            terms = query_terms(parse(self._current_searcher(), query_text))
        return {key: snippet(text, terms) for key, text in page_texts.items()}

    def _current_searcher(self) -> Searcher:
        """Share one searcher (opening one costs ~100 ms) and refresh it when the index changed."""
        if self._searcher is None:
            self._searcher = self._open().searcher()
        else:
            if not self.exists():
                self._searcher.close()
                self._searcher = None
                return self._current_searcher()
            self._searcher = self._searcher.refresh()
        return self._searcher


def _create_at(directory: Path, *, write_version: bool = True) -> Index:
    directory.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(directory), build_schema())
    if write_version:
        _write_version(directory)
    return ix


def _write_version(directory: Path) -> None:
    (directory / VERSION_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}))


def _add_pages(writer: IndexWriter, document: IndexedDocument) -> None:
    departments = ",".join(document.departments) or NO_DEPARTMENT
    level = UNLEVELLED if document.level is None else document.level
    for page in document.pages:
        writer.add_document(
            page_key=f"{document.document_id}:{page.number}",
            doc=str(document.document_id),
            page=page.number,
            level=level,
            departments=departments,
            fonds=document.fonds,
            series=document.series,
            batch=str(document.batch_id or ""),
            type=document.doc_type,
            language=document.language,
            ref=document.reference_code,
            title=document.title,
            text=page.text,
            chars=f"{document.title}\n{page.text}",
            **({"date": dt.datetime.combine(document.date, dt.time())} if document.date else {}),
        )
