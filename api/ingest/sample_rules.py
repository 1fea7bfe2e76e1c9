"""The rules of acceptance sampling that need the catalogue: who may review a page, which pages changed since a
batch was returned, which failed pages were never rescanned, and the sample as the caller may see it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import Principal
from archive.errors import PermissionDenied
from archive.models import BatchSample, Document, IngestJob, Page
from archive.values import PageReview
from archive.visibility import page_visible
from archive.workflow import OUT_OF_USE


def uploaders(session: Session, page: Page) -> set[str]:
    """Who brought this page in: the uploader of its item, and whoever replaced an earlier version of it."""
    people = set(session.scalars(select(IngestJob.submitted_by).where(IngestJob.document_id == page.document_id)))
    earlier = select(Page.reviewed_by).where(
        Page.document_id == page.document_id, Page.number == page.number, Page.review == PageReview.REPLACED
    )
    people.update(name for name in session.scalars(earlier) if name)
    return people


def check_reviewer(session: Session, reviewer: str, pages: Sequence[Page]) -> None:
    """The reviewer of a sample is not the person who scanned or uploaded it (four eyes)."""
    own = [page for page in pages if reviewer in uploaders(session, page)]
    if own:
        numbers = ", ".join(f"{page.id}" for page in own[:10])
        raise PermissionDenied(
            f"you scanned or uploaded page(s) {numbers} of this sample; another archivist must review it "
            "(Settings.separate_reviewer)",
            PermissionDenied.OWN_PAGES_IN_SAMPLE,
            {"pages": numbers},
        )


def changed_pages(session: Session, batch_id: int, *, since: dt.datetime) -> list[int]:
    """Current pages of the batch that were rescanned, or whose item was added, after `since`."""
    current = list(
        session.scalars(
            select(Page)
            .join(Document, Page.document_id == Document.id)
            .where(Document.batch_id == batch_id, Page.current.is_(True), Document.status.not_in(OUT_OF_USE))
        )
    )
    replaced = {
        (document_id, number)
        for document_id, number, at in session.execute(
            select(Page.document_id, Page.number, Page.reviewed_at)
            .join(Document, Page.document_id == Document.id)
            .where(Document.batch_id == batch_id, Page.review == PageReview.REPLACED)
        )
        if at is not None and at > since
    }
    return sorted(
        page.id for page in current if (page.document_id, page.number) in replaced or page.document.created_at > since
    )


def unresolved_failures(session: Session, sample: BatchSample) -> list[int]:
    """Pages that failed the sample and are still the current version (not rescanned, not withdrawn)."""
    failed = [verdict.page_id for verdict in sample.verdicts if not verdict.passed]
    if not failed:
        return []
    pages = session.scalars(
        select(Page)
        .join(Document, Page.document_id == Document.id)
        .where(Page.id.in_(failed), Page.current.is_(True), Document.status.not_in(OUT_OF_USE))
    )
    return sorted(page.id for page in pages)


def sample_view(session: Session, sample: BatchSample, actor: Principal) -> dict[str, Any]:
    """The sample's rows for the pages the caller may see (a hidden page is not listed, nor counted)."""
    pages = {p.id: p for p in session.scalars(select(Page).where(Page.id.in_(sample.page_ids)))}
    shown = [page_id for page_id in sample.page_ids if page_id in pages and page_visible(actor, pages[page_id])]
    verdicts = {v.page_id: v for v in sample.verdicts if v.page_id in shown}
    rows = []
    for page_id in shown:
        page, verdict = pages[page_id], verdicts.get(page_id)
        rows.append(
            {
                "page_id": page_id,
                "document_id": page.document_id,
                "page": page.number,
                "reference_code": page.document.reference_code,
                "changed": page_id in sample.changed_page_ids,
                "verdict": None if verdict is None else ("pass" if verdict.passed else "fail"),
                "defect": verdict.defect if verdict else None,
                "reviewer": verdict.reviewer if verdict else None,
            }
        )
    return {
        "sample_id": sample.id,
        "reason": sample.reason,
        "seed": sample.seed,
        "percent": sample.percent,
        "minimum": sample.minimum,
        "population": sample.population,
        "drawn_by": sample.drawn_by,
        "drawn_at": sample.drawn_at.isoformat(),
        "pages": rows,
        "reviewed": len(verdicts),
        "passed": sum(1 for v in verdicts.values() if v.passed),
    }
