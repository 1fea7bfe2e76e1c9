"""A page's resolution: read from the file (JFIF, EXIF, TIFF, PNG; PDF pages from image pixels against the page's
displayed size), or, when the file truly records none, estimated from the size of its text.

Reading: Pillow's `info["dpi"]` covers JFIF density in inches and cm, EXIF XResolution/ResolutionUnit in JPEGs,
TIFF tags and PNG pHYs; the EXIF and TIFF tags are read directly as well, for files where Pillow leaves them out
(JFIF "aspect ratio only" beside EXIF in centimetres). 1-49 dpi are placeholders, as is 72 dpi on an image whose
size at 72 dpi would be far larger than A3 (a screen default written by the software, not the scanner). PDF
pages: `ingest.pdfa.page_geometry` (image pixels over the page's displayed area).

Estimating: body text is set at about BODY_TEXT_PT (Chinese 小四/五号 and English office text are 10.5-12 pt); the
median height of the page's text lines (ink bands of the deskewed page, ascender to descender) is about
LINE_BAND_EM of the type size. Where the image's sides then match a standard paper size (A3-A5, B5, Letter,
Legal) within PAPER_MATCH of that estimate, the paper size gives the figure (a whole sheet was scanned);
otherwise the text estimate stands, rounded to the nearest common scan resolution. (The A series share one aspect
ratio, so the commonest size that agrees with the text is taken: A4, then Letter, A3, A5, B5, Legal.)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image

BODY_TEXT_PT = 12.0
LINE_BAND_EM = 0.95  # ascender-to-descender (Latin) or glyph height (Han) over the type size
MIN_LINES = 3  # fewer text lines than this: nothing to estimate from
MIN_BAND_PX = 3  # a band lower than this at the working scale is a rule or a speck, not a line of text
PLACEHOLDER_BELOW_DPI = 50.0
SCREEN_DPI = 72.0
A3_LONG_INCHES = 420 / 25.4
PAPER_MATCH = 0.3  # a paper size is believed when it agrees with the text estimate within 30%
ASPECT_MATCH = 0.03  # and the image has its proportions within 3% (a whole sheet)
# A4, Letter, A3, A5, B5, Legal: the commonest first
PAPER_MM = ((210, 297), (215.9, 279.4), (297, 420), (148, 210), (176, 250), (215.9, 355.6))
WIDTH_MM = (210, 215.9)  # a strip of an A4 or Letter page keeps the sheet's width
COMMON_DPI = (75, 100, 150, 200, 240, 300, 400, 600, 1200)
EXIF_X_RESOLUTION = 282
EXIF_RESOLUTION_UNIT = 296
PER_CENTIMETRE = 3  # EXIF/TIFF ResolutionUnit: 2 inches, 3 centimetres


def recorded_dpi(image: Image.Image) -> float | None:
    """The horizontal resolution the file records, in dpi, or None when it records none (or a placeholder)."""
    for value in (_info_dpi(image), _jfif_dpi(image), _tag_dpi(image)):
        if value is not None and _plausible(value, image.size):
            return round(value, 1)
    return None


def _info_dpi(image: Image.Image) -> float | None:
    raw = image.info.get("dpi")
    try:
        return float(raw[0]) if raw else None
    except (TypeError, ValueError, IndexError):
        return None


def _jfif_dpi(image: Image.Image) -> float | None:
    density, unit = image.info.get("jfif_density"), image.info.get("jfif_unit")
    if not density or unit not in (1, 2):
        return None  # unit 0: an aspect ratio only
    return float(density[0]) * (2.54 if unit == 2 else 1.0)


def _tag_dpi(image: Image.Image) -> float | None:
    tags = getattr(image, "tag_v2", None)
    source = tags if tags is not None else image.getexif()
    try:
        value, unit = source.get(EXIF_X_RESOLUTION), source.get(EXIF_RESOLUTION_UNIT, 2)
        resolution = float(value) if value is not None else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if resolution is None or unit not in (2, PER_CENTIMETRE):
        return None  # unit 1: no absolute unit
    return resolution * (2.54 if unit == PER_CENTIMETRE else 1.0)


def _plausible(dpi: float, size: tuple[int, int]) -> bool:
    if not math.isfinite(dpi) or dpi < PLACEHOLDER_BELOW_DPI:
        return False
    if abs(dpi - SCREEN_DPI) < 0.5:
        return max(size) / SCREEN_DPI <= 1.5 * A3_LONG_INCHES
    return True


def line_band_height(ink: NDArray[np.bool_]) -> float | None:
    """Median height in pixels of the text lines of a deskewed ink mask (runs of rows that hold ink)."""
    counts = ink.sum(axis=1)
    rows = counts >= max(2, int(0.01 * ink.shape[1]))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], rows.astype(np.int8), [0]))))
    heights = edges[1::2] - edges[::2]
    heights = heights[heights >= MIN_BAND_PX]
    if heights.size < MIN_LINES:
        return None
    return float(np.median(heights))


def estimate_dpi(band_px: float | None, size: tuple[int, int]) -> float | None:
    """The scan resolution implied by text lines `band_px` high on an image of `size` pixels (None: no text)."""
    if band_px is None or band_px <= 0:
        return None
    from_text = band_px / (LINE_BAND_EM * BODY_TEXT_PT / 72.0)
    short, long = sorted(size)
    whole = [paper for paper in PAPER_MM if abs(long / short * paper[0] / paper[1] - 1) <= ASPECT_MATCH]
    candidates = [long / (paper[1] / 25.4) for paper in whole] + [size[0] / (width / 25.4) for width in WIDTH_MM]
    for paper in candidates:  # the commonest sizes first: the A series all share one aspect ratio
        if abs(paper / from_text - 1.0) <= PAPER_MATCH:
            return float(round(paper))
    return float(min(COMMON_DPI, key=lambda dpi: abs(math.log(dpi / from_text))))
