"""The tesseract engine: one tesseract run per page that writes text and TSV (word boxes, confidences, line ids)
in a single pass, and the page PDF written from the TSV's lines by `ingest.textlayer` (no spaces between Han
characters, where tesseract's own PDF renderer puts one after every "word"); PDFs go through ocrmypdf (tesseract
inside), which keeps pages that already carry text."""

from __future__ import annotations

import csv
import functools
import os
import unicodedata
from pathlib import Path

import pytesseract

from archive.errors import ConfigurationError, InvalidInput, ProcessingFailed
from archive.text import is_han, join_han
from ingest.engines.base import PageImage, PageOcr, PageText, TextBox
from ingest.pdfa import to_pdfa
from ingest.textlayer import write_page_pdf

_SKIPPED_MARK = "[OCR skipped on page"


class TesseractEngine:
    """Today's OCR: tesseract per image page, ocrmypdf for PDFs."""

    name = "tesseract"
    detects_orientation = True

    def __init__(self) -> None:
        limit_threads()

    def check_languages(self, languages: str) -> None:
        check_languages(languages)

    def read_page(self, page: PageImage, *, languages: str, timeout_seconds: float) -> PageOcr:
        return ocr_page(
            page.image_path,
            out_base=page.out_base,
            languages=languages,
            dpi=page.dpi,
            timeout_seconds=timeout_seconds,
            page_number=page.number,
        )

    def detect_rotation(self, image_path: Path, *, timeout_seconds: float) -> int:
        return detect_rotation(image_path, timeout_seconds=timeout_seconds)

    def pdf_to_pdfa(
        self, source: Path, out: Path, *, languages: str, page_timeout_seconds: float, workdir: Path
    ) -> list[PageText | None]:
        sidecar = workdir / "sidecar.txt"
        to_pdfa(source, out, languages=languages, sidecar=sidecar, page_timeout=page_timeout_seconds)
        texts = [text.strip() for text in sidecar.read_text(encoding="utf-8").split("\f")]
        return [None if text.startswith(_SKIPPED_MARK) else PageText(join_han(text)) for text in texts]


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
            str(image_path), str(out_base), "txt", languages, config=config, timeout=timeout_seconds
        )
    except (pytesseract.TesseractError, OSError) as exc:
        raise ProcessingFailed(f"page {page_number}: tesseract failed: {exc}") from exc
    except RuntimeError as exc:  # pytesseract raises a bare RuntimeError on timeout
        raise ProcessingFailed(
            f"page {page_number}: tesseract did not finish within {timeout_seconds:.0f} s; "
            "check the scan (speckle, wrong resolution) or raise ocr_page_timeout_seconds"
        ) from exc
    text = join_han(out_base.with_suffix(".txt").read_text(encoding="utf-8")).strip()
    tsv = out_base.with_suffix(".tsv")
    words, lines = recognised_words_and_lines(tsv)
    pdf_path = out_base.with_suffix(".pdf")
    write_page_pdf(image_path, dpi=dpi, lines=lines, out=pdf_path)
    return PageOcr(text, mean_word_confidence(words), boxes=highlight_boxes(tsv), pdf_path=pdf_path)


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


def recognised_words(tsv_path: Path) -> tuple[TextBox, ...]:
    """Recognised words (level 5 rows with text) with their boxes; confidence None where tesseract gave -1."""
    return recognised_words_and_lines(tsv_path)[0]


def recognised_words_and_lines(tsv_path: Path) -> tuple[tuple[TextBox, ...], tuple[TextBox, ...]]:
    """The recognised words, and the lines they form (tesseract's block/paragraph/line ids): each line's text is
    its words joined by spaces (none between Han characters), its box the union of theirs, no confidence."""
    grouped = _words_by_line(tsv_path)
    words = tuple(word for line in grouped for word in line)
    return words, tuple(_line(members) for members in grouped)


def highlight_boxes(tsv_path: Path) -> tuple[TextBox, ...]:
    """The boxes a viewer highlights: Latin words as tesseract found them; in each line, a run of adjacent Han
    words (tesseract splits Chinese into one or a few characters each) as one box, so a term of several
    characters falls inside one box."""
    found: list[TextBox] = []
    for line in _words_by_line(tsv_path):
        run: list[TextBox] = []
        for word in line:
            if _han_only(word.text):
                run.append(word)
                continue
            if run:
                found.append(_line(run))
                run = []
            found.append(word)
        if run:
            found.append(_line(run))
    return tuple(found)


def _han_only(text: str) -> bool:
    return all(is_han(char) or unicodedata.category(char).startswith("P") for char in text) and any(
        is_han(char) for char in text
    )


def _words_by_line(tsv_path: Path) -> list[list[TextBox]]:
    """Recognised words (level 5 rows with text) per line, in tesseract's order."""
    grouped: dict[tuple[str, ...], list[TextBox]] = {}
    with tsv_path.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (row.get("text") or "").strip()
            if row.get("level") != "5" or not text:
                continue
            left, top = int(row.get("left") or 0), int(row.get("top") or 0)
            box = (left, top, left + int(row.get("width") or 0), top + int(row.get("height") or 0))
            value = float(row.get("conf") or -1)
            line_id = tuple(row.get(key) or "" for key in ("page_num", "block_num", "par_num", "line_num"))
            grouped.setdefault(line_id, []).append(TextBox(text, box, value if value >= 0 else None))
    return list(grouped.values())


def _line(words: list[TextBox]) -> TextBox:
    box = (
        min(word.box[0] for word in words),
        min(word.box[1] for word in words),
        max(word.box[2] for word in words),
        max(word.box[3] for word in words),
    )
    return TextBox(join_han(" ".join(word.text for word in words)), box)


def mean_word_confidence(words: tuple[TextBox, ...]) -> float | None:
    """Mean confidence of the recognised words that have one; None for a page with no words."""
    confidences = [word.confidence for word in words if word.confidence is not None]
    return round(sum(confidences) / len(confidences), 2) if confidences else None
