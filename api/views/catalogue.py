"""Plain views of catalogue rows, rendered as JSON by both the CLI and the API."""

from __future__ import annotations

from typing import Any

from api.views.urls import document_url, job_url
from archive.models import IngestJob
from archive.values import AccessLevel


def level_label(level: int | None) -> str | None:
    return None if level is None else AccessLevel(level).label


def job_view(job: IngestJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "state": job.state,
        "source_name": job.source_name,
        "document_id": job.document_id,
        "error": job.error,
        "submitted_by": job.submitted_by,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "seconds": job.seconds,
        "links": {"self": job_url(job.id)} | ({"document": document_url(job.document_id)} if job.document_id else {}),
    }
