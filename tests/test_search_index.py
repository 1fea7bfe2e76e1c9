"""The search index on its own: the CJK analyzer, the access filter inside the query, schema and damage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from archive.access import Principal, SearchScope, search_scope
from archive.errors import QueryError, SearchUnavailable
from archive.values import AccessLevel, Role
from search.analysis import tokens_of
from search.index import ENGINES, VERSION_FILE, SearchIndex, open_index
from search.types import SCHEMA_VERSION, IndexedDocument, PageText, SearchFilters
from tests.actors import SYSADMIN

ZH = "城市建设档案馆全年接收工程档案一千二百卷，完成历史档案数字化四十万页。"
EN = "The committee approved the repair of the east reading room roof."


def doc(document_id: int, level: int | None, *pages: str, title: str = "t") -> IndexedDocument:
    """A filed record (staff see filed records only; the workflow tests below make unfiled ones)."""
    return IndexedDocument(
        document_id,
        f"F-{document_id}",
        title,
        "F001",
        level,
        (),
        tuple(PageText(n, text) for n, text in enumerate(pages, start=1)),
        filed=True,
    )


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """Every test here runs on both engines: this module is their shared contract."""
    return str(request.param)


@pytest.fixture
def index(tmp_path: Path, engine: str) -> SearchIndex:
    ix = open_index(tmp_path / "index", engine)
    ix.create()
    ix.upsert([doc(1, 1, EN, ZH, title="Annual report"), doc(2, 3, "密件 档案馆 secret plans"), doc(3, None, ZH)])
    return ix


ADMIN = search_scope(SYSADMIN)  # the system administrator: unlevelled and unfiled records too, for repair


def staff(level: AccessLevel) -> Principal:
    return Principal("s", frozenset({Role.STAFF}), level)


def archivist(level: AccessLevel) -> Principal:
    """Sees work in progress (unfiled records) within the same clearance."""
    return Principal("a", frozenset({Role.ARCHIVIST}), level)


def test_han_runs_become_bigrams_with_sequential_positions() -> None:
    assert [t for t, _, _ in tokens_of("档案管理 Records")] == ["档案", "案管", "管理", "Records"]
    assert [t for t, _, _ in tokens_of("档案\n管 理")] == ["档案", "案管", "管理"]  # OCR line breaks inside a run
    assert [t for t, _, _ in tokens_of("字")] == ["字"]
    assert [t for t, _, _ in tokens_of("ＡＢＣ１２")] == ["ABC12"]  # full-width folds to ASCII
    assert [t for t, _, _ in tokens_of("檔案")] == ["档案"]  # traditional folds to simplified


def test_every_han_substring_of_two_or_more_finds_its_page(index: SearchIndex) -> None:
    rng = random.Random(5)
    run = "城市建设档案馆全年接收工程档案一千二百卷"
    for _ in range(25):
        start = rng.randrange(len(run) - 2)
        substring = run[start : start + rng.randrange(2, 8)]
        result = index.search(substring, scope=ADMIN)
        assert 1 in [hit.document_id for hit in result.hits], substring
        assert next(hit for hit in result.hits if hit.document_id == 1).pages == (2,)


def test_traditional_and_simplified_find_each_other(tmp_path: Path, engine: str) -> None:
    ix = open_index(tmp_path / "folding", engine)
    ix.create()
    ix.upsert([doc(1, 0, "臺灣省檔案館歷史檔案數位化"), doc(2, 0, "城市建设档案馆")])
    assert [h.document_id for h in ix.search("台湾省档案馆", scope=ADMIN).hits] == [1]  # simplified query
    assert [h.document_id for h in ix.search("城市建設檔案館", scope=ADMIN).hits] == [2]  # traditional query
    assert ix.search("歷史檔案", scope=ADMIN).total_documents == 1


def test_one_character_queries_find_any_page_with_that_character(index: SearchIndex) -> None:
    assert {h.document_id for h in index.search("馆", scope=ADMIN).hits} == {1, 2, 3}
    assert {h.document_id for h in index.search("密", scope=ADMIN).hits} == {2}
    assert {h.document_id for h in index.search("館", scope=ADMIN).hits} == {1, 2, 3}  # traditional form too
    assert index.search("馆 AND secret", scope=ADMIN).total_documents == 1
    assert index.search("鑫", scope=ADMIN).total_documents == 0


def test_english_stems_and_prefixes(index: SearchIndex) -> None:
    assert [h.document_id for h in index.search("approving", scope=ADMIN).hits] == [1]  # approved ~ approving
    assert [h.document_id for h in index.search("rooms", scope=ADMIN).hits] == [1]
    assert [h.document_id for h in index.search("commit*", scope=ADMIN).hits] == [1]  # committee
    assert [h.document_id for h in index.search('"approved the repairs"', scope=ADMIN).hits] == [1]


def test_phrase_words_and_operators(index: SearchIndex) -> None:
    assert [h.document_id for h in index.search('"reading room"', scope=ADMIN).hits] == [1]
    assert index.search('"room reading"', scope=ADMIN).total_documents == 0
    assert index.search("ROOF", scope=ADMIN).hits[0].pages == (1,)
    assert {h.document_id for h in index.search("roof OR secret", scope=ADMIN).hits} == {1, 2}
    assert index.search("档案馆 NOT secret", scope=ADMIN).total_documents == 2
    assert [h.document_id for h in index.search("title:annual", scope=ADMIN).hits] == [1]


def test_access_filter_is_inside_the_query(index: SearchIndex) -> None:
    assert {h.document_id for h in index.search("档案馆", scope=ADMIN).hits} == {1, 2, 3}
    internal = index.search("档案馆", scope=search_scope(staff(AccessLevel.INTERNAL)))
    assert [h.document_id for h in internal.hits] == [1] and internal.total_documents == 1
    secret = index.search("档案馆", scope=search_scope(staff(AccessLevel.TOP_SECRET)))
    assert {h.document_id for h in secret.hits} == {1, 2}  # no level: admins only
    assert index.search("secret", scope=search_scope(staff(AccessLevel.PUBLIC))).total_documents == 0


def test_updates_and_deletes_are_visible_to_the_next_search(index: SearchIndex) -> None:
    scope = search_scope(staff(AccessLevel.INTERNAL))
    assert index.search("档案馆", scope=scope).total_documents == 1
    index.upsert([doc(1, 4, EN, ZH)])  # re-levelled to top secret
    assert index.search("档案馆", scope=scope).total_documents == 0
    index.delete([2])
    assert {h.document_id for h in index.search("档案馆", scope=ADMIN).hits} == {1, 3}


@pytest.mark.parametrize("query", ["", "   ", "(((", "---"])
def test_malformed_queries_are_query_errors(index: SearchIndex, query: str) -> None:
    with pytest.raises(QueryError):
        index.search(query, scope=ADMIN)


def test_missing_index_is_unavailable_not_empty(tmp_path: Path, engine: str) -> None:
    with pytest.raises(SearchUnavailable, match="missing; run `dangan reindex`"):
        open_index(tmp_path / "nowhere", engine).search("x", scope=ADMIN)


def test_an_index_built_by_the_other_engine_asks_for_a_rebuild(index: SearchIndex, engine: str) -> None:
    other = next(name for name in ENGINES if name != engine)
    with pytest.raises(SearchUnavailable, match=f"built by {engine} but the configured engine is {other}"):
        open_index(index.directory, other).search("roof", scope=ADMIN)


def test_schema_version_mismatch_asks_for_a_rebuild(index: SearchIndex) -> None:
    (index.directory / VERSION_FILE).write_text('{"schema_version": 0}')
    index.close()
    expected = f"schema version 0, this release needs {SCHEMA_VERSION}; run `dangan reindex`"
    with pytest.raises(SearchUnavailable, match=expected):
        index.search("roof", scope=ADMIN)


def test_corrupt_segments_make_search_unavailable_until_rebuilt(index: SearchIndex) -> None:
    index.close()
    for path in index.directory.iterdir():
        if path.is_file() and path.name != VERSION_FILE:
            path.write_bytes(b"\x00garbage" * 4)
    with pytest.raises(SearchUnavailable, match="run `dangan reindex`"):
        index.search("roof", scope=ADMIN)
    index.rebuild([doc(1, 1, EN)])
    assert index.search("roof", scope=ADMIN).total_documents == 1


def test_rebuild_matches_incremental(index: SearchIndex, tmp_path: Path) -> None:
    queries = ["档案馆", '"reading room"', "secret", "档案数字化"]
    before = [index.search(q, scope=ADMIN) for q in queries]
    count = index.rebuild(
        [doc(1, 1, EN, ZH, title="Annual report"), doc(2, 3, "密件 档案馆 secret plans"), doc(3, None, ZH)]
    )
    assert count == 3
    assert [index.search(q, scope=ADMIN) for q in queries] == before


def catalogue_like(tmp_path: Path, engine: str) -> SearchIndex:
    ix = open_index(tmp_path / "facets", engine)
    ix.create()
    ix.upsert([dataclasses.replace(d, filed=True) for d in catalogue_documents()])  # filed records
    return ix


def catalogue_documents() -> list[IndexedDocument]:
    return [
        IndexedDocument(
            11,
            "A1-2020-Y30-0001",
            "Budget letter",
            "A1",
            1,
            (),
            (PageText(1, "档案 budget 2020"),),
            series="WS",
            batch_id=5,
            date=dt.date(2020, 3, 1),
            doc_type="tiff",
            language="chi_sim+eng",
        ),
        IndexedDocument(
            12,
            "A1-2021-Y30-0002",
            "Budget memo",
            "A1",
            0,
            (),
            (PageText(1, "档案 budget 2021"),),
            series="KJ",
            batch_id=5,
            date=dt.date(2021, 6, 1),
            doc_type="pdf",
            language="eng",
        ),
        IndexedDocument(
            13,
            "B2-2019-Y10-0001",
            "Budget plan",
            "B2",
            3,
            (),
            (PageText(1, "档案 budget 2019"),),
            series="WS",
            batch_id=6,
            date=dt.date(2019, 1, 1),
            doc_type="tiff",
            language="eng",
        ),
    ]


def test_filters_facets_sort_and_pages(tmp_path: Path, engine: str) -> None:
    ix = catalogue_like(tmp_path, engine)
    internal = search_scope(staff(AccessLevel.INTERNAL))
    result = ix.search("budget", scope=internal)
    assert result.total_documents == 2  # the secret one is neither counted nor faceted
    assert result.facets["fonds"] == {"A1": 2} and result.facets["level"] == {"internal": 1, "public": 1}
    assert result.facets["year"] == {"2020": 1, "2021": 1} and result.facets["type"] == {"pdf": 1, "tiff": 1}
    by_date = ix.search("budget", scope=ADMIN, sort="date")
    assert [h.document_id for h in by_date.hits] == [12, 11, 13]
    second = ix.search("budget", scope=ADMIN, sort="date", limit=1, page=2)
    assert [h.document_id for h in second.hits] == [11] and second.total_documents == 3
    assert {h.document_id for h in ix.search("budget", scope=ADMIN, filters=SearchFilters(series="WS")).hits} == {
        11,
        13,
    }
    window = SearchFilters(date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31))
    assert [h.document_id for h in ix.search("档案", scope=ADMIN, filters=window).hits] == [11]
    assert [h.document_id for h in ix.search("budget", scope=ADMIN, filters=SearchFilters(batch_id=6)).hits] == [13]
    assert [h.document_id for h in ix.search("budget", scope=ADMIN, filters=SearchFilters(level=0)).hits] == [12]


def filed_only(principal: Principal) -> SearchScope:
    """Staff's scope: search_scope sets filed_only from the permission table."""
    scope = search_scope(principal)
    assert scope.filed_only
    return scope


def test_a_filed_only_scope_never_reaches_unfiled_documents(tmp_path: Path, engine: str) -> None:
    """Hits, totals, facets and suggestions alike: work in progress is not there for staff."""
    ix = open_index(tmp_path / "workflow", engine)
    ix.create()
    budget_letter, budget_memo, budget_plan = catalogue_documents()
    ix.upsert([dataclasses.replace(budget_letter, filed=True), budget_memo, budget_plan])
    reader = filed_only(staff(AccessLevel.SECRET))
    result = ix.search("budget", scope=reader)
    assert [h.document_id for h in result.hits] == [11] and result.total_documents == 1
    assert result.facets["fonds"] == {"A1": 1} and result.facets["series"] == {"WS": 1}
    assert result.facets["year"] == {"2020": 1} and result.facets["level"] == {"internal": 1}
    assert ix.search("budget", scope=reader, filters=SearchFilters(fonds="A1")).total_documents == 1
    assert ix.search("档案 OR memo OR plan", scope=reader).total_documents == 1
    assert ix.suggest("Budget", scope=reader) == [11]
    assert ix.suggest("A1-2021", scope=reader) == []
    in_progress = search_scope(archivist(AccessLevel.SECRET))  # filed_only off: work in progress too
    assert ix.search("budget", scope=in_progress).total_documents == 3
    assert set(ix.suggest("Budget", scope=in_progress)) == {11, 12, 13}
    assert ix.search("budget", scope=filed_only(staff(AccessLevel.PUBLIC))).total_documents == 0  # 11 is internal


def test_a_document_filed_by_an_upsert_is_visible_to_the_next_search(tmp_path: Path, engine: str) -> None:
    ix = open_index(tmp_path / "workflow", engine)
    ix.create()
    ix.upsert(catalogue_documents())
    reader = filed_only(staff(AccessLevel.SECRET))
    assert ix.search("budget", scope=reader).total_documents == 0  # nothing filed: nothing at all
    assert ix.suggest("budget", scope=reader) == []
    assert ix.search("budget", scope=search_scope(archivist(AccessLevel.SECRET))).total_documents == 3
    ix.upsert([dataclasses.replace(d, filed=True) for d in catalogue_documents()[:2]])  # the batch is filed
    assert {h.document_id for h in ix.search("budget", scope=reader).hits} == {11, 12}
    assert set(ix.suggest("budget", scope=reader)) == {11, 12}
    assert ix.search("budget", scope=reader).facets["fonds"] == {"A1": 2}
    filed = [dataclasses.replace(d, filed=True) for d in catalogue_documents()[:2]] + catalogue_documents()[2:]
    ix.rebuild(filed)  # a reindex keeps the flag
    assert {h.document_id for h in ix.search("budget", scope=reader).hits} == {11, 12}
    ix.upsert([catalogue_documents()[0]])  # back to unfiled (e.g. re-opened): gone at once
    assert [h.document_id for h in ix.search("budget", scope=reader).hits] == [12]


def test_fielded_terms_and_date_ranges(tmp_path: Path, engine: str) -> None:
    ix = catalogue_like(tmp_path, engine)
    assert [h.document_id for h in ix.search("ref:A1-2021-Y30-0002", scope=ADMIN).hits] == [12]
    assert {h.document_id for h in ix.search("fonds:a1", scope=ADMIN).hits} == {11, 12}
    assert [h.document_id for h in ix.search("series:KJ", scope=ADMIN).hits] == [12]
    assert {h.document_id for h in ix.search("type:tiff AND budget", scope=ADMIN).hits} == {11, 13}
    assert [h.document_id for h in ix.search("date:[2020-01-01 to 2020-12-31]", scope=ADMIN).hits] == [11]
    assert [h.document_id for h in ix.search("title:memo", scope=ADMIN).hits] == [12]
    with pytest.raises(QueryError):
        ix.search("date:[yesterday-ish to whenever]", scope=ADMIN)
    with pytest.raises(QueryError):
        ix.search("budget", scope=ADMIN, sort="colour")


def test_a_batch_commits_as_a_unit_or_not_at_all(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's writer fails on the second document of a batch: none of the batch is visible."""
    import search.tantivy_index
    import search.whoosh_index

    added: list[int] = []

    def failing(real: Any) -> Any:
        def add(*args: Any) -> Any:
            prepared = args[-1]
            added.append(prepared.document.document_id)
            if prepared.document.document_id == 5:
                raise OSError("no space left on device")
            return real(*args)

        return add

    monkeypatch.setattr(search.whoosh_index, "_add_pages", failing(search.whoosh_index._add_pages))
    tantivy_add = search.tantivy_index.TantivyIndex._add_pages
    monkeypatch.setattr(search.tantivy_index.TantivyIndex, "_add_pages", failing(tantivy_add))
    with pytest.raises(OSError, match="no space"):
        index.upsert([doc(4, 0, "batch alpha page"), doc(5, 0, "batch beta page"), doc(1, 0, "replaced text")])
    assert added == [4, 5]  # the fault struck half-way
    assert index.search("batch", scope=ADMIN).total_documents == 0
    assert index.search("roof", scope=ADMIN).total_documents == 1  # document 1 still has its old text
    monkeypatch.undo()
    index.upsert([doc(4, 0, "batch alpha page"), doc(6, 0, "batch gamma page")])
    assert {h.document_id for h in index.search("batch", scope=ADMIN).hits} == {4, 6}


def test_two_index_objects_on_one_directory_take_turns_writing(index: SearchIndex, engine: str) -> None:
    """Like the server and a CLI command: each sees the other's commits on its next search."""
    other = open_index(index.directory, engine)
    other.upsert([doc(7, 0, "written by the other process")])
    assert [h.document_id for h in index.search("other process", scope=ADMIN).hits] == [7]
    index.delete([7])
    assert other.search("other process", scope=ADMIN).total_documents == 0
