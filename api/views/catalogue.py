"""Plain views of catalogue rows, rendered as JSON by both the CLI and the API."""

from __future__ import annotations

from typing import Any

from api.views.urls import document_original_url, document_pdf_url, document_url
from archive.dates import PartialDate
from archive.models import Document
from archive.values import AccessLevel


def level_label(level: int | None) -> str | None:
    return None if level is None else AccessLevel(level).label


def date_fields(document: Document) -> dict[str, Any]:
    """The date as precise as the record gives it ("1998-06"), its precision, and the days it covers."""
    date = PartialDate.stored(document.date, document.date_precision)
    if date is None:
        return {"date": None, "date_precision": None, "date_range": None}
    return {
        "date": date.isoformat(),
        "date_precision": date.precision,
        "date_range": {"start": date.start().isoformat(), "end": date.end().isoformat()},
    }


def document_view(document: Document, *, with_pages: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": document.id,
        "reference_code": document.reference_code,
        "title": document.title,
        "fonds": document.fonds.code,
        "batch_id": document.batch_id,
        **date_fields(document),
        "access_level": level_label(document.access_level),
        "departments": list(document.departments),
        "language": document.language,
        "status": document.status,
        "original_filename": document.original_filename,
        "page_count": document.page_count,
        "created_at": document.created_at.isoformat(),
        "links": {
            "self": document_url(document.id),
            "pdf": document_pdf_url(document.id),
            "original": document_original_url(document.id),
        },
    }
    if with_pages:
        view["pages"] = [
            {
                "number": page.number,
                "width_px": page.width_px,
                "height_px": page.height_px,
                "dpi": page.dpi,
                "ocr_confidence": page.ocr_confidence,
                "text_source": page.text_source,
                "characters": len(page.text),
            }
            for page in document.pages
        ]
        view["objects"] = [
            {"role": obj.role, "key": obj.key, "sha256": obj.sha256, "size": obj.size, "media_type": obj.media_type}
            for obj in document.objects
        ]
    return view
