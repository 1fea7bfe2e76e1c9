"""Detectors that need a fixed physical scale: text-edge blur and dark strips along the page edges.

Blur: the width of text edges, measured on the page's most inky tiles at BLUR_DPI (300 dpi; at the scan's own
resolution below that). A step edge blurred by a Gaussian of σ pixels has a steepest slope of
contrast / (σ·√(2π)), so σ = contrast / (√(2π) · steepest slope). A 3 x 3 median first removes speckle and
most sensor noise, which would otherwise pass for sharp edges. Rendered 300-dpi text measures ~0.75 px;
a further Gaussian blur of σ 1.0 px ~1.05 px, σ 1.5 px ~1.3 px, σ 3 px ~2.3 px.

Borders: dark strips that start at the page edge (after at most EDGE_GAP_MM of light: the sheet's own edge or a
scanner's white line) and run along at least BORDER_LINE_DARK_SHARE of that edge. Dark bands printed inside the
page (banners, table headers) have paper between them and the edge, so they are never borders.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

BLUR_DPI = 300.0
TILE_MM = 12.0  # the side of a tile that is judged for blur
BLUR_TILES = 6  # the inkiest tiles, whose median is the page's figure
TILE_MIN_INK = 0.03  # a tile with less ink than this holds too few edges
EDGE_GAP_MM = 1.5
BORDER_DARK_RELATIVE_LUMA = 0.5  # a border pixel is darker than half the paper level
BORDER_LINE_DARK_SHARE = 0.5  # a row or column belongs to a border when at least half of it is dark

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)


def edge_blur(grey: Image.Image, ink: NDArray[np.bool_], origin: tuple[int, int], scale: float, dpi: float) -> float:
    """Median σ (pixels at min(dpi, BLUR_DPI)) of the text edges in the inkiest tiles; 0.0 when there is no text.
    `ink` is a working-copy mask whose pixel (0, 0) is `origin` in working pixels; `scale` is source/working."""
    working_dpi = dpi / scale
    cell = max(4, round(TILE_MM / 25.4 * working_dpi))
    rows, columns = ink.shape[0] // cell, ink.shape[1] // cell
    if rows == 0 or columns == 0:
        return 0.0
    shares = ink[: rows * cell, : columns * cell].reshape(rows, cell, columns, cell).mean(axis=(1, 3))
    order = np.argsort(shares, axis=None)[::-1][:BLUR_TILES]
    reduce = max(1, round(dpi / BLUR_DPI)) if dpi > 1.25 * BLUR_DPI else 1
    sigmas = []
    for flat in order:
        row, column = divmod(int(flat), columns)
        if shares[row, column] < TILE_MIN_INK:
            break
        left = round((origin[0] + column * cell) * scale)
        top = round((origin[1] + row * cell) * scale)
        side = round(cell * scale)
        tile = grey.crop((left, top, left + side, top + side))
        if reduce > 1:
            tile = tile.reduce(reduce)
        sigma = _edge_sigma(np.asarray(tile.filter(ImageFilter.MedianFilter(3)), dtype=np.float32))
        if sigma is not None:
            sigmas.append(sigma)
    return round(float(np.median(sigmas)), 3) if sigmas else 0.0


def _edge_sigma(values: NDArray[np.float32]) -> float | None:
    if min(values.shape) < 8:
        return None
    across = (values[1:-1, 2:] - values[1:-1, :-2]) / 2
    down = (values[2:, 1:-1] - values[:-2, 1:-1]) / 2
    steepest = float(np.percentile(np.hypot(across, down), 99.5))
    contrast = float(np.percentile(values, 98) - np.percentile(values, 2))
    if steepest < 1.0 or contrast < 16:
        return None
    return contrast / (math.sqrt(2 * math.pi) * steepest)


def border_box(pixels: NDArray[np.uint8], paper: float, working_dpi: float) -> Box:
    """The part of the page inside dark strips that run along its edges (the whole page if none)."""
    height, width = pixels.shape
    full: Box = (0, 0, width, height)
    if min(height, width) < 8:
        return full
    dark = pixels < BORDER_DARK_RELATIVE_LUMA * paper
    rows = dark.mean(axis=1) >= BORDER_LINE_DARK_SHARE
    columns = dark.mean(axis=0) >= BORDER_LINE_DARK_SHARE
    gap = max(1, round(EDGE_GAP_MM / 25.4 * working_dpi))
    box = (
        _strip(columns, gap),
        _strip(rows, gap),
        width - _strip(columns[::-1], gap),
        height - _strip(rows[::-1], gap),
    )
    if box[2] - box[0] < width // 4 or box[3] - box[1] < height // 4:
        return full  # mostly dark: an exposure problem, not a border
    return box


def _strip(flags: NDArray[np.bool_], gap: int) -> int:
    """How far a run of set entries reaches in from the start, if it starts within `gap` entries (else 0)."""
    set_at = np.flatnonzero(flags[: gap + 1])
    if set_at.size == 0:
        return 0
    start = int(set_at[0])
    unset = np.flatnonzero(~flags[start:])
    return start + (int(unset[0]) if unset.size else int(flags.size - start))
