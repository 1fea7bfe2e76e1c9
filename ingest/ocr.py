"""OCR one file into page texts, confidences and a PDF/A-2b access copy. Runs inside a worker process.

Images take the fast path: tesseract writes PDF + text + TSV per page in one pass, pikepdf joins the pages,
ocrmypdf only converts to PDF/A. PDFs go through ocrmypdf, which keeps pages that already carry text.
"""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from archive.errors import ProcessingFailed
from archive.text import join_han
from ingest.pdfa import merge_pages, page_geometry, page_text, to_pdfa
from ingest.results import OcrRequest, OcrResult, PageResult
from ingest.tesseract import limit_threads, ocr_page

_SKIPPED_MARK = "[OCR skipped on page"


def process(request: OcrRequest) -> OcrResult:
    """Entry point for the worker pool."""
    limit_threads()
    started = time.perf_counter()
    request.workdir.mkdir(parents=True, exist_ok=True)
    if request.media_type == "application/pdf":
        pages, pdfa = _process_pdf(request)
    else:
        pages, pdfa = _process_image(request)
    return OcrResult(tuple(pages), pdfa, round(time.perf_counter() - started, 3))


def _process_image(request: OcrRequest) -> tuple[list[PageResult], Path]:
    pages: list[PageResult] = []
    page_pdfs: list[Path] = []
    with Image.open(request.source) as image:
        frames = getattr(image, "n_frames", 1)
        for index in range(frames):
            image.seek(index)
            number = index + 1
            dpi = _image_dpi(image)
            page_input = request.source
            if frames > 1:  # tesseract gets one page at a time, so a slow page is timed alone
                page_input = request.workdir / f"frame-{number:04d}.tif"
                image.save(page_input, format="TIFF", dpi=(dpi or request.assumed_dpi,) * 2)
            ocr = ocr_page(
                page_input,
                out_base=request.workdir / f"page-{number:04d}",
                languages=request.languages,
                dpi=round(dpi or request.assumed_dpi),
                timeout_seconds=request.page_timeout_seconds,
                page_number=number,
            )
            page_pdfs.append(ocr.pdf_path)
            pages.append(PageResult(number, image.width, image.height, dpi, ocr.text, ocr.confidence, "ocr"))
    merged = request.workdir / "merged.pdf"
    merge_pages(page_pdfs, merged)
    pdfa = request.workdir / "access.pdf"
    to_pdfa(merged, pdfa, languages=request.languages, sidecar=None, page_timeout=request.page_timeout_seconds)
    return pages, pdfa


def _process_pdf(request: OcrRequest) -> tuple[list[PageResult], Path]:
    pdfa = request.workdir / "access.pdf"
    sidecar = request.workdir / "sidecar.txt"
    to_pdfa(
        request.source,
        pdfa,
        languages=request.languages,
        sidecar=sidecar,
        page_timeout=request.page_timeout_seconds,
    )
    sidecar_pages = sidecar.read_text(encoding="utf-8").split("\f")
    pages: list[PageResult] = []
    for index, (width, height, dpi) in enumerate(page_geometry(pdfa)):
        text = sidecar_pages[index].strip() if index < len(sidecar_pages) else ""
        source = "ocr"
        if text.startswith(_SKIPPED_MARK):
            text, source = page_text(pdfa, index), "existing"
        pages.append(PageResult(index + 1, width, height, dpi, join_han(text), None, source))
    if not pages:
        raise ProcessingFailed(f"{request.source.name}: no pages came out of OCR")
    return pages, pdfa


def _image_dpi(image: Image.Image) -> float | None:
    """The resolution the scanner recorded, if any (some files carry 1 or 72 as a placeholder)."""
    raw = image.info.get("dpi")
    if not raw:
        return None
    value = float(raw[0])
    return round(value, 1) if value >= 100 else None
