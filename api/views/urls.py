"""Where each resource lives in the HTTP API: the one place that spells `/api/v1/...` for links in results."""

from __future__ import annotations

PREFIX = "/api/v1"


def document_url(document_id: int) -> str:
    return f"{PREFIX}/documents/{document_id}"


def document_pdf_url(document_id: int) -> str:
    return f"{document_url(document_id)}/pdf"


def document_original_url(document_id: int) -> str:
    return f"{document_url(document_id)}/original"


def document_text_url(document_id: int, page: int | None = None) -> str:
    return f"{document_url(document_id)}/text" + (f"?page={page}" if page is not None else "")


def job_url(job_id: int) -> str:
    return f"{PREFIX}/jobs/{job_id}"


def batch_url(batch_id: int) -> str:
    return f"{PREFIX}/batches/{batch_id}"


def batch_report_url(batch_id: int) -> str:
    return f"{batch_url(batch_id)}/report"


def page_image_url(document_id: int, page: int) -> str:
    return f"{document_url(document_id)}/pages/{page}/image"


def page_thumbnail_url(document_id: int, page: int) -> str:
    return f"{document_url(document_id)}/pages/{page}/thumbnail"
