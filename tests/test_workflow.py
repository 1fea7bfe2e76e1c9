"""The one state machine: staff see filed items only; a filed batch is closed until a reasoned reopen; the reviewer
is not the uploader; a returned batch is re-sampled only after rescans; reconciliation gaps block filing without a
justification; a fonds' numbering scheme changes only through its own logged action."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.ingest.templates import TemplateService
from api.records.documents import DocumentService
from api.runners.local import ocr_in_child
from api.wiring import Context
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.models import AuditEvent, Page
from archive.workflow import BATCH_TRANSITIONS, DOCUMENT_TRANSITIONS, PAGE_TRANSITIONS
from tests.actors import ARCHIVIST, REVIEWER, STAFF
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


def ingested(context: Context, folder: Path, *texts: str, manifest: str | None = None) -> int:
    batch = (
        BatchService(context)
        .create(actor=ARCHIVIST, fonds="W1", languages="eng", level="internal", manifest_text=manifest)
        .id
    )
    pages = [render(folder, f"item-{n}.png", text, "eng", seed=40 + n) for n, text in enumerate(texts)]
    outcome = ingest_paths(context, pages, actor=ARCHIVIST, batch_id=batch)
    assert outcome.exit_code() == 0, outcome.as_json()
    return int(batch)


def page_ids(context: Context, batch_id: int) -> list[int]:
    with context.db.session() as session:
        return list(
            session.scalars(
                select(Page.id).join(Page.document).where(Page.current.is_(True)).filter_by(batch_id=batch_id)
            )
        )


def test_every_state_in_the_tables_has_its_row() -> None:
    for table in (BATCH_TRANSITIONS, DOCUMENT_TRANSITIONS, PAGE_TRANSITIONS):
        states = set(table)
        assert all(target in states for targets in table.values() for target in targets)


def test_the_reviewer_is_not_the_uploader(context: Context, tmp_path: Path) -> None:
    batch = ingested(context, tmp_path, "Minutes of the records committee")
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch, actor=ARCHIVIST, percent=100, minimum=1)
    [row] = sample["pages"]
    with pytest.raises(PermissionDenied, match="another archivist must review"):
        acceptance.record_verdict(batch, row["page_id"], actor=ARCHIVIST, passed=True)
    acceptance.record_verdict(batch, row["page_id"], actor=REVIEWER, passed=True)
    with pytest.raises(PermissionDenied):
        acceptance.decide(batch, actor=ARCHIVIST)
    assert acceptance.decide(batch, actor=REVIEWER)["decision"] == "accepted"


def test_the_four_eyes_rule_can_be_switched_off(context: Context, tmp_path: Path) -> None:
    context.settings = context.settings.model_copy(update={"separate_reviewer": False})
    batch = ingested(context, tmp_path, "A one-person office")
    file_batch(context, batch, reviewer=ARCHIVIST)


def test_staff_see_an_item_once_it_is_filed_and_not_after_a_reopen(context: Context, tmp_path: Path) -> None:
    batch = ingested(context, tmp_path, "Harbour authority lease register")
    with context.db.session() as session:
        [document_id] = {page.document_id for page in session.scalars(select(Page))}
    documents = DocumentService(context)
    with pytest.raises(NotFound):
        documents.get(STAFF, document_id)
    assert documents.get(ARCHIVIST, document_id).status == "ready"
    file_batch(context, batch)
    assert documents.get(STAFF, document_id).status == "filed"
    acceptance = AcceptanceService(context)
    with pytest.raises(InvalidInput, match="why"):
        acceptance.reopen(batch, actor=ARCHIVIST, reason=" ")
    reopened = acceptance.reopen(batch, actor=ARCHIVIST, reason="page 2 of the lease was scanned upside down")
    assert reopened == {"batch_id": batch, "status": "open", "documents": 1}
    with pytest.raises(NotFound):
        documents.get(STAFF, document_id)
    with context.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "batch.reopen")).one()
        assert event.actor == ARCHIVIST.username and "upside down" in str(event.details["reason"])


def test_a_filed_batch_is_closed(context: Context, tmp_path: Path) -> None:
    batch = ingested(context, tmp_path, "Closed box of deeds")
    file_batch(context, batch)
    [page_id] = page_ids(context, batch)
    review = ReviewService(context)
    with pytest.raises(Conflict, match="filed and closed"):
        review.reject(page_id, actor=ARCHIVIST, reason="too late")
    rescan = render(tmp_path / "rescan", "deeds.png", "Closed box of deeds", "eng", seed=99)
    with pytest.raises(Conflict, match="filed and closed"):
        review.replace(page_id, rescan, actor=ARCHIVIST, ocr=ocr_in_child)
    with pytest.raises(Conflict):
        AcceptanceService(context).draw(batch, actor=REVIEWER)


def test_a_returned_batch_is_resampled_only_after_rescans(context: Context, tmp_path: Path) -> None:
    batch = ingested(context, tmp_path, "Survey of the north quarter", "Survey of the south quarter")
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch, actor=REVIEWER, percent=100, minimum=1)
    failed = sample["pages"][0]["page_id"]
    acceptance.record_verdict(batch, failed, actor=REVIEWER, passed=False, defect="illegible")
    acceptance.record_verdict(batch, sample["pages"][1]["page_id"], actor=REVIEWER, passed=True)
    assert acceptance.decide(batch, actor=REVIEWER)["decision"] == "returned"
    with pytest.raises(Conflict, match="unchanged"):
        acceptance.draw(batch, actor=REVIEWER)  # nothing rescanned: no new sample, so no new verdict
    rescan = render(tmp_path / "rescan", "north.png", "Survey of the north quarter", "eng", seed=77)
    new_page = ReviewService(context).replace(failed, rescan, actor=ARCHIVIST, ocr=ocr_in_child).page_id
    resample = acceptance.draw(batch, actor=REVIEWER, percent=5, minimum=1)
    assert resample["reason"] == "resample"
    assert new_page in {row["page_id"] for row in resample["pages"] if row["changed"]}
    for row in resample["pages"]:
        acceptance.record_verdict(batch, row["page_id"], actor=REVIEWER, passed=True)
    assert acceptance.decide(batch, actor=REVIEWER)["decision"] == "accepted"


def test_missing_items_block_filing_unless_justified(context: Context, tmp_path: Path) -> None:
    manifest = "item,title,pages,file\n1,Register,1,item-0.png\n2,Lost register,1,item-9.png\n"
    batch = ingested(context, tmp_path, "The register that arrived", manifest=manifest)
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch, actor=REVIEWER, percent=100, minimum=1)
    for row in sample["pages"]:
        acceptance.record_verdict(batch, row["page_id"], actor=REVIEWER, passed=True)
    acceptance.decide(batch, actor=REVIEWER)
    with pytest.raises(Conflict, match="1 item\\(s\\) of the manifest are missing"):
        acceptance.file(batch, actor=ARCHIVIST)
    filed = acceptance.file(batch, actor=ARCHIVIST, justification="item 2 was lost in the 1998 flood (memo 98/14)")
    assert filed["status"] == "filed"
    assert BatchService(context).get(ARCHIVIST, batch).filing_justification is not None


def test_a_reference_scheme_changes_only_through_its_own_logged_action(context: Context) -> None:
    batches = BatchService(context)
    batches.create(actor=ARCHIVIST, fonds="T1", languages="eng", ref_template="{fonds}-{year}-{item:03d}")
    with pytest.raises(Conflict, match="dangan fonds template"):
        batches.create(actor=ARCHIVIST, fonds="T1", languages="eng", ref_template="{fonds}/{item:05d}")
    with pytest.raises(PermissionDenied):
        TemplateService(context).change(STAFF, "T1", "{fonds}/{item:05d}", reason="new rules")
    changed = TemplateService(context).change(ARCHIVIST, "T1", "{fonds}/{item:05d}", reason="provincial rules of 2026")
    assert changed.as_json() == {
        "fonds": "T1",
        "ref_template": "{fonds}/{item:05d}",
        "previous": "{fonds}-{year}-{item:03d}",
    }
    with context.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "fonds.template")).one()
        assert event.details["reason"] == "provincial rules of 2026" and event.actor == ARCHIVIST.username
