"""Retention and disposition on a real archive (real ingest with the null OCR engine, real SQLite, real local
store, real Whoosh): due dates for Y10 / Y30 / permanent and a record's own code; the two-person rule; legal
holds blocking every step; destruction removing objects, page images, text and index entries while a signed
certificate and the tombstones verify; what a caller below a record's level sees."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.access.auditing import AuditService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.verification import VerificationService
from api.records.certificate_check import CertificateService
from api.records.disposal import DisposalService
from api.records.disposition import DispositionService
from api.records.holds import HoldService
from api.records.retention import RetentionService
from api.search.service import SearchService
from api.wiring import Context
from archive.errors import Conflict, InvalidInput, PermissionDenied
from archive.history import history_of
from archive.models import AuditEvent, Document, Page, StoredObject
from archive.preservation.retention import due_date, parse_retention, record_retention
from tests.actors import ARCHIVIST, AUDITOR, REVIEWER, SYSADMIN, bearer, principal
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch, file_batch_cli

TODAY = dt.date(2026, 12, 3)
LOW_STAFF = principal("staff", clearance="internal", name="t-low-staff")
LOW_ARCHIVIST = principal("archivist", clearance="internal", name="t-low-archivist")


@dataclass
class Archive:
    context: Context
    ids: dict[str, int]


def _batch(
    context: Context, root: Path, *, retention: str, level: str, words: list[str], year: int = 2000
) -> list[int]:
    batch = (
        BatchService(context)
        .create(actor=ARCHIVIST, fonds="RT", languages="eng", level=level, year=year, retention=retention)
        .id
    )
    ids = []
    for n, word in enumerate(words):
        page = render(root / word, f"{word}.png", f"Retention test {word} ledger", "eng", seed=60 + len(word) + n)
        outcome = ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch)
        ids.append(int(outcome.jobs[0].document_id or 0))
    file_batch(context, batch)
    return ids


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    context = make_context(tmp_path / "var")
    ids: dict[str, int] = {}
    for retention, level, words in (
        ("Y10", "public", ["harbour", "lighthouse"]),
        ("Y30", "public", ["customs"]),
        ("YJ", "public", ["charter"]),
        ("Y10", "confidential", ["treaty"]),
    ):
        for word, document_id in zip(
            words, _batch(context, tmp_path / "in", retention=retention, level=level, words=words), strict=True
        ):
            ids[word] = document_id
    yield Archive(context, ids)
    context.close()


def test_retention_codes_and_the_due_rule() -> None:
    assert parse_retention("Y10").years == 10 and parse_retention("d30").years == 30
    assert parse_retention("定期30年").years == 30 and parse_retention("10年").years == 10
    for permanent in ("YJ", "永久", "permanent", "P"):
        assert parse_retention(permanent).permanent
    for bad in ("", "Y0", "X10", "长期", "Y1000"):
        with pytest.raises(InvalidInput) as refused:
            parse_retention(bad)
        assert refused.value.reason == InvalidInput.RETENTION_CODE
    # counted from 1 January after the filing year: filed 2015, Y10 → due 2026-01-01
    assert due_date(parse_retention("Y10"), 2015) == dt.date(2026, 1, 1)
    assert due_date(parse_retention("Y30"), 2015) == dt.date(2046, 1, 1)
    assert due_date(parse_retention("YJ"), 2015) is None
    catalogued = dt.datetime(2020, 5, 1, tzinfo=dt.UTC)
    series = record_retention(own_code=None, series_code="Y10", counted_after=None, batch_year=2015,
                              record_date=dt.date(2013, 2, 1), catalogued=catalogued)  # fmt: skip
    assert (series.code, series.source, series.counted_after, series.due_on) == (
        "Y10",
        "series",
        2015,
        dt.date(2026, 1, 1),
    )
    own = record_retention(own_code="Y30", series_code="Y10", counted_after=None, batch_year=None,
                           record_date=dt.date(2013, 2, 1), catalogued=catalogued)  # fmt: skip
    assert (own.source, own.counted_after, own.due_on) == ("record", 2013, dt.date(2044, 1, 1))
    kept = record_retention(own_code="Y10", series_code="Y10", counted_after=2026, batch_year=2015,
                            record_date=None, catalogued=catalogued)  # fmt: skip
    assert kept.due_on == dt.date(2037, 1, 1)


def test_due_lists_for_y10_y30_permanent_and_a_records_own_code(archive: Archive) -> None:
    service, ids = RetentionService(archive.context), archive.ids
    due = service.due(ARCHIVIST, as_of=TODAY)
    assert [r.document_id for r in due.records] == [ids["harbour"], ids["lighthouse"], ids["treaty"]]
    assert {r.due_on for r in due.records} == {dt.date(2011, 1, 1)}
    assert due.records[0].overdue_days == (TODAY - dt.date(2011, 1, 1)).days
    # Y30 of 2000 falls due on 2031-01-01: in the list within that many days, never the permanent one
    ahead = service.due(ARCHIVIST, as_of=TODAY, within_days=(dt.date(2031, 1, 1) - TODAY).days)
    assert ids["customs"] in [r.document_id for r in ahead.records]
    assert ids["charter"] not in [
        r.document_id for r in service.due(ARCHIVIST, as_of=TODAY, within_days=36_500).records
    ]
    # a record's own code overrides its series'
    changed = service.set_code(ARCHIVIST, ids["lighthouse"], retention="永久", reason="a founding record")
    assert (changed.retention, changed.retention_source, changed.due_on) == ("永久", "record", None)
    service.set_code(ARCHIVIST, ids["customs"], retention="Y10", reason="routine correspondence")
    listed = [r.document_id for r in service.due(ARCHIVIST, as_of=TODAY).records]
    assert listed == [ids["harbour"], ids["customs"], ids["treaty"]]
    back = service.set_code(ARCHIVIST, ids["lighthouse"], retention="series", reason="a mistake")
    assert (back.retention, back.retention_source) == ("Y10", "series")


def test_visibility_a_caller_below_a_records_level_does_not_see_it_due(archive: Archive) -> None:
    service, ids = RetentionService(archive.context), archive.ids
    for low in (LOW_STAFF, LOW_ARCHIVIST):
        listed = [r.document_id for r in service.due(low, as_of=TODAY).records]
        assert listed == [ids["harbour"], ids["lighthouse"]]  # not the confidential treaty
    with pytest.raises(Exception) as hidden:
        service.appraise(LOW_ARCHIVIST, ids["treaty"], decision="destroy", reason="routine")
    assert type(hidden.value).__name__ == "NotFound"
    with pytest.raises(PermissionDenied):
        service.due(principal("secadmin"), as_of=TODAY)


def _appraise_and_approve(archive: Archive, word: str, action: str = "destroy", **extra: str) -> int:
    RetentionService(archive.context).appraise(ARCHIVIST, archive.ids[word], decision=action, reason="period over")
    steps = DispositionService(archive.context)
    proposed = steps.propose(ARCHIVIST, action=action, document_ids=[archive.ids[word]], reason="annual", **extra)
    steps.approve(REVIEWER, proposed.id)
    return proposed.id


def test_the_proposer_cannot_approve(archive: Archive) -> None:
    RetentionService(archive.context).appraise(ARCHIVIST, archive.ids["harbour"], decision="destroy", reason="over")
    steps = DispositionService(archive.context)
    proposed = steps.propose(ARCHIVIST, action="destroy", document_ids=[archive.ids["harbour"]], reason="annual")
    with pytest.raises(PermissionDenied) as refused:
        steps.approve(ARCHIVIST, proposed.id)
    assert refused.value.reason == PermissionDenied.OWN_PROPOSAL
    assert steps.show(ARCHIVIST, proposed.id).status == "proposed"
    with pytest.raises(Conflict) as early:
        DisposalService(archive.context).execute(ARCHIVIST, proposed.id)
    assert early.value.reason == Conflict.DISPOSITION_STATE
    assert steps.approve(REVIEWER, proposed.id).status == "approved"


def test_a_legal_hold_blocks_proposing_approving_and_executing(archive: Archive) -> None:
    context, harbour = archive.context, archive.ids["harbour"]
    holds, steps = HoldService(context), DispositionService(context)
    RetentionService(context).appraise(ARCHIVIST, harbour, decision="destroy", reason="period over")
    holds.hold(AUDITOR, harbour, reason="litigation 2026-17")
    with pytest.raises(Conflict) as refused:
        steps.propose(ARCHIVIST, action="destroy", document_ids=[harbour], reason="annual")
    assert refused.value.reason == Conflict.LEGAL_HOLD
    holds.release(AUDITOR, harbour, reason="case closed")
    proposed = steps.propose(ARCHIVIST, action="destroy", document_ids=[harbour], reason="annual")
    holds.hold(ARCHIVIST, harbour, reason="a new request")
    with pytest.raises(Conflict, match="legal hold"):
        steps.approve(REVIEWER, proposed.id)
    holds.release(ARCHIVIST, harbour, reason="withdrawn request")
    steps.approve(REVIEWER, proposed.id)
    holds.hold(AUDITOR, harbour, reason="litigation 2026-18")
    with pytest.raises(Conflict, match="legal hold"):
        DisposalService(context).execute(SYSADMIN, proposed.id)
    with context.db.session() as session:
        assert session.get(Document, harbour).status == "filed"  # type: ignore[union-attr]
        assert session.query(StoredObject).filter_by(document_id=harbour).count() > 0
    with context.db.session() as session:
        refusals = session.query(AuditEvent).filter_by(action="disposition.refused").all()
        assert [e.details["reason"] for e in refusals] == ["legal_hold"] * 3


def test_destruction_removes_objects_text_and_index_entries_and_its_certificate_verifies(archive: Archive) -> None:
    context, harbour = archive.context, archive.ids["harbour"]
    search = SearchService(context)
    assert search.search(ARCHIVIST, "harbour").total == 1
    with context.db.session() as session:
        keys = [o.key for o in session.query(StoredObject).filter_by(document_id=harbour)]
    root = context.settings.resolved_storage_path
    assert keys and all((root / key).exists() for key in keys)
    derived = list((root / "derived").rglob("*.jpg"))
    disposition_id = _appraise_and_approve(archive, "harbour")
    done = DisposalService(context).execute(SYSADMIN, disposition_id)
    assert done.status == "executed" and done.objects_removed == len(set(keys))
    assert not any((root / key).exists() for key in keys)
    assert len(list((root / "derived").rglob("*.jpg"))) < len(derived)
    assert search.search(ARCHIVIST, "harbour").total == 0
    assert search.search(SYSADMIN, "harbour").total == 0
    with context.db.session() as session:
        tombstone = session.get(Document, harbour)
        assert tombstone is not None and tombstone.status == "disposed" and tombstone.disposition_id == disposition_id
        assert [p.text for p in session.query(Page).filter_by(document_id=harbour)] == [""]
        assert session.query(StoredObject).filter_by(document_id=harbour).count() == 0
        kept = [e for e in history_of(session, harbour) if e.event_type in ("deaccession", "deletion")]
        assert [e.event_type for e in kept] == ["deaccession", *["deletion"] * len(keys)]  # the history outlives it
        assert sorted(e.object_key or "" for e in kept[1:]) == sorted(keys)
    checked = CertificateService(context).verify(AUDITOR, disposition_id)
    assert checked.valid, checked.problems
    body = json.loads(CertificateService(context).file(AUDITOR, disposition_id, "json").data)
    assert body["certificate"]["disposition"]["approved_by"] == REVIEWER.username
    assert [r["reference_code"] for r in body["certificate"]["records"]] == [tombstone.reference_code]
    assert b"Certificate of destruction" in CertificateService(context).file(AUDITOR, disposition_id, "html").data
    assert AuditService(context).verify(AUDITOR).grade.value in ("clean", "warnings")
    report = VerificationService(context).verify(SYSADMIN)
    assert report.grade.value == "clean", report.findings


def test_transfer_writes_a_bag_and_marks_the_records_transferred(archive: Archive, tmp_path: Path) -> None:
    context = archive.context
    disposition_id = _appraise_and_approve(archive, "lighthouse", "transfer", destination=str(tmp_path / "city"))
    done = DisposalService(context).execute(ARCHIVIST, disposition_id)
    assert done.status == "executed" and done.export_path == str(tmp_path / "city" / f"disposition-{disposition_id}")
    bag = bagit.Bag(done.export_path)
    bag.validate()
    assert [r.status for r in done.records] == ["transferred"]
    assert SearchService(context).search(ARCHIVIST, "lighthouse").total == 0
    with context.db.session() as session:  # a transfer keeps the archive's own copies
        assert session.query(StoredObject).filter_by(document_id=archive.ids["lighthouse"]).count() > 0
    assert CertificateService(context).verify(AUDITOR, disposition_id).valid


def test_a_forged_certificate_and_a_leftover_object_are_found(archive: Archive) -> None:
    context = archive.context
    with context.db.session() as session:
        keys = [o.key for o in session.query(StoredObject).filter_by(document_id=archive.ids["harbour"])]
    disposition_id = _appraise_and_approve(archive, "harbour")
    DisposalService(context).execute(ARCHIVIST, disposition_id)
    root = context.settings.resolved_storage_path
    (root / keys[0]).parent.mkdir(parents=True, exist_ok=True)
    (root / keys[0]).write_bytes(b"a copy someone put back")  # an object of a destroyed record reappears
    with context.db.session() as session:
        certificate = session.get(
            Document, DispositionService(context).show(AUDITOR, disposition_id).certificate_document_id
        )
        stored = next(o for o in certificate.objects if o.media_type == "application/json")  # type: ignore[union-attr]
    checked = CertificateService(context).verify(AUDITOR, disposition_id)
    assert not checked.valid and any("still in the primary store" in p for p in checked.problems)
    assert DisposalService(context).execute(ARCHIVIST, disposition_id).objects_removed >= 1  # a second run sweeps
    assert CertificateService(context).verify(AUDITOR, disposition_id).valid
    forged = (root / stored.key).read_bytes().replace(b"t-reviewer", b"t-archivist")
    (root / stored.key).write_bytes(forged)
    checked = CertificateService(context).verify(AUDITOR, disposition_id)
    assert not checked.valid and any("changed" in p for p in checked.problems)
    forged_sha = hashlib.sha256(forged).hexdigest()  # the forger rewrites the catalogue's hashes as well
    with context.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE stored_object SET sha256 = :s WHERE id = :i"), {"s": forged_sha, "i": stored.id}
        )
        connection.execute(text("UPDATE disposition SET certificate_sha256 = :s"), {"s": forged_sha})
    checked = CertificateService(context).verify(AUDITOR, disposition_id)
    assert not checked.valid
    assert "the signature does not match the certificate's contents" in checked.problems
    assert "no single execution event of the access log names this certificate" in checked.problems


def test_the_next_backup_run_removes_destroyed_objects_from_the_target(archive: Archive, tmp_path: Path) -> None:
    context = archive.context
    targets = BackupTargets(context)
    targets.add(SYSADMIN, TargetSpec(name="second", kind="local", path=str(tmp_path / "second")))
    assert BackupService(context).run(SYSADMIN, target="second").status == "complete"
    with context.db.session() as session:
        keys = [o.key for o in session.query(StoredObject).filter_by(document_id=archive.ids["harbour"])]
    assert all((tmp_path / "second" / key).exists() for key in keys)
    DisposalService(context).execute(SYSADMIN, _appraise_and_approve(archive, "harbour"))
    run = BackupService(context).run(SYSADMIN, target="second")
    assert run.status == "complete" and run.report.destroyed_removed == len(set(keys))
    assert not any((tmp_path / "second" / key).exists() for key in keys)
    assert BackupService(context).run(SYSADMIN, target="second").report.destroyed_removed == 0


def test_the_command_line_refuses_the_proposer_and_a_held_record(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    made = cli(
        "batch", "create", "--fonds", "CL", "--year", "2001", "--retention", "Y10", "--level", "public", "--json"
    )
    batch = made.json["id"]
    page = render(tmp_path / "in", "dues.png", "Quarterly harbour dues notice", "eng", seed=3)
    [job] = cli("ingest", str(page), "--batch", str(batch), "--json").json["jobs"]
    file_batch_cli(cli, batch)
    document = str(job["document_id"])
    due = cli("retention", "due", "--json").json
    assert [(r["document_id"], r["due_on"]) for r in due["records"]] == [(job["document_id"], "2012-01-01")]
    assert cli("retention", "appraise", document, "--decision", "destroy", "--reason", "period over").exit_code == 0
    proposed = cli("retention", "propose", "destroy", document, "--reason", "annual", "--json")
    assert proposed.exit_code == 0, proposed.stderr
    disposition = str(proposed.json["id"])
    own = cli("retention", "approve", disposition)
    assert own.exit_code == 6 and "another person must approve" in own.stderr
    assert cli("--user", "reviewer", "retention", "approve", disposition).exit_code == 0
    assert cli("retention", "hold", document, "--reason", "litigation").exit_code == 0
    held = cli("--user", "sysadmin", "retention", "execute", disposition)
    assert held.exit_code == 5 and "legal hold" in held.stderr
    assert cli("retention", "holds", "--json").json["holds"][0]["reason"] == "litigation"
    assert cli("retention", "release", document, "--reason", "settled").exit_code == 0
    done = cli("--user", "sysadmin", "retention", "execute", disposition, "--json")
    assert done.exit_code == 0 and done.json["status"] == "executed", done.stderr
    assert cli("search", "harbour", "--json").json["total"] == 0
    verified = cli("--user", "auditor", "retention", "certificate", "verify", disposition)
    assert verified.exit_code == 0 and "VALID" in verified.stdout
    shown = cli("--user", "auditor", "retention", "certificate", "show", disposition, "--format", "csv")
    assert shown.exit_code == 0 and shown.stdout.startswith("reference_code,title")
    assert cli("--user", "auditor", "audit", "verify").exit_code in (0, 10)


def test_http_answers_403_to_the_proposer_409_to_a_hold_and_hides_what_is_above_clearance(archive: Archive) -> None:
    context, ids = archive.context, archive.ids
    clerk = bearer(context, "clerk", ["archivist"])
    second = bearer(context, "second", ["archivist"])
    low = bearer(context, "low", ["staff"], clearance="internal")
    with TestClient(create_app(context)) as client:
        listed = client.get("/api/v1/retention/due", headers=low)
        assert listed.status_code == 200
        assert [r["document_id"] for r in listed.json()["records"]] == [ids["harbour"], ids["lighthouse"]]
        assert client.post("/api/v1/retention/appraisals", headers=low, json={
            "document_id": ids["harbour"], "decision": "destroy", "reason": "x"}).status_code == 403  # fmt: skip
        hidden = client.post("/api/v1/retention/holds", headers=bearer(context, "lowa", ["archivist"], "internal"),
                             json={"document_id": ids["treaty"], "reason": "x"})  # fmt: skip
        assert hidden.status_code == 404
        appraised = client.post("/api/v1/retention/appraisals", headers=clerk, json={
            "document_id": ids["harbour"], "decision": "destroy", "reason": "period over"})  # fmt: skip
        assert appraised.status_code == 201, appraised.text
        proposed = client.post("/api/v1/retention/dispositions", headers=clerk, json={
            "action": "destroy", "document_ids": [ids["harbour"]], "reason": "annual"})  # fmt: skip
        assert proposed.status_code == 201, proposed.text
        path = f"/api/v1/retention/dispositions/{proposed.json()['id']}"
        own = client.post(f"{path}/approve", headers=clerk)
        assert own.status_code == 403 and own.json()["reason"] == "own_proposal"
        assert client.post("/api/v1/retention/holds", headers=clerk,
                           json={"document_id": ids["harbour"], "reason": "audit"}).status_code == 201  # fmt: skip
        held = client.post(f"{path}/approve", headers=second)
        assert held.status_code == 409 and held.json()["reason"] == "legal_hold"
        released = client.post(
            f"/api/v1/retention/holds/{ids['harbour']}/release", headers=clerk, json={"reason": "ok"}
        )
        assert released.status_code == 200 and released.json()["active"] is False
        assert client.post(f"{path}/approve", headers=second).json()["status"] == "approved"
        executed = client.post(f"{path}/execute", headers=second)
        assert executed.status_code == 200 and executed.json()["status"] == "executed", executed.text
        html_copy = client.get(f"{path}/certificate", params={"format": "html"}, headers=clerk)
        assert html_copy.status_code == 200 and html_copy.headers["content-type"].startswith("text/html")
        assert client.post(f"{path}/certificate/verify", headers=clerk).json()["valid"] is True
        assert client.get(f"{path}/certificate", headers=low).status_code == 200  # a public record's certificate
        assert client.get("/api/v1/search", params={"q": "harbour"}, headers=clerk).json()["total"] == 0
