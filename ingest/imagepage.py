"""One page image through the image pipeline: quarter turn, measure (quality gate), straighten, read by the
request's engine (which writes the one-page PDF), retry upright when it reads as garbage, judge.

Image items (ingest.ocr) and the scanned pages of PDFs (ingest.pdfpages) both go through `read_image_page`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from ingest.engines.base import OcrEngine, PageImage, PageOcr
from ingest.geometry.orientation import sideways, upright
from ingest.geometry.page import measure_geometry, straighten
from ingest.quality.gate import evaluate
from ingest.quality.measure import PageMeasurements, measure_page
from ingest.results import OcrRequest, PageResult, WordBox, word_boxes


class Clock:
    """The engine of one item, and the seconds its quality checks took."""

    def __init__(self, engine: OcrEngine) -> None:
        self.quality = 0.0
        self.engine = engine


@dataclass(frozen=True)
class PageRef:
    source: Path
    frame: int
    single: bool  # the source is this one page: the engine may read the file as it is
    number: int
    source_index: int
    recorded_dpi: float | None  # the resolution the file records (an image's header, a PDF page's drawn size)


def read_image_page(request: OcrRequest, image: Image.Image, page: PageRef, clock: Clock) -> tuple[PageResult, Path]:
    """Turn a sideways page upright, measure, straighten (each half of a spread) when the skew is sure,
    OCR, and retry upright when the page reads as garbage."""
    number = page.number
    path = page.source if page.single else None
    recorded = page.recorded_dpi
    started = time.perf_counter()
    geometry = measure_geometry(image)
    work, turned = image, 0
    if clock.engine.detects_orientation and sideways(image, geometry):
        turned = _quarter_turn(request, clock.engine, image, page, recorded)
        if turned:
            work, path = upright(image, turned), None
            geometry = measure_geometry(work)
    straightening = geometry.needs_turn(request.deskew_min_degrees)
    measured = measure_page(work, dpi=recorded, geometry=geometry, will_straighten=straightening)
    clock.quality += time.perf_counter() - started
    dpi = recorded or measured.estimated_dpi  # the engine is given the estimate when the file records none
    if straightening:
        work, path = straighten(work, geometry, request.deskew_min_degrees), None
    if path is None:  # engines read files: hand it this page alone
        path = write_page(request, work, number, dpi)
    ocr = _ocr(request, clock.engine, path, page, dpi)
    rotated = turned
    if not turned and ocr.upside_down:
        # most lines read upside down: the page turned over, unless that reads upside down too
        rotated, ocr, path = _read_turned(request, clock.engine, work, ocr, page, dpi, path, 180, _reads_upright)
    elif not turned and clock.engine.detects_orientation and _may_be_upside_down(ocr, measured, request):
        angle = _detected_rotation(request, clock.engine, work, page, dpi)  # kept only if it reads better
        rotated, ocr, path = _read_turned(request, clock.engine, work, ocr, page, dpi, path, angle, _reads_better)
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
        _boxes_on_page(ocr, path),
    )
    return result, ocr.pdf_path


def _boxes_on_page(ocr: PageOcr, read: Path) -> tuple[WordBox, ...]:
    """The engine's boxes as fractions of the image it read: the page of the access copy (its one-page PDF is
    that image, upright and straightened)."""
    if not ocr.boxes:
        return ()
    with Image.open(read) as image:
        width, height = image.size
    return word_boxes(ocr.boxes, width, height)


def _quarter_turn(request: OcrRequest, engine: OcrEngine, image: Image.Image, page: PageRef, dpi: float | None) -> int:
    """Clockwise degrees (90 or 270) that make a sideways page upright: the engine's orientation detector, or,
    when it cannot tell, whichever of the two turns reads with the higher confidence (0 if neither reads)."""
    angle = _detected_rotation(request, engine, image, page, dpi)
    if angle in (90, 270):
        return angle
    best, best_confidence = 0, -1.0
    for candidate in (90, 270):
        suffix = f"-q{candidate}"
        turned = write_page(request, upright(image, candidate), page.number, dpi, suffix=suffix)
        confidence = _ocr(request, engine, turned, page, dpi, suffix=suffix).confidence
        if confidence is not None and confidence > best_confidence:
            best, best_confidence = candidate, confidence
    return best


def _ocr(
    request: OcrRequest, engine: OcrEngine, path: Path, page: PageRef, dpi: float | None, suffix: str = ""
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


def _reads_better(first: PageOcr, second: PageOcr) -> bool:
    return (second.confidence or 0) > (first.confidence or 0)


def _reads_upright(first: PageOcr, second: PageOcr) -> bool:
    return not second.upside_down


def _read_turned(
    request: OcrRequest,
    engine: OcrEngine,
    image: Image.Image,
    first: PageOcr,
    page: PageRef,
    dpi: float | None,
    read: Path,
    angle: int,
    keep: Callable[[PageOcr, PageOcr], bool],
) -> tuple[int, PageOcr, Path]:
    """OCR the page again turned clockwise by `angle` degrees (none: 0) and keep that reading, and the image it
    read, when `keep(first, second)` says so. (degrees turned, the reading kept, the image it was read from)."""
    if angle == 0:
        return 0, first, read
    suffix = f"-r{angle}"
    turned = write_page(request, image.rotate(-angle, expand=True), page.number, dpi, suffix=suffix)
    second = _ocr(request, engine, turned, page, dpi, suffix=suffix)
    return (angle, second, turned) if keep(first, second) else (0, first, read)


def _detected_rotation(
    request: OcrRequest, engine: OcrEngine, image: Image.Image, page: PageRef, dpi: float | None
) -> int:
    """The engine's orientation detector on the page as it is: clockwise degrees to upright, 0 when it cannot tell."""
    probe = write_page(request, image, page.number, dpi, suffix="-probe")
    return engine.detect_rotation(probe, timeout_seconds=request.page_timeout_seconds)


def write_page(request: OcrRequest, image: Image.Image, number: int, dpi: float | None, suffix: str = "") -> Path:
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
