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
from ingest.quality.detectors import border_box, edge_blur
from ingest.quality.resolution import estimate_dpi, line_band_height

WORKING_DPI = 100.0
A4_LONG_SIDE_INCHES = 297 / 25.4  # to guess the scale of a page whose file records no resolution
DEFAULT_BLANK_INK_RATIO = 0.0003  # below this share of ink a page counts as blank (the dat31 default)
INK_MAX_RELATIVE_LUMA = 0.84  # ink is at least 16% darker than the paper; finer differences are noise
INNER_MARGIN = 0.02  # share of each side trimmed inside the borders before ink, skew and sharpness
CLIP_DARK_LEVEL = 2  # luma at or below this counts as clipped black
CLIP_LIGHT_LEVEL = 253  # luma at or above this counts as clipped white
COLOUR_SAMPLE_SIDE = 64  # the page's mean colour is taken from a thumbnail this wide
CONTENT_MIN_PIXELS = 3  # a row or column with fewer ink pixels is a speck, not content (for the hash)
BILEVEL_SHARE = 0.98  # share of clipped pixels above which the page is a 1-bit (black and white) scan

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)


@dataclass(frozen=True)
class PageMeasurements:
    """What measure_page found on one page. Luma is 0 (black) to 255 (white); shares are 0 to 1."""

    dpi: float | None  # resolution recorded in the file or given by the caller; None when unknown
    estimated_dpi: float | None  # when dpi is None: the resolution implied by the text size (None: no text)
    skew_degrees: float  # skew of the page as scanned, signed (positive = turned counter-clockwise)
    skew_after_degrees: float  # residual skew measured again on the deskewed copy
    ink_ratio: float  # share of the page area (inside any borders) that is ink
    blank: bool  # ink_ratio below DEFAULT_BLANK_INK_RATIO; evaluate() re-judges with the profile's value
    blur_px: float  # σ of text edges in pixels at 300 dpi (at the scan's dpi below that): ~0.75 crisp, 0 no text
    mean_luma: float  # mean luma inside any borders
    contrast: float  # paper_luma - ink_luma
    clipped_dark_fraction: float  # share of pixels at luma <= CLIP_DARK_LEVEL
    clipped_light_fraction: float  # share of pixels at luma >= CLIP_LIGHT_LEVEL
    border_fraction: float  # share of the page area covered by dark borders along the edges
    phash: str  # 64-bit DCT perceptual hash of the deskewed content area (ink bounding box), 16 hex digits
    colour: str  # mean colour of the page inside any borders, "rrggbb" (grey pages have equal channels)
    paper_luma: float  # mean luma of the paper (the light class of an Otsu split)
    ink_luma: float  # mean luma of the darker half of the ink (the dark class of an Otsu split)
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


def measure_page(
    image: Image.Image, *, dpi: float | None, geometry: PageGeometry | None = None, will_straighten: bool = True
) -> PageMeasurements:
    """Measure a decoded page. `dpi` is the scan resolution (None when the file does not record one: it is then
    estimated from the size of the text, see `resolution.estimate_dpi`). The skew comes from ingest.geometry
    (pass its `geometry` when already measured); dpi plays no part in it. `will_straighten`: the page will be
    straightened, so the skew left after it is measured again; otherwise what is left is the skew itself."""
    geometry = geometry if geometry is not None else measure_geometry(image)
    estimate = geometry.skew
    grey = greyscale(image)
    source_dpi = dpi if dpi and dpi > 0 else max(grey.size) / A4_LONG_SIDE_INCHES
    small = _working_copy(grey, source_dpi)
    pixels = np.asarray(small)
    height, width = pixels.shape
    scale = grey.width / width
    border = border_box(pixels, _percentile(_levels(small), 0.9), source_dpi / scale)
    border_area = (border[2] - border[0]) * (border[3] - border[1])
    tone = _tone(_histogram(grey, _scale_box(border, scale, grey.size)))
    inner_box = _shrink(border, INNER_MARGIN)
    inner = small.crop(inner_box)
    threshold = _ink_threshold(_levels(inner))
    ink = np.asarray(inner) < threshold
    skew = estimate.angle if estimate.confident else 0.0
    straightened = inner.rotate(-skew, resample=Image.Resampling.NEAREST, fillcolor=round(tone.paper))
    straight_ink = np.asarray(straightened) < threshold
    residual = (residual_skew(image, geometry) if skew else 0.0) if will_straighten else skew
    ink_ratio = float(ink.mean()) if ink.size else 0.0
    estimated = None
    if not (dpi and dpi > 0):
        band = line_band_height(straight_ink)
        estimated = estimate_dpi(band * scale if band else None, grey.size)
    blur_dpi = dpi if dpi and dpi > 0 else (estimated or source_dpi)
    return PageMeasurements(
        dpi=dpi,
        estimated_dpi=estimated,
        skew_degrees=skew,
        skew_after_degrees=residual,
        ink_ratio=round(ink_ratio, 6),
        blank=ink_ratio < DEFAULT_BLANK_INK_RATIO,
        blur_px=edge_blur(grey, ink, inner_box[:2], scale, blur_dpi),
        mean_luma=round(tone.mean, 2),
        contrast=round(tone.paper - tone.ink, 2),
        clipped_dark_fraction=round(tone.clipped_dark, 6),
        clipped_light_fraction=round(tone.clipped_light, 6),
        border_fraction=round(1.0 - border_area / (width * height), 6),
        phash=perceptual_hash(straightened.crop(_content_box(straight_ink))),
        colour=_mean_colour(image, grey, _scale_box(border, scale, grey.size)),
        paper_luma=round(tone.paper, 2),
        ink_luma=round(tone.ink, 2),
        bilevel=tone.clipped_dark + tone.clipped_light >= BILEVEL_SHARE,
        width_px=image.width,
        height_px=image.height,
        skew_confidence=estimate.confidence,
    )


def _mean_colour(image: Image.Image, grey: Image.Image, box: Box) -> str:
    """Mean colour inside `box` as "rrggbb", from a thumbnail about COLOUR_SAMPLE_SIDE pixels wide."""
    source = image if image.mode == "RGB" else grey
    region = source.crop(box) if box != (0, 0, source.width, source.height) else source
    factor = max(1, region.width // COLOUR_SAMPLE_SIDE)
    sample = np.asarray((region.reduce(factor) if factor > 1 else region).convert("RGB"), dtype=np.float64)
    return "".join(f"{round(float(value)):02x}" for value in sample.reshape(-1, 3).mean(axis=0))


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
    core = dark.copy()  # the darker half of the ink (stroke cores): blur lightens stroke edges, not the ink
    if core.sum():
        half = int(np.searchsorted(np.cumsum(core), core.sum() / 2))
        core[half + 1 :] = 0
    ink = float(np.dot(core, levels[: split + 1])) / max(1, int(core.sum()))
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
