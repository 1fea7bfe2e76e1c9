"""Image analysis primitives for the quality gate: Otsu threshold, projection-profile skew, DCT perceptual hash."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

SKEW_RANGE_DEGREES = 10.0  # the search covers -10° to +10°; pages turned further are out of reach
COARSE_STEP_DEGREES = 0.5
FINE_STEP_DEGREES = 0.1
COARSE_POINTS = 8_000  # ink pixels sampled for the coarse search
FINE_POINTS = 30_000  # and for the fine search
MIN_SKEW_POINTS = 200  # fewer ink pixels than this: no text lines to measure, skew reported as 0
HASH_SIDE = 32  # the page is shrunk to 32 x 32 before the DCT
HASH_LOW = 8  # and the 8 x 8 lowest frequencies give the 64 bits


def otsu_threshold(hist: NDArray[np.int64]) -> int:
    """The level that best splits a 256-bin histogram into two classes (that level belongs to the dark one)."""
    counts = hist.astype(np.float64)
    levels = np.arange(counts.size, dtype=np.float64)
    below = np.cumsum(counts)
    above = below[-1] - below
    mass = np.cumsum(counts * levels)
    mean_below = mass / np.maximum(below, 1.0)
    mean_above = (mass[-1] - mass) / np.maximum(above, 1.0)
    between = below * above * (mean_below - mean_above) ** 2
    return int(np.argmax(between))


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


def _dct_matrix(size: int) -> NDArray[np.float64]:
    samples = np.arange(size, dtype=np.float64)
    return np.cos(np.pi * (2 * samples[None, :] + 1) * samples[:, None] / (2 * size))


_DCT = _dct_matrix(HASH_SIDE)


def perceptual_hash(grey: Image.Image) -> str:
    """64-bit DCT hash (pHash): 32 x 32 thumbnail, 2-D DCT, each of the 8 x 8 lowest frequencies compared
    with their median. Similar pages differ in few bits; see `hamming`."""
    tiny = np.asarray(grey.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX), dtype=np.float64)
    low = (_DCT @ tiny @ _DCT.T)[:HASH_LOW, :HASH_LOW].ravel()
    return np.packbits(low > np.median(low)).tobytes().hex()
