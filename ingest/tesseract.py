"""One tesseract run per page that writes PDF, text and TSV (word confidences) in a single pass."""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import pytesseract

from archive.errors import ConfigurationError, InvalidInput, ProcessingFailed
from archive.text import join_han


@dataclass(frozen=True)
class PageOcr:
    pdf_path: Path
    text: str
    confidence: float | None


def limit_threads() -> None:
    """Tesseract with OpenMP on 2 cores oversubscribes and runs ~6x slower; one thread per process."""
    os.environ["OMP_THREAD_LIMIT"] = "1"


def ocr_page(
    image_path: Path, *, out_base: Path, languages: str, dpi: int, timeout_seconds: float, page_number: int
) -> PageOcr:
    """OCR one page image; raise ProcessingFailed naming the page on error or timeout."""
    limit_threads()
    config = f"--dpi {dpi} -c tessedit_create_tsv=1"
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image_path), str(out_base), "pdf txt", languages, config=config, timeout=timeout_seconds
        )
    except (pytesseract.TesseractError, OSError) as exc:
        raise ProcessingFailed(f"page {page_number}: tesseract failed: {exc}") from exc
    except RuntimeError as exc:  # pytesseract raises a bare RuntimeError on timeout
        raise ProcessingFailed(
            f"page {page_number}: tesseract did not finish within {timeout_seconds:.0f} s; "
            "check the scan (speckle, wrong resolution) or raise ocr_page_timeout_seconds"
        ) from exc
    text = join_han(out_base.with_suffix(".txt").read_text(encoding="utf-8")).strip()
    confidence = mean_word_confidence(out_base.with_suffix(".tsv"))
    return PageOcr(out_base.with_suffix(".pdf"), text, confidence)


def detect_rotation(image_path: Path, *, timeout_seconds: float) -> int:
    """Clockwise degrees (0, 90, 180, 270) that would make the page upright; 0 when tesseract cannot tell."""
    limit_threads()
    try:
        osd = pytesseract.image_to_osd(
            str(image_path), config="--psm 0", timeout=timeout_seconds, output_type=pytesseract.Output.DICT
        )
    except (pytesseract.TesseractError, RuntimeError, OSError):
        return 0  # too little text to judge orientation
    return int(osd.get("rotate", 0)) % 360


@functools.cache
def installed_languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
        raise ConfigurationError(f"tesseract is not usable ({exc}); run `make install`") from exc


def check_languages(languages: str) -> None:
    """Refuse a language tesseract does not have before any file is queued."""
    missing = sorted(set(languages.split("+")) - installed_languages())
    if missing:
        have = ", ".join(sorted(installed_languages() - {"osd"}))
        raise InvalidInput(f"OCR language(s) {', '.join(missing)} not installed; installed: {have}")


def mean_word_confidence(tsv_path: Path) -> float | None:
    """Mean confidence of recognised words (level 5 rows with text); None for a page with no words."""
    confidences: list[float] = []
    with tsv_path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("level") == "5" and (row.get("text") or "").strip():
                value = float(row.get("conf") or -1)
                if value >= 0:
                    confidences.append(value)
    return round(sum(confidences) / len(confidences), 2) if confidences else None
