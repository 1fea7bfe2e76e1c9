"""The PP-OCR engine: PaddleOCR's PP-OCRv4 detector, direction classifier and recogniser (mobile models) run
through ONNX Runtime by rapidocr-onnxruntime, which ships the three ONNX files inside its wheel
(`rapidocr_onnxruntime/models/`, paths set by its config.yaml relative to the package, the character list read
from the recogniser's metadata): nothing is downloaded, no network is used.

One line per detected text line (box in page pixels, confidence 0-100); the page's text is the lines in reading
order (`ingest.engines.layout`: columns, then rows), Han runs unspaced. The one-page PDF is the page
image with an invisible text layer on the line boxes (`ingest.textlayer`). The recogniser reads simplified
Chinese and Latin text, and traditional Chinese less well (rendered traditional pages: F1 82-84% where
tesseract's chi_tra gives 94-95%; see bench/bench_engines.py). PDFs are handed to the tesseract engine (ocrmypdf).
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from PIL import Image

from archive.errors import InvalidInput, ProcessingFailed
from archive.text import join_han
from ingest.engines.base import EngineOptions, OcrEngine, PageImage, PageOcr, PageText, TextBox
from ingest.engines.layout import reading_order, text_rows

# Languages the PP-OCRv4 Chinese recogniser reads (tesseract codes, as batches name them); "osd" is harmless.
READABLE_LANGUAGES = frozenset({"chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert", "eng", "osd"})
# Measured on 2 cores (bench/bench_engines.py): the default 2000 px long-side limit reads A4 at 300 dpi as
# well as 3000 px for less detector time; 1500 px loses small print. Lines are recognised one at a time: a batch
# is padded to its widest line, and with one thread a batch of 6 (rapidocr's default) took 1.5-2.2x the time of
# single lines for the same text (rendered Chinese page 10.5 -> 6.1 s, English 11.5 -> 4.5 s, three-column
# newspaper 15.5 -> 7.2 s of recogniser time, measured with rapidocr's per-stage timings, 2026-12-02).
MAX_SIDE_PX = 2000
REC_BATCH = 1
MIN_LINES_FOR_ORIENTATION = 3  # fewer lines than this say nothing about the page's orientation


class TimedOut(Exception):
    pass


class PpocrEngine:
    """PP-OCRv4 (ONNX Runtime) per image page; PDFs through the tesseract engine."""

    name = "ppocr"
    detects_orientation = False  # the classifier turns 180° lines only; no page orientation

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()

    def check_languages(self, languages: str) -> None:
        check_languages(languages)

    def read_page(self, page: PageImage, *, languages: str, timeout_seconds: float) -> PageOcr:
        lines, flipped = self.read_lines(page.image_path, timeout_seconds=timeout_seconds, page_number=page.number)
        pdf_path = page.out_base.with_suffix(".pdf")
        write_pdf(page.image_path, dpi=page.dpi, lines=lines, out=pdf_path)
        upside_down = len(lines) >= MIN_LINES_FOR_ORIENTATION and flipped * 2 > len(lines)
        return PageOcr(
            page_text(lines), mean_confidence(lines), boxes=tuple(lines), pdf_path=pdf_path, upside_down=upside_down
        )

    def read_lines(self, image_path: Path, *, timeout_seconds: float, page_number: int) -> tuple[list[TextBox], int]:
        """The page's text lines in reading order, and how many of them the line classifier found upside down;
        ProcessingFailed naming the page on error or timeout."""
        model = ocr_model(self.options)
        try:
            with Image.open(image_path) as image, _time_limit(timeout_seconds):
                width, height = image.size
                model.text_cls.flipped = 0
                found, _ = model(image.convert("RGB"))
                flipped = model.text_cls.flipped
        except TimedOut:
            raise ProcessingFailed(
                f"page {page_number}: PP-OCR did not finish within {timeout_seconds:.0f} s; "
                "check the scan (speckle, wrong resolution) or raise ocr_page_timeout_seconds"
            ) from None
        except Exception as exc:  # rapidocr raises its own and ONNX Runtime errors
            raise ProcessingFailed(f"page {page_number}: PP-OCR failed: {exc}") from exc
        return reading_order([_text_box(item, width, height) for item in found or ()]), flipped

    def recognise_crops(self, crops: Sequence[Image.Image]) -> list[tuple[str, float]]:
        """Recognise already cut-out line images (no detection): (text, score 0-1) each."""
        import numpy as np

        model = ocr_model(self.options)
        arrays = [np.asarray(crop.convert("RGB"))[:, :, ::-1].copy() for crop in crops]
        found, _ = model.text_rec(arrays)
        return [(str(text), float(score)) for text, score, *_ in found]

    def detect_rotation(self, image_path: Path, *, timeout_seconds: float) -> int:
        return 0

    def pdf_to_pdfa(
        self, source: Path, out: Path, *, languages: str, page_timeout_seconds: float, workdir: Path
    ) -> list[PageText | None]:
        from ingest.engines.tesseract import TesseractEngine

        return tesseract_pdf_to_pdfa(
            TesseractEngine(), source, out, languages=languages, page_timeout=page_timeout_seconds, workdir=workdir
        )


def tesseract_pdf_to_pdfa(
    engine: OcrEngine, source: Path, out: Path, *, languages: str, page_timeout: float, workdir: Path
) -> list[PageText | None]:
    """A PDF through the tesseract engine, its pages marked as read by tesseract."""
    read = engine.pdf_to_pdfa(source, out, languages=languages, page_timeout_seconds=page_timeout, workdir=workdir)
    return [None if page is None else replace(page, engine="tesseract") for page in read]


def check_languages(languages: str) -> None:
    """PP-OCR's recogniser reads Chinese (simplified and traditional) and Latin script, nothing else."""
    unreadable = sorted(set(languages.split("+")) - READABLE_LANGUAGES)
    if unreadable:
        raise InvalidInput(
            f"the PP-OCR engine cannot read {', '.join(unreadable)}: it reads Chinese and Latin script "
            "(chi_sim, chi_tra, eng); use the tesseract engine for other languages"
        )


class _CountingClassifier:
    """rapidocr's line direction classifier, counting the lines it turned (it does not report them): a page
    whose lines it mostly turns is upside down. One model serves one page at a time (one per worker process)."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.flipped = 0

    def __call__(self, crops: Any) -> Any:
        turned, labels, elapsed = self.classifier(crops)
        self.flipped = sum(1 for label, _ in labels if str(label) == "180")
        return turned, labels, elapsed


@functools.cache
def ocr_model(options: EngineOptions) -> Any:
    """One model set per process and options (loading the three models takes ~1 s)."""
    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

    cuda = options.provider == "cuda"
    model = RapidOCR(
        intra_op_num_threads=options.threads,
        inter_op_num_threads=1,
        max_side_len=MAX_SIDE_PX,
        rec_batch_num=REC_BATCH,
        det_use_cuda=cuda,
        cls_use_cuda=cuda,
        rec_use_cuda=cuda,
    )
    model.text_cls = _CountingClassifier(model.text_cls)
    return model


def _text_box(item: Sequence[Any], width: int, height: int) -> TextBox:
    points, text, score = item[0], str(item[1]), float(item[2])
    xs = [float(point[0]) for point in points]
    ys = [float(point[1]) for point in points]
    box = (
        max(0, int(min(xs))),
        max(0, int(min(ys))),
        min(width, round(max(xs))),
        min(height, round(max(ys))),
    )
    return TextBox(text.strip(), box, round(100 * score, 2))


def page_text(lines: list[TextBox]) -> str:
    return join_han("\n".join(" ".join(line.text for line in row) for row in text_rows(lines))).strip()


def mean_confidence(lines: Sequence[TextBox]) -> float | None:
    scores = [line.confidence for line in lines if line.confidence is not None]
    return round(sum(scores) / len(scores), 2) if scores else None


def write_pdf(image_path: Path, *, dpi: float, lines: Sequence[TextBox], out: Path) -> None:
    from ingest.textlayer import write_page_pdf

    write_page_pdf(image_path, dpi=dpi, lines=lines, out=out)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM in the main thread (worker processes): ONNX runs return to Python between lines and batches."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
