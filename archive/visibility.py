"""The access policy applied to catalogue rows: documents, pages, jobs and batches. Every use case that names a
row by id asks here, so a hidden row answers exactly like a missing one on every path."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.access import Principal, can_see, within_scope
from archive.models import Batch, Document, IngestJob, Page
from archive.permissions import Action
from archive.values import AccessLevel


def document_visible(principal: Principal, document: Document) -> bool:
    return can_see(principal, level=document.access_level, departments=document.departments, status=document.status)


def page_visible(principal: Principal, page: Page) -> bool:
    return document_visible(principal, page.document)


def batch_visible(principal: Principal, batch: Batch) -> bool:
    """A batch is work in progress: for those who may read work, at the batch's level."""
    if not principal.may(Action.READ_WORK):
        return False
    return within_scope(principal, level=int(AccessLevel.parse(batch.level)), departments=[])


def job_visible(session: Session, principal: Principal, job: IngestJob) -> bool:
    """A job shows its item's file name and errors: visible only with the item itself."""
    if not principal.may(Action.READ_WORK):
        return False
    if job.document_id is not None:
        document = session.get(Document, job.document_id)
        return document is not None and document_visible(principal, document)
    if job.access_level is None:
        return False
    return within_scope(principal, level=job.access_level, departments=list(job.departments or []))
