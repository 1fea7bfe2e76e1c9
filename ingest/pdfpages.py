"""The PDF path: scanned pages are read like image pages; the document is put back together as PDF/A-2b.

A plain scan is a page that draws one image and nothing else (no text, no vector paths, no annotations). Each
goes through `ingest.imagepage.read_image_page` as it is displayed (`ingest.geometry.pdfpage.displayed_scans`):
quarter turn, measure, straighten, the request's engine (tesseract, ppocr, auto or null), a one-page PDF with
`write_page_pdf`'s text layer. That page replaces the original at the original's displayed size (turned with
the page when the pipeline turned it upright), the image where the original showed it. Other pages stay as they
are: pages with text are kept (ocrmypdf's --skip-text), pages with several images, or images and vector
content, go to the engine's PDF path (ocrmypdf) as before. A document of plain scans only is joined and saved
by pikepdf, like image items; otherwise ocrmypdf converts the assembled document (its null OCR engine when no
page is left to read).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import pikepdf

from archive.errors import ProcessingFailed
from ingest.engines.base import PageText
from ingest.geometry.page import measure_geometry
from ingest.geometry.pdfpage import DisplayedScan, displayed_scans, has_text, image_matrix, prepare_for_ocr
from ingest.imagepage import Clock, PageRef, read_image_page
from ingest.pdfa import page_geometry, page_text, save_pdfa, to_pdfa
from ingest.quality.gate import evaluate
from ingest.quality.measure import PageMeasurements, measure_page
from ingest.results import OcrRequest, PageResult, WordBox

# Operators a plain scan may use: graphics state and drawing its image (no paths, text, shadings, inline images).
_PLAIN_OPERATORS = frozenset({"q", "Q", "cm", "Do", "gs", "w", "J", "j", "M", "d", "ri", "i"})

Box = tuple[float, float, float, float]  # left, bottom, right, top


def process_pdf(request: OcrRequest, clock: Clock) -> tuple[list[PageResult], Path]:
    [source] = request.sources
    pdfa = request.workdir / "access.pdf"
    started = time.perf_counter()
    plain, count, needs_ocr = _classify(source)
    clock.quality += time.perf_counter() - started
    read: dict[int, tuple[PageResult, Path]] = {}
    scans: dict[int, DisplayedScan] = {}
    for scan in displayed_scans(source):  # measured as a reader displays them
        if scan.index in plain:
            page = PageRef(source, scan.index, False, scan.index + 1, 0, scan.dpi)
            read[scan.index] = read_image_page(request, scan.image, page, clock)
        else:
            scans[scan.index] = scan
    if not read:
        return ocrmypdf_path(request, clock, source, scans)
    if len(read) == count:
        save_pdfa(_placed_pages(source, read), pdfa, info_from=source)
        return [read[index][0] for index in range(count)], pdfa
    assembled = request.workdir / "assembled.pdf"
    _assemble(source, read, assembled)
    if needs_ocr - read.keys():
        pages, pdfa = ocrmypdf_path(request, clock, assembled, scans)
    else:  # every other page has its own text: only the conversion is left
        prepared = _prepared(request, clock, assembled)
        to_pdfa(prepared, pdfa, languages=request.languages, sidecar=None, page_timeout=60.0, recognise=False)
        pages = [_existing(pdfa, index) for index in range(count) if index not in read]
    by_number = {page.number: page for page in pages} | {index + 1: result for index, (result, _) in read.items()}
    return [by_number[number] for number in range(1, count + 1)], pdfa


def _classify(source: Path) -> tuple[set[int], int, set[int]]:
    """(indexes of plain scans, page count, indexes of pages without text)."""
    plain: set[int] = set()
    textless: set[int] = set()
    with pikepdf.open(source) as pdf:
        for index, page in enumerate(pdf.pages):
            if not has_text(page):
                textless.add(index)
                if _plain_scan(page):
                    plain.add(index)
        return plain, len(pdf.pages), textless


def _plain_scan(page: pikepdf.Page) -> bool:
    images = page.get_images()
    if len(images) != 1 or "/Annots" in page.obj:
        return False
    [name] = images.keys()
    drawn = 0
    for instruction in pikepdf.parse_content_stream(page):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            return False  # an inline image
        op = str(instruction.operator)
        if op not in _PLAIN_OPERATORS:
            return False
        if op == "Do":
            if str(instruction.operands[0]) != str(name):
                return False  # a form XObject
            drawn += 1
    return drawn == 1


def _placed_pages(source: Path, read: dict[int, tuple[PageResult, Path]]) -> list[Path]:
    """Each read page's PDF rewritten in place at its original page's displayed size."""
    with pikepdf.open(source) as pdf:
        for index, (result, page_pdf) in list(read.items()):
            with pikepdf.open(page_pdf, allow_overwriting_input=True) as part:
                region = _place(part.pages[0], pdf.pages[index], result.rotated_degrees)
                part.save(page_pdf)
            read[index] = (replace(result, boxes=_within(result.boxes, region)), page_pdf)
    return [read[index][1] for index in sorted(read)]


def _within(boxes: tuple[WordBox, ...], region: Box) -> tuple[WordBox, ...]:
    """Boxes given as fractions of the image, as fractions of the page that shows the image in `region`
    (left, top, right, bottom, fractions of the page, y down)."""
    left, top, right, bottom = region
    width, height = right - left, bottom - top
    return tuple(
        WordBox(
            word.text,
            (
                round(left + word.box[0] * width, 4),
                round(top + word.box[1] * height, 4),
                round(left + word.box[2] * width, 4),
                round(top + word.box[3] * height, 4),
            ),
        )
        for word in boxes
    )


def _assemble(source: Path, read: dict[int, tuple[PageResult, Path]], out: Path) -> None:
    """`source` with the read pages swapped for their page PDFs (placed as they were)."""
    _placed_pages(source, read)
    parts: list[pikepdf.Pdf] = []
    try:
        with pikepdf.open(source) as pdf:
            for index in sorted(read):
                part = pikepdf.open(read[index][1])
                parts.append(part)
                pdf.pages.insert(index, part.pages[0])
                del pdf.pages[index + 1]
            pdf.save(out)
    finally:
        for part in parts:
            part.close()


def _place(page: pikepdf.Page, original: pikepdf.Page, turned: int) -> Box:
    """Give `page` (the whole page is the image) the displayed size of `original`, the image drawn where
    `original` displays its image; both turned clockwise by `turned` when the pipeline turned the scan.
    Returns where the image is on the page: left, top, right, bottom as fractions of it (y down)."""
    crop = [float(value) for value in original.cropbox]
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    [name] = original.get_images().keys()
    a, b, c, d, e, f = image_matrix(original, str(name)) or (width, 0.0, 0.0, height, crop[0], crop[1])
    xs = [a * x + c * y + e - crop[0] for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
    ys = [b * x + d * y + f - crop[1] for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
    box: Box = (min(xs), min(ys), max(xs), max(ys))
    for degrees in (int(original.obj.get("/Rotate", 0)), turned):
        box, width, height = _turn(box, width, height, degrees)
    own = [float(value) for value in page.mediabox]
    sx, sy = (box[2] - box[0]) / (own[2] - own[0]), (box[3] - box[1]) / (own[3] - own[1])
    tx, ty = box[0] - sx * own[0], box[1] - sy * own[1]
    page.contents_add(f"q {sx:.6f} 0 0 {sy:.6f} {tx:.4f} {ty:.4f} cm\n".encode(), prepend=True)
    page.contents_add(b"\nQ\n", prepend=False)
    page.mediabox = pikepdf.Array([0, 0, round(width, 4), round(height, 4)])
    for key in ("/CropBox", "/Rotate"):
        if key in page.obj:
            del page.obj[key]
    unit = float(original.obj.get("/UserUnit", 1.0))
    if unit != 1.0:
        page.obj.UserUnit = unit
    if width <= 0 or height <= 0:
        return (0.0, 0.0, 1.0, 1.0)
    return (box[0] / width, 1 - box[3] / height, box[2] / width, 1 - box[1] / height)


def _turn(box: Box, width: float, height: float, degrees: int) -> tuple[Box, float, float]:
    """`box` on a width x height page once the page is turned clockwise by `degrees` (y runs up)."""
    left, bottom, right, top = box
    quarter = (degrees // 90) % 4
    if quarter == 1:
        return (bottom, width - right, top, width - left), height, width
    if quarter == 2:
        return (width - right, height - top, width - left, height - bottom), width, height
    if quarter == 3:
        return (height - top, left, height - bottom, right), height, width
    return box, width, height


def _existing(pdfa: Path, index: int) -> PageResult:
    width, height, dpi = page_geometry(pdfa)[index]
    return PageResult(index + 1, 0, width, height, dpi, page_text(pdfa, index), None, "existing")


def ocrmypdf_path(
    request: OcrRequest, clock: Clock, source: Path, scans: dict[int, DisplayedScan]
) -> tuple[list[PageResult], Path]:
    """The engine's PDF path (ocrmypdf) for `source`; pages in `scans` are measured and judged as scans."""
    pdfa = request.workdir / "access.pdf"
    prepared = _prepared(request, clock, source)
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
            pages.append(_existing(pdfa, index))
            continue
        measurements: dict[str, object] = {}
        findings: tuple = ()  # type: ignore[type-arg]
        if index in scans:  # only scanned pages are judged as scans
            started = time.perf_counter()
            measured = _measure_scan(scans[index], request)
            ocr_text = reading.text if reading.text_source == "ocr" else None
            findings = tuple(evaluate(measured, request.profile, ocr_confidence=reading.confidence, ocr_text=ocr_text))
            measurements = asdict(measured)
            clock.quality += time.perf_counter() - started
        engine = reading.engine or clock.engine.name
        pages.append(
            PageResult(
                index + 1, 0, width, height, dpi, reading.text, reading.confidence, reading.text_source,
                measurements, findings, 0, engine,
            )
        )  # fmt: skip
    if not pages:
        raise ProcessingFailed(f"{source.name}: no pages came out of OCR")
    return pages, pdfa


def _prepared(request: OcrRequest, clock: Clock, source: Path) -> Path:
    """Skewed scans straightened, /UserUnit pages rescaled (`prepare_for_ocr`); pages with text stay."""
    started = time.perf_counter()
    prepared = prepare_for_ocr(source, request.workdir / "prepared.pdf", min_degrees=request.deskew_min_degrees)
    clock.quality += time.perf_counter() - started
    return prepared


def _measure_scan(scan: DisplayedScan, request: OcrRequest) -> PageMeasurements:
    geometry = measure_geometry(scan.image)
    turned = geometry.needs_turn(request.deskew_min_degrees)  # else prepare_for_ocr leaves it as it was
    return measure_page(scan.image, dpi=scan.dpi, geometry=geometry, will_straighten=turned)
