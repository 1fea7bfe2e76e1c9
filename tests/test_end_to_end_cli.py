"""The whole path through the CLI: scans in, PDF/A and texts stored, found by a phrase. The tests marked `ocr` run
real tesseract (recognised text, confidence); the others read the pages' sidecar text through the null engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pikepdf
import pytest

from archive.hashing import sha256_file
from tests.conftest import Cli
from tests.pages import chinese_page, english_page


@pytest.fixture
def ingested(cli: Cli, tmp_path: Path) -> dict[str, object]:
    scans = tmp_path / "scans"
    pages = {"zh": chinese_page(scans), "en": english_page(scans)}
    assert cli("init").exit_code == 0
    result = cli("ingest", str(scans), "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    return {"pages": pages, "report": result.json}


def test_ingest_reports_each_file_as_one_document(ingested: dict[str, object]) -> None:
    report = ingested["report"]
    assert isinstance(report, dict)
    assert report["summary"]["done"] == 2
    assert report["summary"]["pages"] == 2
    assert sorted(job["source_name"] for job in report["jobs"]) == ["notice-zh.png", "schedule-en.jpg"]
    year = dt.date.today().year
    assert {job["reference_code"] for job in report["jobs"]} == {f"F001-{year}-Y30-0001", f"F001-{year}-Y30-0002"}


@pytest.mark.ocr
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_phrase_from_each_page_finds_it(cli: Cli, ingested: dict[str, object], language: str) -> None:
    page = ingested["pages"][language]  # type: ignore[index]
    for phrase in page.phrases:
        query = f'"{phrase}"' if " " in phrase else phrase
        result = cli("search", query, "--json")
        assert result.exit_code == 0
        titles = [hit["title"] for hit in result.json["hits"]]
        assert titles and titles[0] == page.path.stem.replace("-", " "), (phrase, result.json)
        assert result.json["hits"][0]["pages"] == [1]


def test_search_text_output_lists_reference_and_pages(cli: Cli, ingested: dict[str, object]) -> None:
    result = cli("search", "纸质档案")
    assert result.exit_code == 0
    assert "1 document(s) match" in result.stdout
    assert "(pages 1;" in result.stdout


@pytest.mark.ocr
def test_stored_objects_are_original_bytes_pdfa_and_clean_chinese_text(
    ingested: dict[str, object], tmp_path: Path
) -> None:
    from api.wiring import build_context
    from archive.models import Document
    from storage_config.settings import Settings

    context = build_context(Settings(home=tmp_path / "var"))
    try:
        with context.db.session() as session:
            documents = {d.original_filename: d for d in session.query(Document).all()}
            zh = documents["notice-zh.png"]
            objects = {o.role: o for o in zh.objects}
            assert set(objects) == {"original", "pdfa", "text"}
            original_path = ingested["pages"]["zh"].path  # type: ignore[index]
            assert objects["original"].sha256 == sha256_file(original_path)[0]
            with context.store.open_read(objects["original"].key) as stream:
                assert stream.read() == original_path.read_bytes()
            pdf_copy = tmp_path / "copy.pdf"
            with context.store.open_read(objects["pdfa"].key) as stream:
                pdf_copy.write_bytes(stream.read())
            with pikepdf.open(pdf_copy) as pdf, pdf.open_metadata() as meta:
                assert str(meta.get("pdfaid:part")) == "2"
                assert str(meta.get("pdfaid:conformance")).upper() == "B"
                assert len(pdf.pages) == 1
            page = zh.pages[0]
            assert "档案数字化" in page.text
            assert " " not in page.text.replace("\n", "")  # no spaces between Han characters
            assert page.ocr_confidence is not None and page.ocr_confidence > 50
            assert page.dpi == 300.0 and page.width_px == 2480
    finally:
        context.close()


def test_reindex_gives_the_same_results(cli: Cli, ingested: dict[str, object]) -> None:
    before = [cli("search", q, "--json").json for q in ("档案数字化", '"payroll registers"', "质量检查合格")]
    result = cli("--user", "sysadmin", "reindex", "--json")
    assert result.exit_code == 0 and result.json["documents"] == 2
    after = [cli("search", q, "--json").json for q in ("档案数字化", '"payroll registers"', "质量检查合格")]
    assert before == after


def test_ingesting_the_same_file_again_is_skipped(cli: Cli, ingested: dict[str, object]) -> None:
    page = ingested["pages"]["en"]  # type: ignore[index]
    result = cli("ingest", str(page.path), "--json")
    assert result.exit_code == 0
    assert result.json["summary"]["skipped"] == 1
    assert f"already archived as F001-{dt.date.today().year}-Y30-000" in result.json["skipped"][0]["reason"]


def test_clearance_filters_inside_the_search(cli: Cli, ingested: dict[str, object]) -> None:
    assert cli("search", "档案数字化", "--clearance", "public", "--json").json["total"] == 0
    assert cli("search", "档案数字化", "--clearance", "internal", "--json").json["total"] == 1


def test_search_filters_facets_and_pages_through_the_cli(cli: Cli, ingested: dict[str, object]) -> None:
    result = cli("search", "档案 OR payroll", "--json").json
    assert result["total"] == 2 and result["facets"]["fonds"] == {"F001": 2}
    assert set(result["facets"]["type"]) == {"png", "jpeg"}
    only_png = cli("search", "档案 OR payroll", "--type", "png", "--json").json
    assert [hit["title"] for hit in only_png["hits"]] == ["notice zh"]
    second = cli("search", "档案 OR payroll", "--limit", "1", "--page", "2", "--json").json
    assert len(second["hits"]) == 1 and second["total"] == 2
    assert cli("search", "檔案數字化", "--json").json["hits"][0]["title"] == "notice zh"  # traditional query
    bad = cli("search", "x", "--date-from", "yesterday")
    assert bad.exit_code == 2 and "is not a date; write YYYY-MM-DD, YYYY-MM or YYYY" in bad.stderr


def test_hits_carry_highlighted_snippets_per_page(cli: Cli, ingested: dict[str, object]) -> None:
    [hit] = cli("search", "纸质档案", "--json").json["hits"]
    [snippet] = hit["snippets"]
    assert snippet["page"] == 1 and "<mark" in snippet["text"] and "档案</mark>" in snippet["text"]
    [hit] = cli("search", '"payroll registers"', "--json").json["hits"]
    assert ">Payroll</mark>" in hit["snippets"][0]["text"]


def test_prefix_queries_highlight_the_words_they_expanded_to(cli: Cli, ingested: dict[str, object]) -> None:
    [hit] = cli("search", "retent*", "--json").json["hits"]
    assert ">Retention</mark> schedule" in hit["snippets"][0]["text"]


def test_suggestions_complete_titles_and_reference_codes(cli: Cli, ingested: dict[str, object]) -> None:
    offered = cli("suggest", "notice", "--json").json["suggestions"]
    assert [item["title"] for item in offered] == ["notice zh"]
    by_code = cli("suggest", f"F001-{dt.date.today().year}-Y30-000", "--json").json["suggestions"]
    assert {item["title"] for item in by_code} == {"notice zh", "schedule en"}
    assert cli("suggest", "notice", "--clearance", "public", "--json").json["suggestions"] == []  # level: internal
    text = cli("suggest", "sched")
    assert text.exit_code == 0 and "schedule en" in text.stdout


def test_switching_engines_asks_for_a_reindex_then_answers_the_same(
    cli: Cli, ingested: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = ("档案数字化", '"payroll registers"', "retent*", "title:notice")
    before = [cli("search", q, "--json").json["hits"] for q in queries]
    monkeypatch.setenv("DANGAN_SEARCH_ENGINE", "tantivy")
    refused = cli("search", "档案")
    assert refused.exit_code == 11 and "built by whoosh but the configured engine is tantivy" in refused.stderr
    assert cli("--user", "sysadmin", "reindex", "--json").json["engine"] == "tantivy"
    after = [cli("search", q, "--json").json["hits"] for q in queries]
    assert [[h["document_id"] for h in hits] for hits in after] == [[h["document_id"] for h in hits] for hits in before]
    assert [[h["snippets"] for h in hits] for hits in after] == [[h["snippets"] for h in hits] for hits in before]
