"""Item numbers and reference codes (档号): from the manifest when it says, otherwise the next free number in
the fonds/year/retention sequence. Called inside the submitting transaction, so numbers are never shared."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalogue.reference import ReferenceParts, render
from archive.errors import Conflict
from archive.models import Batch, Document, Fonds, IngestJob, ManifestItem
from archive.values import JobState

LIVE_JOBS = [state for state in JobState if not state.finished]  # they hold their numbers: queued, processing, retrying


def batch_year(batch: Batch) -> int:
    return batch.year or dt.date.today().year


def next_item_number(session: Session, batch: Batch) -> int:
    """max + 1 over the batch's sequence. On PostgreSQL writers run at once: the fonds row's lock (taken by
    allocate_reference) makes two submissions wait for each other instead of reading the same maximum."""
    sequence = select(Batch.id).where(
        Batch.fonds_id == batch.fonds_id, Batch.retention == batch.retention, Batch.year == batch.year
    )
    live = IngestJob.state.in_(LIVE_JOBS)
    numbers = [
        session.scalar(select(func.max(Document.item_number)).where(Document.batch_id.in_(sequence))) or 0,
        session.scalar(select(func.max(ManifestItem.item_number)).where(ManifestItem.batch_id.in_(sequence))) or 0,
        session.scalar(select(func.max(IngestJob.item_number)).where(IngestJob.batch_id.in_(sequence), live)) or 0,
    ]
    return max(numbers) + 1


def reference_in_use(session: Session, reference: str) -> str | None:
    if session.scalar(select(Document.id).where(Document.reference_code == reference)) is not None:
        return "a filed document"
    job_id = session.scalar(
        select(IngestJob.id).where(IngestJob.reference_code == reference, IngestJob.state.in_(LIVE_JOBS))
    )
    return None if job_id is None else f"queued job {job_id}"


def allocate_reference(session: Session, batch: Batch, manifest: ManifestItem | None) -> tuple[str, int | None]:
    """The item's reference code and number; Conflict when the code is already taken.

    Serialised per fonds (SELECT ... FOR UPDATE of its row; SQLite's write units are serial already) until the
    submitting transaction ends, so two submissions at once never take one number or one code."""
    session.execute(select(Fonds.id).where(Fonds.id == batch.fonds_id).with_for_update())
    number: int | None
    if manifest is not None and manifest.reference_code:
        reference, number = manifest.reference_code, manifest.item_number
    else:
        number = manifest.item_number if manifest is not None and manifest.item_number else None
        if number is None:
            number = next_item_number(session, batch)
        parts = ReferenceParts(
            fonds=batch.fonds.code,
            series=batch.series or "",
            box=batch.box or "",
            year=batch_year(batch),
            retention=batch.retention,
            item=number,
        )
        reference = render(batch.fonds.ref_template, parts)
    holder = reference_in_use(session, reference)
    if holder is not None:
        raise Conflict(
            f"reference code {reference} is already used by {holder}; fix the manifest or the template",
            Conflict.REFERENCE_CODE_IN_USE,
            {"reference_code": reference},
        )
    return reference, number
