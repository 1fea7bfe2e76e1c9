"""The reference for bench_search: plain Whoosh 2.7.4 as its documentation sets it up (StandardAnalyzer, one
text field, one writer, no access filter, no grouping of pages) on the same pages and queries. What Whoosh
itself costs on this machine, before anything Dang'an adds (Han bigrams, folding, filters, facets)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import QueryParser

from search.types import IndexedDocument


def build(directory: Path, documents: Iterable[IndexedDocument]) -> tuple[int, float]:
    directory.mkdir(parents=True)
    ix = whoosh_index.create_in(str(directory), Schema(key=ID(stored=True), text=TEXT))
    writer = ix.writer(limitmb=256)
    pages, started = 0, time.perf_counter()
    for document in documents:
        for page in document.pages:
            writer.add_document(key=f"{document.document_id}:{page.number}", text=page.text)
            pages += 1
    writer.commit()
    return pages, time.perf_counter() - started


def query_times(directory: Path, queries: list[str], warm_up: list[str]) -> list[float]:
    ix = whoosh_index.open_dir(str(directory))
    parser = QueryParser("text", ix.schema)
    times = []
    with ix.searcher() as searcher:
        for query in warm_up:
            searcher.search(parser.parse(query), limit=20)
        for query in queries:
            began = time.perf_counter()
            searcher.search(parser.parse(query), limit=20)
            times.append((time.perf_counter() - began) * 1000)
    return times
