"""The geometry of one page image: its skew, or for a two-page spread the skew of each half, and straightening.

A spread is a landscape sheet (width ≥ SPREAD_MIN_ASPECT × height) with a gutter near the middle: a band of
at least GUTTER_MIN_TEXT_HEIGHTS text heights, inside the central SPREAD_CENTRE share, where no text-sized
component stands (measured across the sheet's overall skew, so a turned spread keeps its gutter; the shadow of
the binding is one large blob and does not count as text). Each half is measured on its own components and
straightened on its own, then the halves are put back side by side on a sheet of the same size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ingest.geometry.skew import (
    NO_ESTIMATE,
    Points,
    SkewEstimate,
    ink_mask,
    skew_of_points,
    text_points,
    working_grey,
)

SPREAD_MIN_ASPECT = 1.2
SPREAD_CENTRE = 0.3  # the gutter is looked for in the middle 30% of the width
GUTTER_MIN_TEXT_HEIGHTS = 2.0
GUTTER_MAX_SHARE = 0.01  # a "free" column bin holds at most this share of the components


@dataclass(frozen=True)
class PageGeometry:
    """Skew per part of the page: one part, or two halves of a spread split at `gutter` (source pixels)."""

    parts: tuple[SkewEstimate, ...]
    gutter: int | None = None  # x of the split in source pixels, for a spread

    @property
    def spread(self) -> bool:
        return self.gutter is not None

    @property
    def skew(self) -> SkewEstimate:
        """The part turned furthest among the confident ones (the least confident part if none is)."""
        confident = [part for part in self.parts if part.confident]
        if confident:
            return max(confident, key=lambda part: abs(part.angle))
        return min(self.parts, key=lambda part: part.confidence) if self.parts else NO_ESTIMATE

    def angles(self, min_degrees: float) -> tuple[float, ...]:
        """The turn each part needs: its angle when confident and at least min_degrees, else 0."""
        return tuple(part.angle if part.confident and abs(part.angle) >= min_degrees else 0.0 for part in self.parts)

    def needs_turn(self, min_degrees: float) -> bool:
        return any(self.angles(min_degrees))


def measure_geometry(image: Image.Image) -> PageGeometry:
    pixels, scale = working_grey(image)
    points = text_points(ink_mask(pixels))
    if points is None:
        return PageGeometry((SkewEstimate(0.0, 0.0, 0, 0.0, scale),))
    height, width = pixels.shape
    whole = skew_of_points(points, max(height, width), scale)
    split = _gutter(points, whole, width, height) if width >= SPREAD_MIN_ASPECT * height else None
    if split is None:
        return PageGeometry((whole,))
    left = points.subset(points.xs < split)
    right = points.subset(points.xs >= split)
    halves = (skew_of_points(left, height, scale), skew_of_points(right, height, scale))
    return PageGeometry(halves, gutter=round((split + width / 2) / scale))


def _gutter(points: Points, whole: SkewEstimate, width: int, height: int) -> float | None:
    """x (from the centre, working pixels) of the widest text-free band near the middle, if wide enough."""
    radians = np.deg2rad(whole.angle if whole.confident else 0.0)
    across = points.xs * np.cos(radians) - (points.ys - height / 2) * np.sin(radians)
    bin_px = max(2.0, points.text_height / 2)
    edges = np.arange(-SPREAD_CENTRE * width / 2, SPREAD_CENTRE * width / 2 + bin_px, bin_px)
    counts, _ = np.histogram(across, bins=edges)
    free = counts <= GUTTER_MAX_SHARE * points.xs.size / max(1, counts.size)
    best_start, best_length, start = 0, 0, None
    for index, empty in enumerate([*free.tolist(), False]):
        if empty and start is None:
            start = index
        elif not empty and start is not None:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = None
    if best_length * bin_px < GUTTER_MIN_TEXT_HEIGHTS * points.text_height:
        return None
    left_side, right_side = int((across < edges[0]).sum()), int((across > edges[-1]).sum())
    if min(left_side, right_side) < 0.15 * points.xs.size:
        return None  # text on one side only: a page with a wide margin, not two pages
    return float(edges[best_start] + best_length * bin_px / 2)


def straighten(image: Image.Image, geometry: PageGeometry, min_degrees: float) -> Image.Image:
    """The page with each part turned upright (parts whose turn is below min_degrees or unsure stay)."""
    angles = geometry.angles(min_degrees)
    if geometry.gutter is None:
        return turn(image, angles[0])
    left = image.crop((0, 0, geometry.gutter, image.height))
    right = image.crop((geometry.gutter, 0, image.width, image.height))
    sheet = image.copy()
    sheet.paste(turn(left, angles[0]), (0, 0))
    sheet.paste(turn(right, angles[1]), (geometry.gutter, 0))
    return sheet


def turn(image: Image.Image, angle_degrees: float) -> Image.Image:
    """Turn the content by -angle_degrees (same size, corners filled with the paper colour)."""
    source = image.convert("RGBA" if "transparency" in image.info else "RGB") if image.mode == "P" else image
    if abs(angle_degrees) < 0.01:
        return source.copy()
    return source.rotate(-angle_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=_paper(source))


def _paper(image: Image.Image) -> float | tuple[int, ...]:
    """The 90th percentile of each band of a coarse sample: the paper, on any page that is mostly paper."""
    step = max(1, min(image.size) // 64)
    size = (max(1, image.width // step), max(1, image.height // step))
    sample = np.asarray(image.resize(size, Image.Resampling.NEAREST)).astype(np.float64)
    if sample.ndim == 2:
        level = float(np.percentile(sample, 90))
        if image.mode == "1":
            return 255 if level >= 0.5 else 0
        return level if image.mode == "F" else round(level)
    return tuple(round(float(np.percentile(sample[..., band], 90))) for band in range(sample.shape[2]))


def residual_skew(image: Image.Image, geometry: PageGeometry) -> float:
    """The skew left once every part is straightened (all turns applied), measured again on a working copy."""
    pixels, scale = working_grey(image)
    small = Image.fromarray(pixels)
    if geometry.gutter is not None:
        geometry = PageGeometry(geometry.parts, gutter=round(geometry.gutter * scale))
    again = measure_geometry(straighten(small, geometry, 0.0))
    return again.skew.angle if again.skew.confident else 0.0
