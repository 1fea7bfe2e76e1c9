"""The tantivy engine: an embedded Rust index, selected with DANGAN_SEARCH_ENGINE=tantivy.

Text is analysed in Python by the same analyzer as the Whoosh engine (folding, Han bigrams, stems; see
search/prepare.py) and handed to tantivy as space-separated terms, so both engines index the same terms at the
same positions; queries are the same parsed tree, translated. Document ids, page numbers and levels are fast
fields (columns).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import tantivy
from whoosh import query as wq

from archive.errors import SearchUnavailable
from archive.failpoints import failpoint
from search.engine import Progress, SearchIndex
from search.prepare import PreparedDocument
from search.results import FactsCache, PageMatches, day_number, labels_stamp, stored_metadata
from search.schema import KEYWORD_FIELDS, META_KEYWORD_FIELDS
from search.tantivy_query import translate
from search.types import FILED, NO_DEPARTMENT, UNFILED, UNLEVELLED, IndexedDocument, keyword_value

TERMS = "dangan_terms"  # pre-analysed terms separated by spaces
KEYWORD = "dangan_keyword"  # one exact value, lower-cased
WRITE_LOCK_TIMEOUT = 60.0
WRITER_HEAP = 64_000_000
BUILD_HEAP = 256_000_000
STORED_META = ("creator", "organisation", "ayear")  # read back for facets


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("doc", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("page", stored=True, fast=True)
    builder.add_integer_field("level", stored=True, indexed=True, fast=True)
    builder.add_unsigned_field("labels", fast=True)  # see results.labels_stamp
    builder.add_integer_field("day", fast=True)
    builder.add_text_field("departments", tokenizer_name="raw", index_option="basic")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name=KEYWORD, index_option="basic")
    for name in META_KEYWORD_FIELDS:
        builder.add_text_field(name, stored=name in STORED_META, tokenizer_name=KEYWORD, index_option="basic")
    builder.add_text_field("batch", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("filed", tokenizer_name="raw", index_option="basic")
    builder.add_date_field("date", stored=True, indexed=True, fast=True)
    for name in ("title", "text", "meta"):
        builder.add_text_field(name, tokenizer_name=TERMS)
    builder.add_text_field("chars", tokenizer_name=TERMS, index_option="freq")
    return builder.build()


class TantivyIndex(SearchIndex):
    engine = "tantivy"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self._index: tantivy.Index | None = None
        self._generation: bytes | None = None
        self._facts = FactsCache()

    def _create_empty(self, directory: Path) -> None:
        _register(tantivy.Index(build_schema(), path=str(directory), reuse=False))

    def _open(self) -> tantivy.Index:
        if self._index is None:
            try:
                self._index = _register(tantivy.Index.open(str(self.directory)))
            except ValueError as exc:
                raise SearchUnavailable(
                    f"the search index at {self.directory} is damaged ({exc}); run `dangan reindex`"
                ) from exc
            self._generation = None
        return self._index

    def _page_count(self) -> int:
        return int(self._searcher().num_docs)

    def _release(self) -> None:
        self._index = None
        self._generation = None

    def _write(self, upserts: list[PreparedDocument], deletes: list[int]) -> None:
        index = self._open()
        writer = _writer(index, WRITER_HEAP, 1)
        try:
            schema = index.schema
            for document_id in deletes:  # (delete by term takes a Python int as i64, missing u64 ids)
                writer.delete_documents_by_query(tantivy.Query.term_query(schema, "doc", document_id))
            for document in upserts:
                self._add_pages(writer, document)
            failpoint("index.commit")  # the batch written, not committed
        except BaseException:
            writer.rollback()
            raise
        writer.commit()
        writer.wait_merging_threads()

    def _build(self, directory: Path, documents: Iterable[PreparedDocument], progress: Progress | None) -> int:
        index = _register(tantivy.Index(build_schema(), path=str(directory), reuse=False))
        writer = _writer(index, BUILD_HEAP, 0)
        count = 0
        for document in documents:
            self._add_pages(writer, document)
            count += 1
            if progress is not None:
                progress(count)
        writer.commit()
        writer.wait_merging_threads()
        return count

    def _add_pages(self, writer: tantivy.IndexWriter, prepared: PreparedDocument) -> None:
        document = prepared.document
        level = UNLEVELLED if document.level is None else document.level
        labels = labels_stamp(document)
        meta_values = _meta_values(document)
        for page in prepared.pages:
            page_doc = tantivy.Document()
            page_doc.add_unsigned("doc", document.document_id)
            page_doc.add_unsigned("page", page.number)
            page_doc.add_integer("level", level)
            page_doc.add_unsigned("labels", labels)
            page_doc.add_integer("day", day_number(document.date))
            for department in document.departments or (NO_DEPARTMENT,):
                page_doc.add_text("departments", department)
            for name, value in zip(
                KEYWORD_FIELDS,
                (document.fonds, document.series, document.doc_type, document.language, document.reference_code),
                strict=True,
            ):
                if value:
                    page_doc.add_text(name, value)
            page_doc.add_text("batch", str(document.batch_id or ""))
            page_doc.add_text("filed", FILED if document.filed else UNFILED)
            if document.date is not None:
                page_doc.add_date("date", dt.datetime.combine(document.date, dt.time(), tzinfo=dt.UTC))
            page_doc.add_text("title", prepared.title)
            page_doc.add_text("text", page.text)
            page_doc.add_text("chars", page.chars)
            page_doc.add_text("meta", prepared.meta)
            for name, values in meta_values:
                for value in values:
                    page_doc.add_text(name, value)
            writer.add_document(page_doc)

    def _searcher(self) -> tantivy.Searcher:
        """Reload when a commit (of any process) changed the index's meta file; facts are cached until then."""
        index = self._open()
        generation = (self.directory / "meta.json").read_bytes()  # a few KB; names segments and the opstamp
        if generation != self._generation:
            index.reload()
            self._generation = generation
        return index.searcher()

    def _match(self, parsed: wq.Query, restrict: wq.Query, cap: int) -> PageMatches:
        searcher = self._searcher()
        schema = self._open().schema
        filtered = tantivy.Query.const_score_query(translate(restrict, schema), 0.0)
        must = tantivy.Occur.Must
        query = tantivy.Query.boolean_query([(must, translate(parsed, schema)), (must, filtered)])
        hits = searcher.search(query, limit=cap, count=False).hits
        addresses = [address for _, address in hits]
        documents, pages, labels, levels, days = (
            cast(list[int], searcher.fast_field_values(name, addresses))  # every page has all five columns
            for name in ("doc", "page", "labels", "level", "day")
        )
        matches = PageMatches(documents, pages, [score for score, _ in hits], complete=len(hits) < cap)
        self._facts.fill(matches, (labels, levels, days), lambda n: searcher.doc(addresses[n]).to_dict())
        return matches


def _meta_values(document: IndexedDocument) -> list[tuple[str, list[str]]]:
    """The descriptive keyword fields' values, as the Whoosh engine indexes them (search/types.keyword_value)."""
    organisation, creator, year = stored_metadata(document)
    keywords = [keyword_value(k) for k in document.keywords]
    values = {"creator": [creator], "organisation": [organisation], "ayear": [year], "keyword": keywords}
    values["docnum"] = [keyword_value(document.document_number)]
    return [(name, [v for v in values[name] if v]) for name in META_KEYWORD_FIELDS]


def _register(index: tantivy.Index) -> tantivy.Index:
    index.register_tokenizer(TERMS, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    keyword = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase()).build()
    index.register_tokenizer(KEYWORD, keyword)
    return index


def _writer(index: tantivy.Index, heap: int, threads: int) -> tantivy.IndexWriter:
    """Tantivy allows one writer per index across processes: wait for another process's commit to finish."""
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    while True:
        try:
            return index.writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
