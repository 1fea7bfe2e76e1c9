"""The Whoosh engine (the default: pure Python, no native dependency).

Speed-ups, each measured by bench/bench_search.py: one shared searcher refreshed on commit; the access
filter and user filters turned into a set of allowed page numbers once per searcher and reused; document ids,
page numbers, levels, days and a digest of the facet labels read from columns, never from stored fields;
incremental commits merge small segments; a rebuild writes one segment per core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.index import Index
from whoosh.reading import ReaderClosed
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from archive.errors import SearchUnavailable
from archive.failpoints import failpoint
from search.engine import Progress, SearchIndex
from search.prepare import PreparedDocument
from search.results import FactsCache, PageMatches, day_number, labels_stamp, stored_metadata
from search.schema import build_schema
from search.types import FILED, NO_DEPARTMENT, UNFILED, UNLEVELLED, keyword_value

WRITE_LOCK_TIMEOUT = 60.0
BUILD_PROCESSES = min(4, os.cpu_count() or 1)
FILTER_CACHE_SIZE = 64  # distinct (clearance, departments, filters) combinations kept per searcher


class WhooshIndex(SearchIndex):
    engine = "whoosh"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._searcher: Searcher | None = None
        self._allowed: dict[wq.Query, set[int]] = {}  # whoosh takes a set as a filter (never mutated)
        self._facts = FactsCache()

    def _create_empty(self, directory: Path) -> None:
        whoosh_index.create_in(str(directory), build_schema(prepared=True))

    def _open(self) -> Index:
        try:
            return whoosh_index.open_dir(str(self.directory))
        except Exception as exc:  # whoosh raises many kinds on damaged segment files
            raise SearchUnavailable(
                f"the search index at {self.directory} is damaged ({exc.__class__.__name__}); run `dangan reindex`"
            ) from exc

    def _write(self, upserts: list[PreparedDocument], deletes: list[int]) -> None:
        writer = self._open().writer(timeout=WRITE_LOCK_TIMEOUT)
        try:
            for document_id in deletes:
                writer.delete_by_term("doc", document_id)
            for document in upserts:
                _add_pages(writer, document)
            failpoint("index.commit")  # the batch written, not committed
            writer.commit()  # the default merge policy folds small segments together as they accumulate
        except BaseException:
            _abandon(writer)
            raise

    def _build(self, directory: Path, documents: Iterable[PreparedDocument], progress: Progress | None) -> int:
        ix = whoosh_index.create_in(str(directory), build_schema(prepared=True))
        # Whoosh's own multi-process writer: each core builds a segment (1.6x on 2 cores, bench_search).
        writer = (
            ix.writer(procs=BUILD_PROCESSES, limitmb=128, multisegment=True)
            if BUILD_PROCESSES > 1
            else ix.writer(limitmb=256)
        )
        count = 0
        try:
            for document in documents:
                _add_pages(writer, document)
                count += 1
                if progress is not None:
                    progress(count)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def _page_count(self) -> int:
        return int(self._current_searcher().doc_count())

    def _release(self) -> None:
        searcher, self._searcher = self._searcher, None  # dropped first: a failing close must not keep it
        self._allowed.clear()
        if searcher is not None:
            with contextlib.suppress(ReaderClosed):  # a refresh may have closed some of its segments already
                searcher.close()

    def _current_searcher(self) -> Searcher:
        """Share one searcher (opening one costs ~100 ms); refresh it, and its caches, when the index changed."""
        if self._searcher is None:
            self._searcher = self._open().searcher()
            return self._searcher
        try:
            fresh = self._searcher.refresh()
        except ReaderClosed:  # whoosh's reuse of segment readers can trip over ones a merge retired: open afresh
            self._release()
            self._searcher = self._open().searcher()
            return self._searcher
        if fresh is not self._searcher:
            self._allowed.clear()
            self._searcher = fresh
        return fresh

    def _match(self, parsed: wq.Query, restrict: wq.Query, cap: int) -> PageMatches:
        searcher = self._current_searcher()
        allowed = self._allowed.get(restrict)
        if allowed is None:
            if len(self._allowed) >= FILTER_CACHE_SIZE:
                self._allowed.clear()
            allowed = self._allowed[restrict] = set(searcher.docs_for_query(restrict))
        if not allowed:  # whoosh reads an empty filter as "no filter": answer "nothing visible" here
            return PageMatches()
        top = searcher.search(parsed, filter=allowed, limit=cap).top_n  # (score, page number in the index)
        reader = searcher.reader()
        columns = [reader.column_reader(name) for name in ("doc", "page", "labels", "level", "day")]
        documents, pages, labels, levels, days = ([int(column[n]) for _, n in top] for column in columns)
        matches = PageMatches(documents, pages, [float(s) for s, _ in top], complete=len(top) < cap)
        self._facts.fill(matches, (labels, levels, days), lambda n: searcher.stored_fields(top[n][1]))
        return matches


def _abandon(writer: IndexWriter) -> None:
    """Give up a writer whose adding or commit failed (a full disk): its lock released, its temp files gone;
    the table of contents still names the last good commit, so readers never see a half-written segment."""
    if getattr(writer, "is_closed", False):
        return
    try:
        writer.cancel()
    except Exception:  # cancelling closes segment files, which may fail on the same full disk
        with contextlib.suppress(Exception):
            writer._tempstorage.destroy()
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            with contextlib.suppress(Exception):
                lock.release()
        writer.is_closed = True


def _add_pages(writer: IndexWriter, prepared: PreparedDocument) -> None:
    document = prepared.document
    departments = ",".join(document.departments) or NO_DEPARTMENT
    level = UNLEVELLED if document.level is None else document.level
    organisation_creator = stored_metadata(document)  # (organisation, creator, archival year)
    for page in prepared.pages:
        writer.add_document(
            page_key=f"{document.document_id}:{page.number}",
            doc=document.document_id,
            page=page.number,
            level=level,
            labels=labels_stamp(document),
            day=day_number(document.date),
            departments=departments,
            fonds=document.fonds,
            series=document.series,
            batch=str(document.batch_id or ""),
            filed=FILED if document.filed else UNFILED,
            type=document.doc_type,
            language=document.language,
            ref=document.reference_code,
            title=prepared.title,
            text=page.text,
            chars=page.chars,
            meta=prepared.meta,
            creator=organisation_creator[1],
            organisation=organisation_creator[0],
            docnum=keyword_value(document.document_number),
            keyword=",".join(keyword_value(k) for k in document.keywords),
            ayear=organisation_creator[2],
            **({"date": dt.datetime.combine(document.date, dt.time())} if document.date else {}),
        )
