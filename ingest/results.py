"""What crosses the worker-process boundary: plain, picklable dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.engines.base import EngineOptions, TextBox
from ingest.quality.gate import QualityFinding
from ingest.quality.profiles import QualityProfile, get_profile


@dataclass(frozen=True)
class OcrRequest:
    """One item to process: a single file (possibly multi-page) or several page images in order.

    `workdir` is a scratch directory the caller creates and later removes.
    """

    sources: tuple[Path, ...]
    media_type: str  # of the sources: all images, or one PDF
    languages: str
    workdir: Path
    assumed_dpi: int = 300
    page_timeout_seconds: float = 180.0
    profile: QualityProfile = field(default_factory=lambda: get_profile("dat31"))
    deskew_min_degrees: float = 1.0  # tesseract reads less skew unharmed; rotating costs a re-encode
    orientation_check_below_confidence: float = 50.0  # a page read this badly may be upside down
    engine: str = "tesseract"  # a name in ingest.engines.ENGINES; the engine is built in the worker
    engine_options: EngineOptions = field(default_factory=EngineOptions)  # threads, execution provider

    @property
    def is_pdf(self) -> bool:
        return self.media_type == "application/pdf"


@dataclass(frozen=True)
class WordBox:
    """A recognised word or line on the page as stored in the access copy (upright, straightened), its box
    (left, top, right, bottom) as fractions 0-1 of the page's width and height, so it maps onto any rendering."""

    text: str
    box: tuple[float, float, float, float]


def word_boxes(boxes: Sequence[TextBox], width: int, height: int) -> tuple[WordBox, ...]:
    """Pixel boxes on a `width` x `height` image as fractions of it (4 decimals: 0.25 px on a 2,500 px page)."""
    if width <= 0 or height <= 0:
        return ()
    found: list[WordBox] = []
    for item in boxes:
        left, top, right, bottom = item.box
        box = (left / width, top / height, right / width, bottom / height)
        clamped = tuple(round(min(1.0, max(0.0, value)), 4) for value in box)
        if item.text.strip():
            found.append(WordBox(item.text.strip(), (clamped[0], clamped[1], clamped[2], clamped[3])))
    return tuple(found)


@dataclass(frozen=True)
class PageResult:
    number: int
    source_index: int  # which of the request's sources the page came from
    width_px: int
    height_px: int
    dpi: float | None
    text: str
    confidence: float | None  # mean word confidence, 0-100; None for an existing text layer or the null engine
    text_source: str  # "ocr", "existing" (the PDF's own text layer), or the null engine's "sidecar" / "none"
    measurements: dict[str, Any] = field(default_factory=dict)
    findings: tuple[QualityFinding, ...] = ()
    rotated_degrees: int = 0
    engine: str = ""  # the engine that read the page ("tesseract", "ppocr", "null"); "" for an existing text layer
    boxes: tuple[WordBox, ...] = ()  # where its words (tesseract) or lines (PP-OCR) are; none for other pages

    @property
    def held(self) -> bool:
        """A page with a failed check waits for the archivist's review."""
        return any(finding.severity == "fail" for finding in self.findings)


@dataclass(frozen=True)
class OcrResult:
    pages: tuple[PageResult, ...]
    pdfa_path: Path
    ocr_seconds: float
    quality_seconds: float = 0.0
