"""OCR one item into page texts, confidences, quality findings and a PDF/A-2b access copy, in a worker process.

Images take the fast path: each page is measured (quality gate), deskewed when needed, and read by the
request's engine (tesseract: one run that writes PDF + text + TSV); pikepdf joins the pages and saves them as
validated PDF/A-2b. PDFs go to the engine's PDF path (tesseract: ocrmypdf, which keeps pages that carry text).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image

from archive.diskfull import MB, disk_full, free_bytes, full_message
from archive.errors import DanganError, InsufficientStorage, ProcessingFailed
from archive.failpoints import failpoint
from ingest.engines import get_engine
from ingest.engines.base import OcrEngine, PageImage, PageOcr, PageText
from ingest.geometry.orientation import sideways, upright
from ingest.geometry.page import measure_geometry, straighten
from ingest.geometry.pdfpage import DisplayedScan, displayed_scans, prepare_for_ocr
from ingest.pdfa import page_geometry, page_text, save_pdfa
from ingest.quality.gate import evaluate
from ingest.quality.measure import PageMeasurements, measure_page
from ingest.quality.resolution import recorded_dpi
from ingest.results import OcrRequest, OcrResult, PageResult

WORK_AREA_SLACK = MB  # an engine failing with less free space than this in its work area met a full disk


class _Clock:
    def __init__(self, engine: OcrEngine) -> None:
        self.quality = 0.0
        self.engine = engine


def process(request: OcrRequest) -> OcrResult:
    """Entry point for the worker pool. A full disk under the work folder is InsufficientStorage (the job
    waits and runs again), not a failure of the item: also when the engine or the PDF writer only reports
    "could not write" while the work area has (next to) no space left."""
    started = time.perf_counter()
    clock = _Clock(get_engine(request.engine, request.engine_options))
    try:
        request.workdir.mkdir(parents=True, exist_ok=True)
        failpoint("ocr.workdir")
        if request.is_pdf:
            pages, pdfa = _process_pdf(request, clock)
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


def _process_images(request: OcrRequest, clock: _Clock) -> tuple[list[PageResult], Path]:
    pages: list[PageResult] = []
    page_pdfs: list[Path] = []
    for source_index, source in enumerate(request.sources):
        with Image.open(source) as image:
            frames = getattr(image, "n_frames", 1)
            for frame in range(frames):
                image.seek(frame)
                number = len(pages) + 1
                page = _Page(source, frame, frames == 1, number, source_index)
                result, pdf = _image_page(request, image, page, clock)
                pages.append(result)
                page_pdfs.append(pdf)
    pdfa = request.workdir / "access.pdf"
    save_pdfa(page_pdfs, pdfa)
    return pages, pdfa


@dataclass(frozen=True)
class _Page:
    source: Path
    frame: int
    single: bool  # the source is this one page: the engine may read the file as it is
    number: int
    source_index: int


def _image_page(request: OcrRequest, image: Image.Image, page: _Page, clock: _Clock) -> tuple[PageResult, Path]:
    """Turn a sideways page upright, measure, straighten (each half of a spread) when the skew is sure,
    OCR, and retry upright when the page reads as garbage."""
    number = page.number
    path = page.source if page.single else None
    recorded = recorded_dpi(image)
    started = time.perf_counter()
    geometry = measure_geometry(image)
    work, turned = image, 0
    if clock.engine.detects_orientation and sideways(image, geometry):
        turned = _quarter_turn(request, clock.engine, image, page, recorded)
        if turned:
            work, path = upright(image, turned), None
            geometry = measure_geometry(work)
    measured = measure_page(work, dpi=recorded, geometry=geometry)
    clock.quality += time.perf_counter() - started
    dpi = recorded or measured.estimated_dpi  # the engine is given the estimate when the file records none
    if geometry.needs_turn(request.deskew_min_degrees):
        work, path = straighten(work, geometry, request.deskew_min_degrees), None
    else:  # not rotated: what is left is what was measured
        measured = replace(measured, skew_after_degrees=measured.skew_degrees)
    if path is None:  # engines read files: hand it this page alone
        path = _write_page(request, work, number, dpi)
    ocr = _ocr(request, clock.engine, path, page, dpi)
    rotated = turned
    if not turned and clock.engine.detects_orientation and _may_be_upside_down(ocr, measured, request):
        rotated, ocr = _retry_rotated(request, clock.engine, work, ocr, page, dpi)
    started = time.perf_counter()
    read = ocr.text if ocr.text_source == "ocr" else None
    findings = tuple(evaluate(measured, request.profile, ocr_confidence=ocr.confidence, ocr_text=read))
    clock.quality += time.perf_counter() - started
    result = PageResult(
        number,
        page.source_index,
        image.width,
        image.height,
        recorded,
        ocr.text,
        ocr.confidence,
        ocr.text_source,
        asdict(measured),
        findings,
        rotated,
        ocr.engine or clock.engine.name,
    )
    return result, ocr.pdf_path


def _quarter_turn(request: OcrRequest, engine: OcrEngine, image: Image.Image, page: _Page, dpi: float | None) -> int:
    """Clockwise degrees (90 or 270) that make a sideways page upright: the engine's orientation detector, or,
    when it cannot tell, whichever of the two turns reads with the higher confidence (0 if neither reads)."""
    probe = _write_page(request, image, page.number, dpi, suffix="-probe")
    angle = engine.detect_rotation(probe, timeout_seconds=request.page_timeout_seconds)
    if angle in (90, 270):
        return angle
    best, best_confidence = 0, -1.0
    for candidate in (90, 270):
        suffix = f"-q{candidate}"
        turned = _write_page(request, upright(image, candidate), page.number, dpi, suffix=suffix)
        confidence = _ocr(request, engine, turned, page, dpi, suffix=suffix).confidence
        if confidence is not None and confidence > best_confidence:
            best, best_confidence = candidate, confidence
    return best


def _ocr(
    request: OcrRequest, engine: OcrEngine, path: Path, page: _Page, dpi: float | None, suffix: str = ""
) -> PageOcr:
    number = page.number
    image = PageImage(
        image_path=path,
        source=page.source,
        frame=page.frame,
        number=number,
        dpi=round(dpi or request.assumed_dpi),
        out_base=request.workdir / f"page-{number:04d}{suffix}",
    )
    return engine.read_page(image, languages=request.languages, timeout_seconds=request.page_timeout_seconds)


def _may_be_upside_down(ocr: PageOcr, measured: PageMeasurements, request: OcrRequest) -> bool:
    if measured.blank:
        return False
    return ocr.confidence is None or ocr.confidence < request.orientation_check_below_confidence


def _retry_rotated(
    request: OcrRequest, engine: OcrEngine, image: Image.Image, first: PageOcr, page: _Page, dpi: float | None
) -> tuple[int, PageOcr]:
    """Ask the engine's orientation detector; keep the rotated reading only if it reads better."""
    number = page.number
    probe = _write_page(request, image, number, dpi, suffix="-probe")
    angle = engine.detect_rotation(probe, timeout_seconds=request.page_timeout_seconds)
    if angle == 0:
        return 0, first
    turned = _write_page(request, image.rotate(-angle, expand=True), number, dpi, suffix=f"-r{angle}")
    second = _ocr(request, engine, turned, page, dpi, suffix=f"-r{angle}")
    if (second.confidence or 0) > (first.confidence or 0):
        return angle, second
    return 0, first


def _write_page(request: OcrRequest, image: Image.Image, number: int, dpi: float | None, suffix: str = "") -> Path:
    """Bilevel pages as CCITT G4 TIFF, others as JPEG: tesseract's PDF renderer embeds both as they are,
    where an uncompressed TIFF would be deflated page by page (slow, and a large access copy)."""
    resolution = (dpi or request.assumed_dpi,) * 2
    if image.mode == "1":
        path = request.workdir / f"input-{number:04d}{suffix}.tif"
        image.save(path, format="TIFF", compression="group4", dpi=resolution)
    else:
        path = request.workdir / f"input-{number:04d}{suffix}.jpg"
        rgb_or_grey = image if image.mode in ("L", "RGB") else image.convert("RGB")
        rgb_or_grey.save(path, format="JPEG", quality=92, dpi=resolution)
    return path


def _process_pdf(request: OcrRequest, clock: _Clock) -> tuple[list[PageResult], Path]:
    [source] = request.sources
    pdfa = request.workdir / "access.pdf"
    started = time.perf_counter()
    scans = {scan.index: scan for scan in displayed_scans(source)}  # measured as a reader displays them
    prepared = prepare_for_ocr(source, request.workdir / "prepared.pdf", min_degrees=request.deskew_min_degrees)
    clock.quality += time.perf_counter() - started
    read = clock.engine.pdf_to_pdfa(
        prepared,
        pdfa,
        languages=request.languages,
        page_timeout_seconds=request.page_timeout_seconds,
        workdir=request.workdir,
    )
    pages: list[PageResult] = []
    for index, (width, height, dpi) in enumerate(page_geometry(pdfa)):
        reading = read[index] if index < len(read) else PageText("")
        if reading is None:  # the page kept its own text layer
            reading = PageText(page_text(pdfa, index), text_source="existing")
        text, text_source = reading.text, reading.text_source
        measurements: dict[str, object] = {}
        findings: tuple = ()  # type: ignore[type-arg]
        if index in scans and text_source != "existing":  # only scanned pages are judged as scans
            started = time.perf_counter()
            measured = _measure_scan(scans[index], request)
            ocr_text = text if text_source == "ocr" else None
            findings = tuple(evaluate(measured, request.profile, ocr_confidence=reading.confidence, ocr_text=ocr_text))
            measurements = asdict(measured)
            clock.quality += time.perf_counter() - started
        engine = "" if text_source == "existing" else reading.engine or clock.engine.name
        pages.append(
            PageResult(
                index + 1,
                0,
                width,
                height,
                dpi,
                text,
                reading.confidence,
                text_source,
                measurements,
                findings,
                0,
                engine,
            )
        )
    if not pages:
        raise ProcessingFailed(f"{source.name}: no pages came out of OCR")
    return pages, pdfa


def _measure_scan(scan: DisplayedScan, request: OcrRequest) -> PageMeasurements:
    geometry = measure_geometry(scan.image)
    measured = measure_page(scan.image, dpi=scan.dpi, geometry=geometry)
    if not geometry.needs_turn(request.deskew_min_degrees):  # prepare_for_ocr left it as it was
        measured = replace(measured, skew_after_degrees=measured.skew_degrees)
    return measured
