"""What OCR hands back across the process boundary (plain, picklable dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OcrRequest:
    """One file to process. `workdir` is a scratch directory the caller creates and later removes."""

    source: Path
    media_type: str
    languages: str
    workdir: Path
    assumed_dpi: int = 300
    page_timeout_seconds: float = 180.0


@dataclass(frozen=True)
class PageResult:
    number: int
    width_px: int
    height_px: int
    dpi: float | None
    text: str
    confidence: float | None  # mean tesseract word confidence, 0-100; None when the text was reused
    text_source: str  # "ocr" or "existing" (a text layer already in the PDF)


@dataclass(frozen=True)
class OcrResult:
    pages: tuple[PageResult, ...]
    pdfa_path: Path
    ocr_seconds: float
