"""What crosses the worker-process boundary: plain, picklable dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.engines.base import EngineOptions
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
