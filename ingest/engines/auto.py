"""The auto engine: each page read by the engine for its script — PP-OCR for Chinese, tesseract for Latin text.

How a page's script is told (measured in bench/bench_engines.py; cheaper than tesseract's OSD, which costs
~65% of an English page's OCR time): a row profile of the page's ink finds up to three text lines, the first
few centimetres of each are cut out and PP-OCR's recogniser alone reads them (no detection: ~0.25 CPU s a
page, ~5% of tesseract's time on an English page); more Han characters than Latin letters / 2 (a Han
character is about two letters wide) picks PP-OCR. A page where no line is found, or nothing is read, goes to
PP-OCR (it reads Latin text about as well as tesseract, and photos, tables and unusual layouts better).

The request's languages narrow the choice first: no simplified Chinese (chi_sim) → tesseract; a language PP-OCR cannot
read (e.g. jpn) → tesseract; traditional Chinese (chi_tra) → tesseract, whose chi_tra model read rendered
traditional pages better (bag-of-bigrams F1 94-95% against PP-OCR's 82-84%; PP-OCR's recogniser is trained
mostly on simplified text); only simplified Chinese → PP-OCR. Pages are marked with the engine that read them. PDFs go
through the tesseract engine (ocrmypdf)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from archive.text import HAN_RUN
from ingest.engines.base import EngineOptions, PageImage, PageOcr, PageText
from ingest.engines.ppocr import READABLE_LANGUAGES, PpocrEngine, tesseract_pdf_to_pdfa
from ingest.engines.tesseract import TesseractEngine

# Measured (CPU s per A4 page, 2 cores): 4 lines x 10 heights 0.33 s, 3 x 6 0.26 s, 2 x 10 0.22 s, of which
# decoding the page is 0.08 s; tesseract reads an English page in ~5 s. Three lines survive a heading line.
PROBE_LINES = 3
PROBE_WIDTH_HEIGHTS = 6  # each probe crop is at most this many line heights wide (~6 Han characters)
LINE_HEIGHT_PX = (12, 200)  # a text line at 300 dpi: ~1-17 mm
ROW_INK = 0.01  # a pixel row with at least this share inked is part of a line


class AutoEngine:
    name = "auto"
    detects_orientation = True  # through tesseract's OSD

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.tesseract = TesseractEngine()
        self.ppocr = PpocrEngine(options)

    def check_languages(self, languages: str) -> None:
        self.tesseract.check_languages(languages)

    def read_page(self, page: PageImage, *, languages: str, timeout_seconds: float) -> PageOcr:
        engine = self.ppocr if self.choose(page.image_path, languages) == "ppocr" else self.tesseract
        read = engine.read_page(page, languages=languages, timeout_seconds=timeout_seconds)
        return replace(read, engine=engine.name)

    def choose(self, image_path: Path, languages: str) -> str:
        """ "ppocr" or "tesseract" for this page."""
        wanted = set(languages.split("+")) - {"osd"}
        if not any(code.startswith("chi_sim") for code in wanted) or wanted - READABLE_LANGUAGES:
            return "tesseract"
        if any(code.startswith("chi_tra") for code in wanted):
            return "tesseract"
        if all(code.startswith("chi_") for code in wanted):
            return "ppocr"
        with Image.open(image_path) as image:
            crops = probe_crops(image)
        if not crops:
            return "ppocr"
        read = "".join(text for text, _ in self.ppocr.recognise_crops(crops))
        return "ppocr" if is_chinese(read) else "tesseract"

    def detect_rotation(self, image_path: Path, *, timeout_seconds: float) -> int:
        return self.tesseract.detect_rotation(image_path, timeout_seconds=timeout_seconds)

    def pdf_to_pdfa(
        self, source: Path, out: Path, *, languages: str, page_timeout_seconds: float, workdir: Path
    ) -> list[PageText | None]:
        return tesseract_pdf_to_pdfa(
            self.tesseract, source, out, languages=languages, page_timeout=page_timeout_seconds, workdir=workdir
        )


def is_chinese(text: str) -> bool:
    """Han characters outweigh Latin letters (two letters to a character); nothing read counts as Chinese."""
    han = sum(len(run) for run in HAN_RUN.findall(text))
    latin = sum(char.isascii() and char.isalpha() for char in text)
    return han * 2 >= latin


def probe_crops(image: Image.Image) -> list[Image.Image]:
    """The starts of up to PROBE_LINES text lines spread over the page, cut from the full-resolution image."""
    grey = image.convert("L")
    scale = max(1, grey.width // 1200)
    ink = _ink(grey.reduce(scale) if scale > 1 else grey)
    lines = _text_rows(ink, scale)
    if len(lines) > PROBE_LINES:
        step = len(lines) / PROBE_LINES
        lines = [lines[int(step * (n + 0.5))] for n in range(PROBE_LINES)]
    crops: list[Image.Image] = []
    for top, bottom in lines:
        columns = np.flatnonzero(ink[top:bottom].any(axis=0))
        height = (bottom - top) * scale
        left = int(columns[0]) * scale
        right = min(int(columns[-1] + 1) * scale, left + PROBE_WIDTH_HEIGHTS * height)
        pad = height // 4
        box = (max(0, left - pad), max(0, top * scale - pad), right + pad, bottom * scale + pad)
        crops.append(grey.crop(box))
    return crops


def _ink(grey: Image.Image) -> NDArray[np.bool_]:
    """Dark pixels, by Otsu's threshold (engines do not import the quality gate, which has its own)."""
    pixels = np.asarray(grey)
    weights = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    below = np.cumsum(weights)
    mass = np.cumsum(weights * np.arange(256))
    above = below[-1] - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass[-1] * below - below[-1] * mass) ** 2 / (below * above)
    threshold = int(np.argmax(np.nan_to_num(between, nan=0.0, posinf=0.0)))  # 0 on a page of one grey
    return pixels <= threshold if threshold else np.zeros(pixels.shape, dtype=np.bool_)


def _text_rows(ink: NDArray[np.bool_], scale: int) -> list[tuple[int, int]]:
    """(top, bottom) of runs of inked rows as tall as a text line, in the reduced image's rows."""
    inked = np.concatenate(([False], ink.mean(axis=1) >= ROW_INK, [False]))
    edges = np.flatnonzero(np.diff(inked.astype(np.int8)))
    low, high = LINE_HEIGHT_PX
    return [
        (int(top), int(bottom))
        for top, bottom in zip(edges[::2], edges[1::2], strict=True)
        if low <= (bottom - top) * scale <= high
    ]
