"""Typed results of the page review (api/ingest/review.py): a held page after accept, reject or a rescan."""

from __future__ import annotations

from api.views.base import View
from archive.models import Page


class ReviewFinding(View):
    """One quality finding on the page, as the gate measured it."""

    check: str
    severity: str  # fail | warn
    measured: float
    threshold: float
    message: str


class PageReviewView(View):
    """The page as it now stands: its current version, the review and who made it, and its findings."""

    page_id: int
    document_id: int
    page: int
    version: int
    review: str | None
    note: str | None
    reviewed_by: str | None
    ocr_confidence: float | None
    findings: list[ReviewFinding]


def page_review_view(page: Page) -> PageReviewView:
    return PageReviewView(
        page_id=page.id,
        document_id=page.document_id,
        page=page.number,
        version=page.version,
        review=page.review,
        note=page.review_note,
        reviewed_by=page.reviewed_by,
        ocr_confidence=page.ocr_confidence,
        findings=[
            ReviewFinding(
                check=f.check, severity=f.severity, measured=f.measured, threshold=f.threshold, message=f.message
            )
            for f in page.findings
        ],
    )
