"""The skew estimate Dang'an used before ingest.geometry (issue 13), kept only as the geometry benchmark's
reference and for the test that shows where it failed: the angle whose horizontal projection profile of all the
ink is most peaked, searched over ±10° coarse then fine, refined by a parabola."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SKEW_RANGE_DEGREES = 10.0  # the search covers -10° to +10°; pages turned further are out of reach
COARSE_STEP_DEGREES = 0.5
FINE_STEP_DEGREES = 0.1
COARSE_POINTS = 8_000  # ink pixels sampled for the coarse search
FINE_POINTS = 30_000  # and for the fine search
MIN_SKEW_POINTS = 200  # fewer ink pixels than this: no text lines to measure, skew reported as 0


def find_skew(ink: NDArray[np.bool_]) -> float:
    """Skew in degrees of the text lines in an ink mask (positive = turned counter-clockwise): the angle
    whose horizontal projection profile is most peaked, searched coarse then fine, refined by a parabola."""
    rows, columns = np.nonzero(ink)
    if rows.size < MIN_SKEW_POINTS:
        return 0.0
    ys = rows.astype(np.float32)
    xs = columns.astype(np.float32) - ink.shape[1] / 2
    coarse = np.arange(-SKEW_RANGE_DEGREES, SKEW_RANGE_DEGREES + COARSE_STEP_DEGREES / 2, COARSE_STEP_DEGREES)
    best = float(coarse[int(np.argmax(_profile_scores(ys, xs, coarse, COARSE_POINTS)))])
    fine = best + np.arange(-COARSE_STEP_DEGREES, COARSE_STEP_DEGREES + FINE_STEP_DEGREES / 2, FINE_STEP_DEGREES)
    scores = _profile_scores(ys, xs, fine, FINE_POINTS)
    peak = int(np.argmax(scores))
    angle = float(fine[peak])
    if 0 < peak < scores.size - 1:
        left, middle, right = scores[peak - 1], scores[peak], scores[peak + 1]
        curvature = left - 2 * middle + right
        if curvature < 0:
            angle += float(np.clip((left - right) / (2 * curvature), -0.5, 0.5)) * FINE_STEP_DEGREES
    return round(angle, 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _profile_scores(
    ys: NDArray[np.float32], xs: NDArray[np.float32], angles: NDArray[np.float64], points: int
) -> NDArray[np.float64]:
    """For each angle, the sum of squared row counts of the ink projected along that angle."""
    step = max(1, ys.size // points)
    ys, xs = ys[::step], xs[::step]
    radians = np.deg2rad(angles).astype(np.float32)[:, None]
    projected = np.rint(ys[None, :] * np.cos(radians) + xs[None, :] * np.sin(radians)).astype(np.int64)
    projected -= projected.min()
    bins = int(projected.max()) + 1
    projected += np.arange(angles.size, dtype=np.int64)[:, None] * bins
    counts = np.bincount(projected.ravel(), minlength=angles.size * bins).reshape(angles.size, bins)
    squares: NDArray[np.float64] = np.square(counts.astype(np.float64)).sum(axis=1)
    return squares
