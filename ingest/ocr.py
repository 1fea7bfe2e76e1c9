"""OCR one item into page texts, confidences, quality findings and a PDF/A-2b access copy, in a worker process.

Each image page goes through `ingest.imagepage.read_image_page` (quarter turn, measure for the quality gate,
straighten, the request's engine writes the one-page PDF); pikepdf joins the pages and saves them as validated
PDF/A-2b. PDFs go to `ingest.pdfpages.process_pdf`: their plain scanned pages are read the same way, the
other pages keep their text or go to the engine's PDF path (ocrmypdf).
"""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from archive.diskfull import MB, disk_full, free_bytes, full_message
from archive.errors import DanganError, InsufficientStorage, ProcessingFailed
from archive.failpoints import failpoint
from ingest.engines import get_engine
from ingest.imagepage import Clock, PageRef, read_image_page
from ingest.pdfa import save_pdfa
from ingest.pdfpages import process_pdf
from ingest.quality.resolution import recorded_dpi
from ingest.results import OcrRequest, OcrResult, PageResult

WORK_AREA_SLACK = MB  # an engine failing with less free space than this in its work area met a full disk


def process(request: OcrRequest) -> OcrResult:
    """Entry point for the worker pool. A full disk under the work folder is InsufficientStorage (the job
    waits and runs again), not a failure of the item: also when the engine or the PDF writer only reports
    "could not write" while the work area has (next to) no space left."""
    started = time.perf_counter()
    clock = Clock(get_engine(request.engine, request.engine_options))
    try:
        request.workdir.mkdir(parents=True, exist_ok=True)
        failpoint("ocr.workdir")
        if request.is_pdf:
            pages, pdfa = process_pdf(request, clock)
        else:
            pages, pdfa = _process_images(request, clock)
    except Exception as exc:
        full = _work_area_full(request, exc)
        if full is not None:
            raise full from None  # (no chained cause: it crosses the worker pool pickled)
        raise
    return OcrResult(tuple(pages), pdfa, round(time.perf_counter() - started, 3), round(clock.quality, 3))


def _work_area_full(request: OcrRequest, exc: Exception) -> InsufficientStorage | None:
    area = request.workdir.parent
    needed = sum(path.stat().st_size for path in request.sources if path.exists())
    full = disk_full(exc, place="OCR work area", path=area, needed=needed, what="this item")
    vague = isinstance(exc, ProcessingFailed) or not isinstance(exc, OSError | DanganError)
    if full is None and vague:
        free = free_bytes(area)  # an engine that lost its output to a full disk says only that it failed
        wanted = max(needed, WORK_AREA_SLACK)  # at least the slack: the engine's own files are not counted here
        if free is not None and free < wanted:
            message = full_message("OCR work area", area, free=free, needed=wanted, what="this item")
            full = InsufficientStorage(message, place="OCR work area", needed_bytes=wanted)
    return full


def _process_images(request: OcrRequest, clock: Clock) -> tuple[list[PageResult], Path]:
    pages: list[PageResult] = []
    page_pdfs: list[Path] = []
    for source_index, source in enumerate(request.sources):
        with Image.open(source) as image:
            frames = getattr(image, "n_frames", 1)
            for frame in range(frames):
                image.seek(frame)
                number = len(pages) + 1
                page = PageRef(source, frame, frames == 1, number, source_index, recorded_dpi(image))
                result, pdf = read_image_page(request, image, page, clock)
                pages.append(result)
                page_pdfs.append(pdf)
    pdfa = request.workdir / "access.pdf"
    save_pdfa(page_pdfs, pdfa)
    return pages, pdfa
