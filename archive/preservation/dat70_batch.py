"""The DA/T 70 rules about a batch (its manifest, its item sequence) and about security (the access log's events
for each item, the virus scan of every object)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.models import Batch
from archive.preservation.dat70 import Dat70Report, ScanOutcome
from archive.reports import Severity
from archive.values import DocumentStatus

if TYPE_CHECKING:
    from archive.preservation.dat70_run import DocumentFacts, ObjectFacts, Tools

INGEST_ACTION, FILING_ACTION = "ingest.process", "batch.file"  # archive.events.AuditAction values


def batch_rules(
    report: Dat70Report, batch: Batch | None, facts: list[DocumentFacts], *, whole_batch: bool = True
) -> None:
    """Items against the manifest, and the item numbers' sequence. For one document only its own manifest row
    is compared (the other rows are the batch's business)."""
    by_manifest = {f.document.manifest_item_id: f for f in facts if f.document.manifest_item_id is not None}
    if batch is None:
        return
    for row in batch.manifest:
        present = by_manifest.get(row.id)
        if not whole_batch and present is None:
            continue
        report["integ.manifest_items"].checked += 1
        if present is None:
            item = row.item_number if row.item_number is not None else (row.reference_code or "")
            report["integ.manifest_items"].add(
                Severity.ERROR, row_number=row.row_number, item=str(item), title=row.title
            )
            continue
        report["integ.manifest_pages"].checked += 1
        pages = len(present.pages)
        if row.expected_pages is not None and row.expected_pages != pages:
            report["integ.manifest_pages"].add(
                Severity.ERROR,
                document=present.document.id,
                reference_code=present.document.reference_code,
                expected=row.expected_pages,
                pages=pages,
            )
    if batch.manifest:
        for f in facts:
            report["integ.unlisted_items"].checked += 1
            if f.document.manifest_item_id is None:
                report["integ.unlisted_items"].add(
                    Severity.WARNING, document=f.document.id, reference_code=f.document.reference_code
                )
    if whole_batch:
        _item_sequence(report, [f.document.item_number for f in facts])


def _item_sequence(report: Dat70Report, numbers: list[int | None]) -> None:
    known = sorted(n for n in numbers if n is not None)
    check = report["integ.item_sequence"]
    check.checked += len(known)
    if not known:
        return
    missing = sorted(set(range(known[0], known[-1] + 1)) - set(known))
    for first, last in _runs(missing):
        check.add(Severity.ERROR, first=first, last=last)
    for number in sorted({n for n in known if known.count(n) > 1}):
        check.add(Severity.ERROR, "repeated", item=number, count=known.count(number))


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def security_rules(report: Dat70Report, facts: list[DocumentFacts], events: set[tuple[str, str]], tools: Tools) -> None:
    """The access log holds each item's ingest and (when filed) its batch's filing event."""
    del tools
    for f in facts:
        document = f.document
        ref = {"document": document.id, "reference_code": document.reference_code}
        report["sec.audit_ingest"].checked += 1
        if (INGEST_ACTION, f"document:{document.id}") not in events:
            report["sec.audit_ingest"].add(Severity.ERROR, **ref)
        if document.status == DocumentStatus.FILED:
            report["sec.audit_filing"].checked += 1
            if (FILING_ACTION, f"batch:{document.batch_id}") not in events:
                report["sec.audit_filing"].add(Severity.ERROR, batch=document.batch_id, **ref)


def judge_scan(report: Dat70Report, measured: dict[str, ObjectFacts], outcome: ScanOutcome | None) -> None:
    """The virus scan's verdict on each object; no scanner installed is a not-run check, never a pass."""
    check = report["sec.virus_scan"]
    if outcome is None:
        return
    if not outcome.available:
        report.skip("sec.virus_scan", outcome.reason or "no virus scanner is installed")
        return
    if outcome.error is not None:
        check.add(Severity.ERROR, "failed", engine=outcome.engine, error=outcome.error[:200])
        return
    by_path = {str(facts.path): facts for facts in measured.values() if facts.path is not None}
    check.checked += len(by_path)
    for path, signature in sorted(outcome.infected.items()):
        facts = by_path.get(path)
        subject = facts.key if facts is not None else path
        role = facts.role if facts is not None else ""
        reference = facts.row.document.reference_code if facts is not None else ""
        check.add(
            Severity.ERROR,
            subject=subject,
            signature=signature,
            engine=outcome.engine,
            role=role,
            reference_code=reference,
        )
