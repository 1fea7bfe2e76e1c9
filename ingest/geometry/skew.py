"""Skew of the text lines on a page, from text-sized connected components, robust to photos, tables, banners.

The page is scaled to a fixed pixel size (WORK_LONG_SIDE; the dpi value is never used), binarised (a local
mean threshold, never closer to the paper than INK_MAX_RELATIVE_LUMA, so dark photos and edges do not swallow
the text), and split into connected components. Only components of text size are kept (height near the
median component height, not too wide, not solid): photos, dark areas, banners, rules and table lines are
large or thin blobs and drop out. Each component becomes a point at the centre of its box
(unbiased when letters merge into word blobs on a turned page: a box's bottom is its lowest corner), weighted
by its width. The skew is the angle whose
projection of these points is most peaked: searched over ±SEARCH_DEGREES in steps small enough that a line
cannot slip between them, refined around the best, then by a parabola.

Sign: a positive angle means the content is turned counter-clockwise (as `Image.rotate(+angle)` would turn it).
Confidence is how much the best angle stands out from the rest of the search (0 to 1); see `confident`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

WORK_LONG_SIDE = 1800  # pixels: the page is measured at this size, whatever its dpi (never enlarged)
SEARCH_DEGREES = 45.0
INK_MAX_RELATIVE_LUMA = 0.84  # ink is at least 16% darker than the paper
ADAPTIVE_BLOCK_SHARE = 60  # the local threshold's window: this fraction of the long side (31 px at 1800)
ADAPTIVE_OFFSET = 20.0  # luma (on white paper) a pixel must be below its window's mean to be ink
MIN_TEXT_HEIGHT_PX = 4  # smaller components are specks, dots of a halftone, punctuation
TEXT_HEIGHT_RANGE = (0.45, 2.2)  # kept components' height relative to the median text height
MAX_ASPECT = 6.0  # wider (or taller) than this many times the other side: a rule, a table line, a merged word run
MAX_FILL = 0.9  # a component filling its box more than this is a solid block, not a glyph
MIN_COMPONENTS = 24  # fewer text-sized components: nothing to measure, skew 0 with no confidence
MIN_CONFIDENCE = 0.35  # below this the estimate is not trusted and the page is not turned
COARSE_POINTS = 4_000  # components sampled for the coarse search (all of them for the fine one)
FINE_SPAN_DEGREES = 1.0  # the fine search covers the best coarse angle ± this
FINE_STEP_DEGREES = 0.05
RIVAL_MIN_DEGREES = 3.0  # a second peak at least this far from the best one ...
RIVAL_SHARE = 0.85  # ... scoring this share of the best makes the estimate ambiguous


@dataclass(frozen=True)
class SkewEstimate:
    angle: float  # degrees, positive = content turned counter-clockwise; 0.0 when not measurable
    confidence: float  # 0 (no idea) to 1 (one clear peak)
    components: int  # text-sized components the estimate rests on
    text_height_px: float  # their median height at the working scale
    scale: float  # working pixels per source pixel

    @property
    def confident(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE


NO_ESTIMATE = SkewEstimate(0.0, 0.0, 0, 0.0, 1.0)


def working_grey(image: Image.Image) -> tuple[NDArray[np.uint8], float]:
    """8-bit greyscale pixels at no more than WORK_LONG_SIDE on the long side, and the scale applied."""
    grey = image if image.mode == "L" else image.convert("L")
    scale = min(1.0, WORK_LONG_SIDE / max(1, *grey.size))
    if scale < 1.0:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.uint8), scale


def ink_mask(pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """1 where a pixel is ink: darker than its neighbourhood by ADAPTIVE_OFFSET (a local threshold, so dark
    photos, edges and banners do not swallow the text) and darker than INK_MAX_RELATIVE_LUMA of the paper."""
    if pixels.size == 0:
        return np.zeros_like(pixels)
    paper = float(np.percentile(pixels[:: max(1, pixels.shape[0] // 200), :: max(1, pixels.shape[1] // 200)], 90))
    block = max(15, (max(pixels.shape) // ADAPTIVE_BLOCK_SHARE) | 1)
    local = cv2.adaptiveThreshold(
        pixels, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, ADAPTIVE_OFFSET * max(paper, 1) / 255
    )
    ink: NDArray[np.uint8] = ((np.asarray(local) > 0) & (pixels < INK_MAX_RELATIVE_LUMA * paper)).astype(np.uint8)
    return ink


def estimate_skew(image: Image.Image) -> SkewEstimate:
    pixels, scale = working_grey(image)
    return estimate_skew_pixels(pixels, scale)


def estimate_skew_pixels(pixels: NDArray[np.uint8], scale: float = 1.0) -> SkewEstimate:
    points = text_points(ink_mask(pixels))
    if points is None:
        return SkewEstimate(0.0, 0.0, 0, 0.0, scale)
    return skew_of_points(points, max(pixels.shape), scale)


def skew_of_points(points: Points, extent: int, scale: float = 1.0) -> SkewEstimate:
    """The skew of the lines these points lie on; `extent` (px) is the longest a line can be."""
    xs, ys, weights, height = points.xs, points.ys, points.weights, points.text_height
    if xs.size < MIN_COMPONENTS:
        return SkewEstimate(0.0, 0.0, int(xs.size), round(height, 1), scale)
    step = max(1, xs.size // COARSE_POINTS)
    coarse_step = float(np.degrees(np.arctan2(height / 3, max(1, extent))))
    coarse = np.arange(-SEARCH_DEGREES, SEARCH_DEGREES + coarse_step / 2, coarse_step)
    scores = _scores(xs[::step], ys[::step], weights[::step], coarse, height / 3)
    best = int(np.argmax(scores))
    confidence = _confidence(scores, coarse, best)
    centre = float(coarse[best])
    fine = centre + np.arange(-FINE_SPAN_DEGREES, FINE_SPAN_DEGREES + FINE_STEP_DEGREES / 2, FINE_STEP_DEGREES)
    fine_scores = _scores(xs, ys, weights, fine, max(1.0, height / 6))
    angle = float(np.clip(_refined(fine, fine_scores), -SEARCH_DEGREES, SEARCH_DEGREES))
    return SkewEstimate(round(angle, 2) + 0.0, round(confidence, 3), int(xs.size), round(height, 1), scale)


@dataclass(frozen=True)
class Points:
    """Text-sized components as points: box centres (x from the page centre, y from the top), weights."""

    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    weights: NDArray[np.float64]
    text_height: float  # median height of the components, px

    def subset(self, keep: NDArray[np.bool_]) -> Points:
        return Points(self.xs[keep], self.ys[keep], self.weights[keep], self.text_height)


def text_points(ink: NDArray[np.uint8]) -> Points | None:
    """The text-sized connected components of an ink mask, as points (None: too few to measure anything)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return None
    left, top, width, height, area = (stats[1:, i].astype(np.float64) for i in range(5))
    plausible = (height >= MIN_TEXT_HEIGHT_PX) & (width >= 2) & (height <= ink.shape[0] / 8)
    if int(plausible.sum()) < MIN_COMPONENTS:
        return None
    text_height = float(np.median(height[plausible]))
    low, high = TEXT_HEIGHT_RANGE
    keep = plausible & (height >= low * text_height) & (height <= high * text_height)
    keep &= (width <= MAX_ASPECT * np.maximum(height, text_height)) & (height <= MAX_ASPECT * np.maximum(width, 1))
    keep &= area <= MAX_FILL * width * height
    if int(keep.sum()) < MIN_COMPONENTS:
        return None
    xs = left[keep] + width[keep] / 2 - ink.shape[1] / 2
    ys = top[keep] + height[keep] / 2
    return Points(xs, ys, width[keep], text_height)


def _scores(
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    weights: NDArray[np.float64],
    angles: NDArray[np.float64],
    bin_px: float,
) -> NDArray[np.float64]:
    """For each angle, the sum of squared (weighted) counts of the points projected across that angle."""
    radians = np.deg2rad(angles)[:, None]
    projected = np.floor((ys[None, :] * np.cos(radians) + xs[None, :] * np.sin(radians)) / bin_px).astype(np.int64)
    projected -= projected.min()
    bins = int(projected.max()) + 1
    projected += np.arange(angles.size, dtype=np.int64)[:, None] * bins
    flat = np.bincount(
        projected.ravel(), weights=np.broadcast_to(weights, projected.shape).ravel(), minlength=angles.size * bins
    )
    counts = flat.reshape(angles.size, bins)
    squares: NDArray[np.float64] = np.square(counts).sum(axis=1)
    return squares


def _confidence(scores: NDArray[np.float64], angles: NDArray[np.float64], best: int) -> float:
    """How far the best score stands above the typical one, discounted when a distant rival peak comes close."""
    top = float(scores[best])
    typical = float(np.median(scores))
    if top <= 0:
        return 0.0
    contrast = 1.0 - typical / top  # 0: flat (no lines); towards 1: one sharp peak
    far = np.abs(angles - angles[best]) >= RIVAL_MIN_DEGREES
    if far.any():
        rival = float(scores[far].max())
        if rival >= RIVAL_SHARE * top:
            contrast *= (1.0 - rival / top) / (1.0 - RIVAL_SHARE)
    return max(0.0, min(1.0, contrast))


def _refined(angles: NDArray[np.float64], scores: NDArray[np.float64]) -> float:
    peak = int(np.argmax(scores))
    angle = float(angles[peak])
    if 0 < peak < scores.size - 1:
        left, middle, right = scores[peak - 1], scores[peak], scores[peak + 1]
        curvature = left - 2 * middle + right
        if curvature < 0:
            step = float(angles[1] - angles[0])
            angle += float(np.clip((left - right) / (2 * curvature), -0.5, 0.5)) * step
    return angle
