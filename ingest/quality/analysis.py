"""Image analysis primitives for the quality gate: Otsu threshold, DCT perceptual hash (skew: ingest.geometry)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

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
