"""Analysis before indexing: each page's text, title and single characters become space-separated terms.

The analyzer is Python and is most of the cost of indexing, so a rebuild runs it in worker processes (one
per core) while the engine indexes what they return; both engines then index the very same terms.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from whoosh.analysis import Analyzer

from search.analysis import analysed_terms, archive_analyzer, han_char_analyzer
from search.types import IndexedDocument

PARALLEL_FROM = 200  # documents; below this, starting worker processes costs more than it saves
CHUNK = 8


@dataclass(frozen=True)
class PreparedPage:
    number: int
    text: str  # terms of the page text
    chars: str  # single Han characters of title and text


@dataclass(frozen=True)
class PreparedDocument:
    document: IndexedDocument  # metadata only: its page texts are dropped once analysed
    title: str
    pages: tuple[PreparedPage, ...]
    meta: str = ""  # terms of the descriptive metadata text


@functools.cache
def _analyzers() -> tuple[Analyzer, Analyzer]:
    return archive_analyzer(), han_char_analyzer()


def prepare(document: IndexedDocument) -> PreparedDocument:
    text, chars = _analyzers()
    pages = tuple(
        PreparedPage(
            page.number, analysed_terms(page.text, text), analysed_terms(f"{document.title}\n{page.text}", chars)
        )
        for page in document.pages
    )
    meta = analysed_terms(document.meta_text, text) if document.meta_text else ""
    return PreparedDocument(
        dataclasses.replace(document, pages=(), meta_text=""), analysed_terms(document.title, text), pages, meta
    )


def prepare_all(documents: Iterable[IndexedDocument], workers: int | None = None) -> Iterator[PreparedDocument]:
    """In order; in parallel worker processes when there are enough documents to pay for starting them."""
    workers = workers or os.cpu_count() or 1
    source = iter(documents)
    head = list(itertools.islice(source, PARALLEL_FROM))
    if workers < 2 or len(head) < PARALLEL_FROM:
        yield from map(prepare, itertools.chain(head, source))
        return
    with multiprocessing.get_context("forkserver").Pool(workers) as pool:
        yield from pool.imap(prepare, itertools.chain(head, source), chunksize=CHUNK)
