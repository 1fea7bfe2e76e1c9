"""Retention and disposition on a real archive (real ingest with the null OCR engine, real SQLite, real local
store, real Whoosh): due dates for Y10 / Y30 / permanent and a record's own code; the two-person rule; legal
holds blocking every step; destruction removing objects, page images, text and index entries while a signed
certificate and the tombstones verify; what a caller below a record's level sees."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.access.auditing import AuditService
from api.ingest.batches import BatchService
from api.preservation.verification import VerificationService
from api.records.certificate_check import CertificateService
from api.records.disposal import DisposalService
from api.records.disposition import DispositionService
from api.records.holds import HoldService
from api.records.retention import RetentionService
from api.search.service import SearchService
from api.wiring import Context
from archive.errors import Conflict, InvalidInput, PermissionDenied
from archive.models import AuditEvent, Document, Page, StoredObject
from archive.preservation.retention import due_date, parse_retention, record_retention
from tests.actors import ARCHIVIST, AUDITOR, REVIEWER, SYSADMIN, principal
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

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
    checked = CertificateService(context).verify(AUDITOR, disposition_id)
    assert checked.valid, checked.problems
    body = json.loads(CertificateService(context).file(AUDITOR, disposition_id, "json").data)
    assert body["certificate"]["disposition"]["approved_by"] == REVIEWER.username
    assert [r["reference_code"] for r in body["certificate"]["records"]] == [tombstone.reference_code]
    assert b"Certificate of destruction" in CertificateService(context).file(AUDITOR, disposition_id, "html").data
    assert AuditService(context).verify(AUDITOR).grade.value in ("clean", "warnings")
    report = VerificationService(context).verify(SYSADMIN)
    assert report.grade.value == "clean", report.findings
