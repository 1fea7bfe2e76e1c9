"""Measure one scanned page for the quality gate, with Pillow and numpy only (no second OCR pass).

Almost everything is measured on a greyscale copy scaled to about WORKING_DPI (100 dpi), so the figures are
comparable across scan resolutions and the whole measurement costs a few tens of milliseconds per A4 page.
Only the tone figures (luma levels, clipping) come from a histogram of the full-resolution page.

Sign of skew: a positive angle means the content is turned counter-clockwise (as `Image.rotate(+angle)`
would turn it); `deskew(image, measurements.skew_degrees)` straightens the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ingest.geometry.page import PageGeometry, measure_geometry, residual_skew, turn
from ingest.quality.analysis import otsu_threshold, perceptual_hash

WORKING_DPI = 100.0
A4_LONG_SIDE_INCHES = 297 / 25.4  # to guess the scale of a page whose file records no resolution
DEFAULT_BLANK_INK_RATIO = 0.0003  # below this share of ink a page counts as blank (the dat31 default)
INK_MAX_RELATIVE_LUMA = 0.84  # ink is at least 16% darker than the paper; finer differences are noise
BORDER_DARK_RELATIVE_LUMA = 0.5  # a border pixel is darker than half the paper level
BORDER_LINE_DARK_SHARE = 0.5  # a row or column belongs to a border when at least half of it is dark
INNER_MARGIN = 0.02  # share of each side trimmed inside the borders before ink, skew and sharpness
CLIP_DARK_LEVEL = 2  # luma at or below this counts as clipped black
CLIP_LIGHT_LEVEL = 253  # luma at or above this counts as clipped white
CONTENT_MIN_PIXELS = 3  # a row or column with fewer ink pixels is a speck, not content (for the hash)
BILEVEL_SHARE = 0.98  # share of clipped pixels above which the page is a 1-bit (black and white) scan

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)


@dataclass(frozen=True)
class PageMeasurements:
    """What measure_page found on one page. Luma is 0 (black) to 255 (white); shares are 0 to 1."""

    dpi: float | None  # resolution recorded in the file or given by the caller; None when unknown
    skew_degrees: float  # skew of the page as scanned, signed (positive = turned counter-clockwise)
    skew_after_degrees: float  # residual skew measured again on the deskewed copy
    ink_ratio: float  # share of the page area (inside any borders) that is ink
    blank: bool  # ink_ratio below DEFAULT_BLANK_INK_RATIO; evaluate() re-judges with the profile's value
    sharpness: float  # Laplacian energy / gradient energy at 100 dpi: ~3 crisp, ~1.1 blurred, 0 flat
    mean_luma: float  # mean luma inside any borders
    contrast: float  # paper_luma - ink_luma
    clipped_dark_fraction: float  # share of pixels at luma <= CLIP_DARK_LEVEL
    clipped_light_fraction: float  # share of pixels at luma >= CLIP_LIGHT_LEVEL
    border_fraction: float  # share of the page area covered by dark borders along the edges
    phash: str  # 64-bit DCT perceptual hash of the deskewed content area (ink bounding box), 16 hex digits
    paper_luma: float  # mean luma of the paper (the light class of an Otsu split)
    ink_luma: float  # mean luma of the ink (the dark class of an Otsu split)
    bilevel: bool  # (almost) only pure black and pure white: a 1-bit scan, where clipping is by design
    width_px: int
    height_px: int
    skew_confidence: float = 0.0  # 0-1 (ingest.geometry); skew is reported as 0 when the estimate is unsure


@dataclass(frozen=True)
class _Tone:
    mean: float
    paper: float
    ink: float
    clipped_dark: float
    clipped_light: float


def measure_page(image: Image.Image, *, dpi: float | None, geometry: PageGeometry | None = None) -> PageMeasurements:
    """Measure a decoded page. `dpi` is the scan resolution (None when the file does not record one). The skew
    comes from ingest.geometry (pass its `geometry` when already measured); dpi plays no part in it."""
    geometry = geometry if geometry is not None else measure_geometry(image)
    estimate = geometry.skew
    grey = greyscale(image)
    source_dpi = dpi if dpi and dpi > 0 else max(grey.size) / A4_LONG_SIDE_INCHES
    small = _working_copy(grey, source_dpi)
    pixels = np.asarray(small)
    border = _border_box(pixels, _levels(small))
    height, width = pixels.shape
    border_area = (border[2] - border[0]) * (border[3] - border[1])
    tone = _tone(_histogram(grey, _scale_box(border, grey.width / width, grey.size)))
    inner_box = _shrink(border, INNER_MARGIN)
    inner = small.crop(inner_box)
    inner_pixels = np.asarray(inner)
    threshold = _ink_threshold(_levels(inner))
    ink = inner_pixels < threshold
    skew = estimate.angle if estimate.confident else 0.0
    straightened = inner.rotate(-skew, resample=Image.Resampling.NEAREST, fillcolor=round(tone.paper))
    straight_ink = np.asarray(straightened) < threshold
    residual = residual_skew(image, geometry) if skew else 0.0
    ink_ratio = float(ink.mean()) if ink.size else 0.0
    return PageMeasurements(
        dpi=dpi,
        skew_degrees=skew,
        skew_after_degrees=residual,
        ink_ratio=round(ink_ratio, 6),
        blank=ink_ratio < DEFAULT_BLANK_INK_RATIO,
        sharpness=sharpness(inner_pixels),
        mean_luma=round(tone.mean, 2),
        contrast=round(tone.paper - tone.ink, 2),
        clipped_dark_fraction=round(tone.clipped_dark, 6),
        clipped_light_fraction=round(tone.clipped_light, 6),
        border_fraction=round(1.0 - border_area / (width * height), 6),
        phash=perceptual_hash(straightened.crop(_content_box(straight_ink))),
        paper_luma=round(tone.paper, 2),
        ink_luma=round(tone.ink, 2),
        bilevel=tone.clipped_dark + tone.clipped_light >= BILEVEL_SHARE,
        width_px=image.width,
        height_px=image.height,
        skew_confidence=estimate.confidence,
    )


def deskew(image: Image.Image, angle_degrees: float) -> Image.Image:
    """Turn the page by -angle_degrees (same size, corners filled with the paper colour)."""
    return turn(image, angle_degrees)


def greyscale(image: Image.Image) -> Image.Image:
    """An 8-bit greyscale view: 16-bit scans are scaled down, transparency is laid on white."""
    if image.mode == "L":
        return image
    if image.mode.startswith("I"):
        values = np.asarray(image).astype(np.int64)
        if values.size and int(values.max()) > 255:
            values = values >> 8
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
    return image.convert("L")


def sharpness(pixels: NDArray[np.uint8]) -> float:
    """Energy of the Laplacian over energy of the gradient: independent of contrast and of how much text
    there is, and (at a fixed working resolution) of the scan resolution. 0 for a flat image."""
    if min(pixels.shape, default=0) < 3:
        return 0.0
    values = pixels.astype(np.float32)
    laplacian = (
        4 * values[1:-1, 1:-1] - values[:-2, 1:-1] - values[2:, 1:-1] - values[1:-1, :-2] - values[1:-1, 2:]
    ).ravel()
    across = np.diff(values, axis=1).ravel()
    down = np.diff(values, axis=0).ravel()
    gradient = float(np.dot(across, across)) + float(np.dot(down, down))
    if gradient < values.size:  # less than one luma level of change per pixel: nothing to judge
        return 0.0
    return round(float(np.dot(laplacian, laplacian)) / gradient, 3)


def _working_copy(grey: Image.Image, source_dpi: float) -> Image.Image:
    factor = source_dpi / WORKING_DPI
    if factor < 1.25:
        return grey
    whole = round(factor)
    if abs(factor - whole) <= 0.05 * factor:
        return grey.reduce(whole)
    size = (max(1, round(grey.width / factor)), max(1, round(grey.height / factor)))
    return grey.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def _levels(grey: Image.Image) -> NDArray[np.int64]:
    return np.asarray(grey.histogram(), dtype=np.int64)


def _percentile(hist: NDArray[np.int64], share: float) -> int:
    cumulative = np.cumsum(hist)
    return int(np.searchsorted(cumulative, share * cumulative[-1]))


def _border_box(pixels: NDArray[np.uint8], hist: NDArray[np.int64]) -> Box:
    """The part of the page inside dark strips that run along its edges (the whole page if none)."""
    height, width = pixels.shape
    full: Box = (0, 0, width, height)
    if min(height, width) < 8:
        return full
    paper = _percentile(hist, 0.9)
    dark = pixels < BORDER_DARK_RELATIVE_LUMA * paper
    rows = dark.mean(axis=1) >= BORDER_LINE_DARK_SHARE
    columns = dark.mean(axis=0) >= BORDER_LINE_DARK_SHARE
    box = (_run(columns), _run(rows), width - _run(columns[::-1]), height - _run(rows[::-1]))
    if box[2] - box[0] < width // 4 or box[3] - box[1] < height // 4:
        return full  # mostly dark: an exposure problem, not a border
    return box


def _run(flags: NDArray[np.bool_]) -> int:
    """How many leading entries are set."""
    unset = np.flatnonzero(~flags)
    return int(unset[0]) if unset.size else int(flags.size)


def _content_box(ink: NDArray[np.bool_]) -> Box:
    """The box around the ink, ignoring rows and columns with only a speck or two (the whole area if none).
    Hashing the content rather than the sheet keeps the margins from drowning the differences."""
    height, width = ink.shape
    rows = np.flatnonzero(ink.sum(axis=1) >= CONTENT_MIN_PIXELS)
    columns = np.flatnonzero(ink.sum(axis=0) >= CONTENT_MIN_PIXELS)
    if rows.size == 0 or columns.size == 0:
        return (0, 0, width, height)
    return (int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)


def _shrink(box: Box, share: float) -> Box:
    dx = int((box[2] - box[0]) * share)
    dy = int((box[3] - box[1]) * share)
    return (box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy)


def _scale_box(box: Box, scale: float, size: tuple[int, int]) -> Box:
    left, top = round(box[0] * scale), round(box[1] * scale)
    return (
        left,
        top,
        max(left + 1, min(size[0], round(box[2] * scale))),
        max(top + 1, min(size[1], round(box[3] * scale))),
    )


def _histogram(grey: Image.Image, box: Box) -> NDArray[np.int64]:
    return _levels(grey if box == (0, 0, grey.width, grey.height) else grey.crop(box))


def _tone(hist: NDArray[np.int64]) -> _Tone:
    total = max(1, int(hist.sum()))
    levels = np.arange(256, dtype=np.float64)
    split = otsu_threshold(hist)
    dark, light = hist[: split + 1], hist[split + 1 :]
    mean = float(np.dot(hist, levels)) / total
    ink = float(np.dot(dark, levels[: split + 1])) / max(1, int(dark.sum()))
    paper = float(np.dot(light, levels[split + 1 :])) / int(light.sum()) if light.sum() else mean
    return _Tone(
        mean=mean,
        paper=paper,
        ink=ink if dark.sum() else paper,
        clipped_dark=float(hist[: CLIP_DARK_LEVEL + 1].sum()) / total,
        clipped_light=float(hist[CLIP_LIGHT_LEVEL:].sum()) / total,
    )


def _ink_threshold(hist: NDArray[np.int64]) -> float:
    """Luma below which a working-copy pixel is ink: the Otsu split, but never closer to the paper than
    INK_MAX_RELATIVE_LUMA, so paper texture and scattered specks on a blank page do not count."""
    if not hist.any():
        return 0.0
    split = otsu_threshold(hist)
    light = hist[split + 1 :]
    paper = float(np.dot(light, np.arange(split + 1, 256))) / int(light.sum()) if light.sum() else float(split)
    return min(split + 0.5, INK_MAX_RELATIVE_LUMA * paper)
