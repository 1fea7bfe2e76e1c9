"""What every search engine does the same way: the version file, the swap-in rebuild, the query window,
result assembly and suggestions. An engine supplies storage (create, write, build) and matching.

The index is derived data: `rebuild` builds a fresh one beside the live one and swaps it in, so searches keep
answering during a rebuild. A missing, corrupt, outdated or other-engine index raises SearchUnavailable (never
partial results) until it is rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import query as wq

from archive.access import SearchScope
from archive.diskfull import disk_full, free_bytes, full_message
from archive.errors import DanganError, InsufficientStorage, SearchUnavailable
from archive.failpoints import failpoint
from search.prepare import PreparedDocument, prepare, prepare_all
from search.query import check_window, parse, restriction, suggestion_query
from search.results import PageMatches, assemble
from search.snippets import highlight_terms, snippet
from search.types import SCHEMA_VERSION, IndexedDocument, IndexStats, SearchFilters, SearchResults

VERSION_FILE = "dangan-index.json"
NO_SPACE_WORDS = ("No space left on device", "Disk quota exceeded")  # what a native engine's error says
MAX_PAGE_HITS = 5000  # page matches one search collects, best first; beyond it totals are a lower bound
Progress = Callable[[int], None]
Current = Callable[[], tuple[list[IndexedDocument], list[int]]]  # (entries to upsert, ids to delete)


class SearchIndex(ABC):
    """One per process and directory. Writes are serialised here (a thread lock) and across the processes of
    an installation by a lock file beside the index directory, so one writer at a time writes it, in the order
    the writers took the lock; readers notice another process's commit or rebuild on their next search."""

    engine: str

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._opened_version: tuple[int, int] | None = None

    # -- engine hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _create_empty(self, directory: Path) -> None: ...

    @abstractmethod
    def _write(self, upserts: list[PreparedDocument], deletes: list[int]) -> None:
        """Delete these documents' pages, add the upserts' pages, commit once (or not at all)."""

    @abstractmethod
    def _build(self, directory: Path, documents: Iterable[PreparedDocument], progress: Progress | None) -> int: ...

    @abstractmethod
    def _match(self, parsed: wq.Query, restrict: wq.Query, cap: int) -> PageMatches:
        """Best-first page matches (at most `cap`) with the facts of their documents."""

    @abstractmethod
    def _page_count(self) -> int:
        """How many pages the live index holds."""

    @abstractmethod
    def _release(self) -> None:
        """Drop open readers (the directory was swapped or damaged)."""

    # -- life cycle -------------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.directory / VERSION_FILE).exists()

    def create(self) -> None:
        """Create an empty index if there is none (used by `dangan init`)."""
        if not self.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._create_empty(self.directory)
            self._write_version(self.directory)

    def close(self) -> None:
        with self._read_lock:
            self._release()
            self._opened_version = None

    def _check(self) -> None:
        """Raise SearchUnavailable unless the directory holds this engine's index at this schema version;
        drop readers when another process rebuilt it since they were opened."""
        path = self.directory / VERSION_FILE
        try:
            stat = path.stat()
            recorded = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise SearchUnavailable(
                f"the search index at {self.directory} is missing; run `dangan reindex` to rebuild it"
            ) from exc
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(
                f"the search index version file is unreadable ({exc}); run `dangan reindex`"
            ) from exc
        if not isinstance(recorded, dict) or recorded.get("schema_version") != SCHEMA_VERSION:
            found = recorded.get("schema_version") if isinstance(recorded, dict) else recorded
            raise SearchUnavailable(
                f"the search index has schema version {found}, this release needs {SCHEMA_VERSION}; "
                "run `dangan reindex`"
            )
        built_by = recorded.get("engine", "whoosh")
        if built_by != self.engine:
            raise SearchUnavailable(
                f"the search index was built by {built_by} but the configured engine is {self.engine}; "
                "run `dangan reindex` (or set DANGAN_SEARCH_ENGINE back)"
            )
        version = (stat.st_ino, stat.st_mtime_ns)
        if version != self._opened_version:
            self._release()
            self._opened_version = version

    def _check_between_searches(self) -> None:
        """`_check` may drop readers: never while a search is using them."""
        with self._read_lock:
            self._check()

    def _write_version(self, directory: Path) -> None:
        body = json.dumps({"schema_version": SCHEMA_VERSION, "engine": self.engine})
        temporary = directory / (VERSION_FILE + ".tmp")
        temporary.write_text(body)
        os.replace(temporary, directory / VERSION_FILE)

    # -- writing ----------------------------------------------------------------------------------
    @contextmanager
    def _no_space(self, what: str = "this update") -> Iterator[None]:
        """A full disk under the index is InsufficientStorage naming it (the engine's writer was abandoned:
        the last good commit stays what readers see; documents not indexed yet are indexed on the next try)."""
        try:
            yield
        except DanganError:
            raise
        except Exception as exc:
            full = disk_full(exc, place="search index", path=self.directory, what=what)
            if full is None and any(words in str(exc) for words in NO_SPACE_WORDS):
                message = full_message("search index", self.directory, free=free_bytes(self.directory), needed=None)
                full = InsufficientStorage(message, place="search index")
            if full is None:
                raise
            raise full from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The installation's one index writer: this thread, in this process, until the block ends."""
        with self._write_lock:
            lock_file = self.directory.with_name(f".{self.directory.name}.writer.lock")
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            with lock_file.open("a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or the process dies
                yield

    def upsert(self, documents: Iterable[IndexedDocument]) -> None:
        """Replace these documents' pages; the batch commits as a unit or not at all."""
        batch = list(documents)
        if not batch:
            return  # nothing to write: no commit, and readers keep their caches
        with self._no_space(), self._writing():
            self._check_between_searches()
            self._write([prepare(d) for d in batch], [d.document_id for d in batch])
            failpoint("index.committed")

    def delete(self, document_ids: Iterable[int]) -> None:
        ids = list(document_ids)
        if not ids:
            return
        with self._no_space(), self._writing():
            self._check_between_searches()
            self._write([], ids)

    def sync(self, current: Current) -> None:
        """Write what `current` reads from the catalogue *now*, holding the writer lock while it reads.

        Of two processes that changed the same record one after the other, the one that indexes last also
        read last, so the index ends with the catalogue's last state, whichever process committed first."""
        with self._no_space(), self._writing():
            upserts, deletes = current()
            if not upserts and not deletes:
                return
            self._check_between_searches()
            self._write([prepare(d) for d in upserts], sorted({d.document_id for d in upserts} | set(deletes)))
            failpoint("index.committed")

    def rebuild(self, documents: Iterable[IndexedDocument], progress: Progress | None = None) -> int:
        """Build a fresh index beside the live one, then swap it in; returns the number of documents."""
        staging = self.directory.with_name(self.directory.name + ".rebuild")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with self._no_space("this rebuild"):
                count = self._build(staging, prepare_all(documents), progress)
                self._write_version(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        failpoint("index.rebuild_built")  # the new index complete beside the live one
        with self._writing(), self._read_lock:
            self._release()
            self._opened_version = None
            retired = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(retired, ignore_errors=True)
            if self.directory.exists():
                self.directory.rename(retired)
            failpoint("index.rebuild_swapping")  # the live index moved aside, the new one not yet in place
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
        check_window(page, limit, sort)
        parsed = parse(query_text)
        matches = self._guarded_match(parsed, restriction(scope, filters), MAX_PAGE_HITS)
        return assemble(query_text, matches, limit=limit, page=page, sort=sort)

    def suggest(self, typed: str, *, scope: SearchScope, limit: int = 8) -> list[int]:
        """Ids of visible documents whose title or reference code completes `typed`, best first."""
        query = suggestion_query(typed)
        if query is None:
            return []
        matches = self._guarded_match(query, restriction(scope, None), limit * 10)
        return list(dict.fromkeys(matches.documents))[:limit]  # distinct, best first

    def snippets(self, query_text: str, page_texts: dict[tuple[int, int], str]) -> dict[tuple[int, int], str]:
        """Highlighted fragments of the given pages' text for this query (texts come from the catalogue)."""
        terms, prefixes = highlight_terms(parse(query_text))
        return {key: snippet(text, terms, prefixes) for key, text in page_texts.items()}

    def stats(self) -> IndexStats:
        """The live index's pages and bytes on disk; SearchUnavailable when it is missing, outdated or damaged."""
        with self._read_lock:
            self._check()
            try:
                pages = self._page_count()
            except DanganError:
                raise
            except Exception as exc:  # engines raise many kinds on damaged files
                self._release()
                raise SearchUnavailable(f"the search index could not be read ({exc.__class__.__name__})") from exc
        size = 0
        for path in self.directory.rglob("*"):
            with contextlib.suppress(OSError):  # a merge may retire a segment file while we count
                size += path.stat().st_size if path.is_file() else 0
        return IndexStats(engine=self.engine, pages=pages, bytes=size)

    def _guarded_match(self, parsed: wq.Query, restrict: wq.Query, cap: int) -> PageMatches:
        with self._read_lock:
            self._check()
            try:
                return self._match(parsed, restrict, cap)
            except DanganError:
                raise
            except Exception as exc:  # engines raise many kinds on damaged files
                self._release()
                raise SearchUnavailable(
                    f"the search index at {self.directory} could not be read ({exc.__class__.__name__}: {exc}); "
                    "run `dangan reindex`"
                ) from exc
