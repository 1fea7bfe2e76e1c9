"""DA/T 70-2018 four-property checks on a real filed batch (null OCR engine, real SQLite, real local store,
real fido, Pillow and pikepdf): the clean batch passes every check (ClamAV's scan is "not run" when ClamAV is not
installed, never a pass); then faults go in through real seams — an object's bytes flipped in the store, a page
row deleted or two pages' numbers swapped, a title blanked, an original replaced by bytes that do not open, a
level removed, the filing event's target altered — and the check that watches for each fails, through the use
case, the CLI (exit codes 0 / 10 / 9 like `dangan verify`) and the HTTP routes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.dat70 import Dat70Service
from api.wiring import Context
from archive.errors import ExitCode, NotFound, PermissionDenied
from archive.models import Dat70Run, Document, Page, StoredObject
from archive.preservation.dat70 import CODES
from tests.actors import ARCHIVIST, REVIEWER, STAFF, bearer, principal
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

SYSADMIN = principal("sysadmin")
CLAMAV = shutil.which("clamdscan") or shutil.which("clamscan")
MANIFEST = (
    "item,title,date,pages,file\n"
    "1,Notice of digitisation,2023-03-01,1,notice.png\n"
    "2,Register of deeds,2023-04-02,3,register\n"
    "3,Schedule,2023-05-03,1,schedule.jpg\n"
)


def scans(folder: Path) -> Path:
    render(folder, "notice.png", "Notice of the digitisation of the records office", "eng", seed=3)
    render(folder, "schedule.jpg", "Schedule of transfers to the archive in spring", "eng", seed=4)
    for number in (1, 2, 3):
        page = render(
            folder / "register", f"p{number}.png", f"Register of deeds, page {number} of three", "eng", seed=10 + number
        )
        if number == 2:  # a page of another shape, so that an order swap shows in the access copy
            with Image.open(page) as image:
                image.crop((0, 0, image.width, image.height * 3 // 4)).save(page, dpi=(300, 300))
    return folder


@pytest.fixture
def filed(tmp_path: Path) -> Iterator[tuple[Context, int, dict[str, Any]]]:
    context = make_context(tmp_path / "var")
    batch_id = (
        BatchService(context)
        .create(actor=ARCHIVIST, fonds="DAT", languages="eng", level="internal", manifest_text=MANIFEST)
        .id
    )
    outcome = ingest_paths(context, [scans(tmp_path / "scans")], actor=ARCHIVIST, batch_id=batch_id)
    assert outcome.exit_code() == 0, outcome.as_json()
    filing = file_batch(context, batch_id)
    yield context, batch_id, filing
    context.close()


def results(report: Any) -> dict[str, str]:
    return {check.code: check.result for check in report.checks}


def failing(report: Any) -> set[str]:
    return {code for code, result in results(report).items() if result == "failed"}


def expected_clean(report: Any) -> None:
    outcome = results(report)
    assert set(outcome) == set(CODES) and len(CODES) == 25
    virus = "passed" if CLAMAV else "not_run"
    assert outcome.pop("sec.virus_scan") == virus, report.findings
    assert set(outcome.values()) == {"passed"}, [f.message for f in report.findings]
    assert report.grade.value == ("clean" if CLAMAV else "warnings")


def document_of(context: Context, item: int) -> Document:
    with context.db.session() as session:
        document = session.query(Document).filter_by(item_number=item).one()
        _ = document.objects, document.all_pages
        return document


def test_a_clean_filed_batch_passes_every_check_and_filing_stored_the_report(
    filed: tuple[Context, int, dict[str, Any]],
) -> None:
    context, batch_id, filing = filed
    assert filing["status"] == "filed" and filing["dat70"]["run_id"] is not None, filing
    assert filing["dat70"]["grade"] == ("clean" if CLAMAV else "warnings")
    service = Dat70Service(context)
    stored = service.run(ARCHIVIST, filing["dat70"]["run_id"])
    assert stored.trigger == "filing" and stored.scope == "batch" and stored.subject_id == batch_id
    expected_clean(stored)
    assert stored.documents == 3 and stored.objects >= 3 * 3
    checked = {check.code: check.checked for check in stored.checks}
    assert checked["auth.fixity"] == stored.objects and checked["integ.page_order"] == 5
    assert checked["use.format_identified"] >= 6 and checked["integ.item_sequence"] == 3
    if not CLAMAV:
        (not_run,) = [f for f in stored.findings if f.code == "sec.virus_scan"]
        assert not_run.variant == "not_run" and "ClamAV is not installed" in not_run.message
    again = service.check(SYSADMIN, batch_id=batch_id)
    expected_clean(again)
    assert again.trigger == "demand" and again.run_id != stored.run_id
    expected_clean(service.check(ARCHIVIST, document_id=document_of(context, 2).id))
    with context.db.session() as session:
        events = session.execute(text("SELECT actor, target FROM audit_event WHERE action = 'dat70.check'")).all()
    assert [tuple(e) for e in events] == [
        ("t-archivist", f"batch:{batch_id}"),
        ("t-sysadmin", f"batch:{batch_id}"),
        ("t-archivist", f"document:{document_of(context, 2).id}"),
    ]


def test_a_corrupted_object_fails_fixity(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, _ = filed
    pdfa = next(o for o in document_of(context, 1).objects if o.role == "pdfa")
    path = context.settings.resolved_storage_path / pdfa.key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    report = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert "auth.fixity" in failing(report) and report.grade.value == "errors"
    (finding,) = [f for f in report.findings if f.code == "auth.fixity"]
    assert finding.subject == pdfa.key and finding.severity.value == "error" and "SHA-256" in finding.message
    path.unlink()
    gone = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert [f.variant for f in gone.findings if f.code == "auth.fixity"] == ["missing"]


def lose_page(context: Context, page_id: int) -> None:
    """A page row gone with what hangs on it (its findings, its original's row), as a bad repair would leave it."""
    with context.db.write() as session:
        for table in ("quality_finding", "stored_object", "sample_verdict"):
            session.execute(text(f"DELETE FROM {table} WHERE page_id = :id"), {"id": page_id})
        session.execute(text("DELETE FROM page WHERE id = :id"), {"id": page_id})


def test_a_deleted_page_and_swapped_pages_fail_the_integrity_checks(
    filed: tuple[Context, int, dict[str, Any]],
) -> None:
    context, batch_id, _ = filed
    register = document_of(context, 2)
    pages = {page.number: page.id for page in register.all_pages}
    with context.db.write() as session:  # two pages' numbers exchanged, as a bad edit would leave them
        session.execute(text("UPDATE page SET number = -1 WHERE id = :id"), {"id": pages[1]})
        session.execute(text("UPDATE page SET number = 1 WHERE id = :id"), {"id": pages[2]})
        session.execute(text("UPDATE page SET number = 2 WHERE id = :id"), {"id": pages[1]})
    swapped = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert {"integ.page_order", "auth.stored_text"} <= failing(swapped)
    assert {f.variant for f in swapped.findings if f.code == "integ.page_order"} == {"shape"}
    lose_page(context, pages[3])
    deleted = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert {"integ.manifest_pages", "auth.page_count", "integ.page_order"} <= failing(deleted)
    lose_page(context, pages[2])  # numbered 1 since the swap: page 2 is left alone
    gap = Dat70Service(context).check(SYSADMIN, document_id=register.id)
    assert "integ.page_sequence" in failing(gap)
    assert any("page(s) 1 are missing" in f.message for f in gap.findings if f.code == "integ.page_sequence")


def test_a_missing_item_and_a_gap_in_the_item_numbers_fail(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, _ = filed
    with context.db.write() as session:
        session.execute(text("UPDATE document SET status = 'withdrawn' WHERE item_number = 2"))
    report = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert {"integ.manifest_items", "integ.item_sequence"} <= failing(report)
    assert any(f.message == "item numbers 2..2 are missing from the batch's sequence" for f in report.findings)


def test_a_blank_required_field_fails(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, _ = filed
    with context.db.write() as session:
        session.execute(text("UPDATE document SET title = '  ' WHERE item_number = 3"))
    report = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert failing(report) == {"integ.required_fields"}
    (finding,) = [f for f in report.findings if f.code == "integ.required_fields"]
    assert finding.params["field"] == "title" and finding.subject_kind == "document"


def test_a_file_that_does_not_open_fails_usability(filed: tuple[Context, int, dict[str, Any]]) -> None:
    """An original replaced by truncated bytes, its catalogue row updated to match (so fixity passes: the
    record is authentic to what was stored, but it is not usable)."""
    context, batch_id, _ = filed
    original = next(o for o in document_of(context, 1).objects if o.role == "original")
    path = context.settings.resolved_storage_path / original.key
    whole = path.read_bytes()
    broken = whole[:600] + whole[-12:]  # still a PNG by its signature (header and IEND chunk), but cut short

    sha = hashlib.sha256(broken).hexdigest()
    path.write_bytes(broken)
    with context.db.write() as session:
        session.execute(
            text("UPDATE stored_object SET sha256 = :sha, size = :size WHERE id = :id"),
            {"sha": sha, "size": len(broken), "id": original.id},
        )
    report = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)
    assert failing(report) == {"use.file_opens"}, [f.message for f in report.findings]
    (finding,) = [f for f in report.findings if f.code == "use.file_opens"]
    assert finding.subject == original.key and "does not open" in finding.message


def test_a_missing_level_and_a_missing_audit_event_fail_security(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, _ = filed
    with context.db.write() as session:
        session.execute(text("UPDATE document SET access_level = NULL WHERE item_number = 1"))
    report = Dat70Service(context).check(SYSADMIN, batch_id=batch_id)  # the administrator sees unlevelled items
    assert failing(report) == {"sec.level_set"}
    with pytest.raises(NotFound):  # default deny: the archivist cannot even name it
        Dat70Service(context).check(ARCHIVIST, document_id=document_of(context, 1).id)
    with context.db.write() as session:  # an ingest event that no longer names its item
        session.execute(
            text("UPDATE audit_event SET target = 'document:0' WHERE action = 'ingest.process' AND target = :t"),
            {"t": f"document:{document_of(context, 3).id}"},
        )
    assert "sec.audit_ingest" in failing(Dat70Service(context).check(SYSADMIN, batch_id=batch_id))


def test_who_may_check(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, _ = filed
    with pytest.raises(PermissionDenied):
        Dat70Service(context).check(STAFF, batch_id=batch_id)
    with pytest.raises(PermissionDenied):
        Dat70Service(context).runs(principal("compliance"))
    assert Dat70Service(context).runs(REVIEWER, batch_id=batch_id).runs


def test_the_cli_exits_with_the_grade_and_writes_html_in_both_languages(
    filed: tuple[Context, int, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context, batch_id, _ = filed
    cli = Cli(context.settings.home_dir, capsys, user="sysadmin")
    clean_exit = ExitCode.OK if CLAMAV else ExitCode.WARNINGS
    page = tmp_path / "report.html"
    result = cli("check", "dat70", "--batch", str(batch_id), "--json", "--html", str(page), "--lang", "en")
    assert result.exit_code == clean_exit, result.stdout + result.stderr
    assert result.json["grade"] in ("clean", "warnings") and len(result.json["checks"]) == 25
    html = page.read_text(encoding="utf-8")
    assert "auth.fixity" in html and "authenticity" in html and "passed" in html
    zh = tmp_path / "report-zh.html"
    assert cli("check", "dat70", "--run", str(result.json["run_id"]), "--html", str(zh)).exit_code == clean_exit
    chinese = zh.read_text(encoding="utf-8")
    assert "真实性" in chinese and "完整性" in chinese and "可用性" in chinese and "安全性" in chinese
    assert "通过" in chinese and "integ.page_sequence" in chinese
    with context.db.write() as session:
        session.execute(text("UPDATE document SET title = '' WHERE item_number = 1"))
    failed = cli("check", "dat70", "--batch", str(batch_id))
    assert failed.exit_code == ExitCode.INTEGRITY_FAILURE and "FAILED" in failed.stdout and "ERRORS" in failed.stdout
    listed = cli("check", "dat70", "--list", "--batch", str(batch_id), "--json")
    assert listed.exit_code == 0 and [r["trigger"] for r in listed.json["runs"]][-1] == "filing"
    assert cli("check", "dat70", "--json").exit_code == ExitCode.INVALID_INPUT  # neither a batch nor a document
    assert cli("check", "dat70", "--batch", "999", "--json").exit_code == ExitCode.NOT_FOUND


def test_the_http_routes(filed: tuple[Context, int, dict[str, Any]]) -> None:
    context, batch_id, filing = filed
    with TestClient(create_app(context)) as client:
        admin, staff = bearer(context, "sysadmin"), bearer(context, "reader", ["staff"])
        answer = client.post("/api/v1/dat70/checks", json={"batch_id": batch_id}, headers=admin)
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert report["exit_code"] == (0 if CLAMAV else 10) and report["properties"]["authenticity"] == "passed"
        assert client.post("/api/v1/dat70/checks", json={"batch_id": batch_id}, headers=staff).status_code == 403
        run = filing["dat70"]["run_id"]
        stored = client.get(f"/api/v1/dat70/runs/{run}", headers=admin).json()
        assert stored["trigger"] == "filing" and {c["code"] for c in stored["checks"]} == set(CODES)
        page = client.get(f"/api/v1/dat70/runs/{run}/html?lang=zh-CN", headers=admin)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "四性检测" in page.text
        assert client.get(f"/api/v1/dat70/runs/{run}/html?lang=en", headers=admin).text.count("passed") >= 20
        assert client.get("/api/v1/dat70/runs/999999", headers=admin).status_code == 404
        listed = client.get(f"/api/v1/dat70/runs?batch_id={batch_id}", headers=admin).json()["runs"]
        assert [r["trigger"] for r in listed] == ["demand", "filing"]
    with context.db.session() as session:
        assert session.query(Dat70Run).count() == 2
        assert session.query(StoredObject).count() and session.query(Page).count() == 5
