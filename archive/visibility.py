"""The access policy applied to catalogue rows: documents, pages, jobs and batches. Every use case that names a
row by id asks here, so a hidden row answers exactly like a missing one on every path."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from archive.access import Principal, can_see, status_visible, within_scope
from archive.models import Batch, Document, IngestJob, Page
from archive.permissions import Action
from archive.values import AccessLevel, DocumentStatus


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


# -- the same policy as conditions of a query, for listings that page and count only what the caller may see ------


def job_scope(principal: Principal, dialect: str) -> ColumnElement[bool]:
    """`job_visible`, and the job's batch within the caller's clearance (`batch_visible`), as a condition on
    IngestJob rows. `dialect` is the catalogue's (`sqlite` or `postgresql`): department scopes read a JSON list."""
    if not principal.may(Action.READ_WORK):
        return false()
    statuses = [status.value for status in DocumentStatus if status_visible(principal, status)]
    document = (
        select(Document.id)
        .where(
            Document.id == IngestJob.document_id,
            Document.status.in_(statuses),
            _within_scope(principal, Document.access_level, Document.departments, dialect, unlevelled=True),
        )
        .exists()
    )
    queued = and_(
        IngestJob.document_id.is_(None),
        IngestJob.access_level.is_not(None),  # a job with no level: visible to no one (job_visible)
        _within_scope(principal, IngestJob.access_level, IngestJob.departments, dialect, unlevelled=False),
    )
    labels = [level.label for level in AccessLevel if level <= principal.clearance]
    batch = select(Batch.id).where(Batch.id == IngestJob.batch_id, Batch.level.in_(labels)).exists()
    return and_(
        or_(and_(IngestJob.document_id.is_not(None), document), queued),
        or_(IngestJob.batch_id.is_(None), batch),
    )


def document_scope(principal: Principal, dialect: str) -> ColumnElement[bool]:
    """`document_visible` as a condition on Document rows, for listings and counts (browse, recent items):
    the caller's clearance, departments and the workflow states their role may see go into the query."""
    if not principal.may(Action.READ_RECORD):
        return false()
    statuses = [status.value for status in DocumentStatus if status_visible(principal, status)]
    scope = _within_scope(principal, Document.access_level, Document.departments, dialect, unlevelled=True)
    return and_(Document.status.in_(statuses), scope)


def _within_scope(
    principal: Principal,
    level: InstrumentedAttribute[int | None],
    departments: InstrumentedAttribute[list[str]],
    dialect: str,
    *,
    unlevelled: bool,
) -> ColumnElement[bool]:
    """`within_scope` on a row's level and department list columns."""
    if not principal.may(Action.READ_RECORD):
        return false()
    levelled = and_(level.is_not(None), level <= int(principal.clearance))
    if unlevelled and principal.may(Action.SEE_UNLEVELLED):
        levelled = or_(level.is_(None), levelled)
    if principal.may(Action.SEE_ALL_DEPARTMENTS):
        return levelled
    unscoped = or_(departments.is_(None), func.json_array_length(departments) == 0)
    if not principal.departments:
        return and_(levelled, unscoped)
    each = func.json_each if dialect == "sqlite" else func.json_array_elements_text
    names = each(departments).table_valued("value").alias("department")
    shared = select(literal(1)).select_from(names).where(names.c.value.in_(sorted(principal.departments))).exists()
    return and_(levelled, or_(unscoped, shared))
