"""Who already holds an item: duplicate claims by SHA-256 and calling systems' external ids.

A job claims its item's SHA-256 in the unique column `ingest_job.claim_sha256` in the transaction that
queues it, so of any number of simultaneous uploads of one file exactly one is queued; the claim is cleared
when the job fails, so the file can be submitted again. The refusal names the record that holds the claim
only to a caller who may see that record; anyone else learns just that the file is already archived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Principal, within_scope
from archive.dates import PartialDate
from archive.errors import Conflict, PermissionDenied
from archive.models import Document, IngestJob
from archive.values import AccessLevel, JobState
from archive.visibility import document_visible

NEUTRAL_DUPLICATE = "this file is already in the archive; it was not added again"


@dataclass(frozen=True)
class ItemFields:
    """What an uploader says about one item: checked before anything is received into a job."""

    level: str | None = None  # a level label; None: the batch's level
    date: str | None = None  # ISO date; None: the manifest's date, if any
    departments: tuple[str, ...] = ()


def item_fields(
    principal: Principal,
    *,
    level: str | None = None,
    date: str | None = None,
    departments: Sequence[str] | None = None,
) -> ItemFields:
    """Parse and check the per-item fields; a level above the uploader's own clearance is refused (403)."""
    label = None
    if level is not None and level.strip():
        parsed = AccessLevel.parse(level)
        if parsed > principal.clearance:
            raise PermissionDenied(
                f"you cannot file an item as {parsed.label}: that is above your own clearance "
                f"({principal.clearance.label}); choose a lower level or ask a colleague cleared for it",
                PermissionDenied.ITEM_LEVEL_ABOVE_CLEARANCE,
            )
        label = parsed.label
    parsed_date = PartialDate.parse_optional(date)  # keeps its precision: '1998-06' stays a month
    iso = parsed_date.isoformat() if parsed_date else None
    names = sorted({name.strip() for entry in departments or () for name in entry.split(",") if name.strip()})
    return ItemFields(level=label, date=iso, departments=tuple(names))


def duplicate_of(session: Session, sha256: str, item_name: str, viewer: Principal) -> Conflict | None:
    """The refusal for an item whose SHA-256 is already claimed or archived, worded for this caller."""
    job = session.scalars(select(IngestJob).where(IngestJob.claim_sha256 == sha256)).first()
    document = None
    if job is not None and job.document_id is not None:
        document = session.get(Document, job.document_id)
    if document is None:
        document = session.scalars(select(Document).where(Document.original_sha256 == sha256)).first()
    if document is not None:
        if document_visible(viewer, document):
            return Conflict(
                f"{item_name} is already archived as {document.reference_code} (document {document.id})",
                Conflict.ALREADY_ARCHIVED,
                {"name": item_name, "reference_code": document.reference_code},
            )
        return Conflict(NEUTRAL_DUPLICATE, Conflict.DUPLICATE_FILE)
    if job is not None:
        level = AccessLevel.TOP_SECRET if job.access_level is None else job.access_level
        if within_scope(viewer, level=int(level), departments=list(job.departments or [])):
            return Conflict(
                f"{item_name} is already submitted as job {job.id} ({job.state})",
                Conflict.ALREADY_SUBMITTED,
                {"name": item_name, "job": job.id},
            )
        return Conflict(NEUTRAL_DUPLICATE, Conflict.DUPLICATE_FILE)
    return None


def replayed_job(session: Session, external_id: str, actor: str) -> IngestJob | None:
    """The job a calling system already made under this external id: a retry gets it back, not a new one."""
    job = session.scalars(select(IngestJob).where(IngestJob.external_id == external_id)).first()
    if job is None:
        return None
    if job.submitted_by != actor:
        raise Conflict(
            f"external_id {external_id!r} is already used by another account's submission; use your own",
            Conflict.EXTERNAL_ID_TAKEN,
            {"external_id": external_id},
        )
    return job


def release_claim(job: IngestJob) -> None:
    """A failed job gives its SHA-256 back, so the file can be submitted again."""
    if job.state == JobState.FAILED:
        job.claim_sha256 = None
