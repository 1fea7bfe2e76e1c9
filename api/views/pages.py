"""Typed results for the page viewer: a record's pages with their sizes, reading engine, confidence, review
state and findings, and the links to each page's image, thumbnail and text."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View
from api.views.devices import PageProcessView
from api.views.records import FindingView, finding_view
from api.views.urls import document_text_url, page_image_url, page_thumbnail_url
from archive.models import Page


class PageLinks(View):
    image: str = Field(description="The page drawn with its long side ~1600 px (JPEG)")
    thumbnail: str = Field(description="The page drawn with its long side ~200 px (JPEG)")
    text: str


class PageInfoView(View):
    """One current page of a record, for the viewer."""

    number: int
    width_px: int = Field(description="The scan's width in pixels (the images keep its proportions)")
    height_px: int
    dpi: float | None
    engine: str = Field(description="The OCR engine that read it (tesseract, ppocr, null); '' for a PDF's own text")
    ocr_confidence: float | None = Field(description="Mean word confidence 0-100; null when not measured")
    text_source: str
    review: str = Field(description="ok, held, accepted or rejected")
    findings_count: int
    findings: list[FindingView]
    process: PageProcessView | None = Field(
        default=None,
        description="Digitisation process metadata: the image's own capture tags (make, model, dpi, mode), who "
        "uploaded it and when, and the batch's declared device and settings; null for pages filed before it was kept",
    )
    links: PageLinks


class PageListView(View):
    document_id: int
    pages: list[PageInfoView]


def page_info_view(document_id: int, page: Page) -> PageInfoView:
    return PageInfoView(
        number=page.number,
        width_px=page.width_px,
        height_px=page.height_px,
        dpi=page.dpi,
        engine=str(page.measurements.get("ocr_engine") or ""),
        ocr_confidence=page.ocr_confidence,
        text_source=str(page.text_source),
        review=str(page.review),
        findings_count=len(page.findings),
        findings=[finding_view(finding) for finding in page.findings],
        process=PageProcessView.of(page.process),
        links=PageLinks(
            image=page_image_url(document_id, page.number),
            thumbnail=page_thumbnail_url(document_id, page.number),
            text=document_text_url(document_id, page.number),
        ),
    )


class WordBoxView(View):
    text: str = Field(description="The recognised word, line or part of a line the query's terms fall on")
    box: list[float] = Field(
        min_length=4,
        max_length=4,
        description="left, top, right, bottom as fractions 0-1 of the page's width and height (any rendering)",
    )


class PageWordsView(View):
    """Where the query's terms are on one page, for highlighting them on its image."""

    document_id: int
    page: int
    query: str | None = Field(description="The terms asked for; null: every recognised word or line")
    boxes: list[WordBoxView] = Field(description="Empty for pages read before boxes were kept, or without text")
