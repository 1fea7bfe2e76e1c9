"""Straight pages that fool projection-profile skew: photos, dark areas, printed banners, tables, columns, spreads.

Each page is drawn upright (skew 0 by construction) at 150 dpi by default, so a test can turn it by a known
angle with `turned`. The text comes from ingest.samples (and the shared corpus when present).
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, find_cjk_font

PAPER = 248
INK = 25
CORPUS = Path("/work/shared/corpus")
KINDS = ("plain", "photos", "banner", "table", "dark-edge", "magazine", "newspaper", "chinese-photos", "spread")


def chinese_text(seed: int) -> str:
    files = sorted(CORPUS.glob("*.txt")) if CORPUS.is_dir() else []
    if not files:
        return "".join(CHINESE_PAGES) * 6
    text = "".join(files[seed % len(files)].read_text(encoding="utf-8").split())
    start = (seed * 997) % max(1, len(text) - 3000)
    return text[start : start + 3000]


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), px)


def _column(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], text: str, px: int, *, han: bool) -> None:
    """Fill a box with wrapped text, line by line, until either runs out."""
    font = _font(px)
    left, top, right, bottom = box
    units = list(text) if han else text.split(" ")
    joiner = "" if han else " "
    y, line = top, ""
    for unit in units:
        candidate = f"{line}{joiner}{unit}" if line else unit
        if font.getlength(candidate) <= right - left:
            line = candidate
            continue
        if y + px * 1.5 > bottom:
            return
        draw.text((left, y), line, font=font, fill=INK)
        y, line = y + round(px * 1.5), unit
    if line and y + px * 1.5 <= bottom:
        draw.text((left, y), line, font=font, fill=INK)


def _photo(size: tuple[int, int], rng: random.Random, *, dark: bool = True) -> Image.Image:
    """A photograph-like block: smooth blobs of dark and mid tones with a strong diagonal edge or two."""
    generator = np.random.default_rng(rng.randrange(1 << 30))
    small = generator.uniform(0, 255 if not dark else 160, (max(2, size[1] // 40), max(2, size[0] // 40)))
    block = Image.fromarray(small.astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(block)
    for _ in range(3):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        draw.polygon(
            [(x0, y0), (x0 + size[0] // 2, y0 + size[1] // 5), (x0 + size[0] // 4, y0 + size[1] // 2)], fill=10
        )
    return block.filter(ImageFilter.GaussianBlur(2))


@functools.cache
def straight_page(kind: str, *, seed: int = 0, dpi: int = 150) -> Image.Image:
    """One upright page of the named kind (see KINDS); shared between callers: copy it before drawing on it."""
    rng = random.Random(seed)
    scale = dpi / 150
    width, height = round(1240 * scale), round(1754 * scale)
    if kind == "spread":
        left, right = (
            straight_page("plain", seed=seed, dpi=dpi),
            straight_page("chinese-photos", seed=seed + 1, dpi=dpi),
        )
        sheet = Image.new("L", (width * 2, height), PAPER)
        sheet.paste(left, (0, 0))
        sheet.paste(right, (width, 0))
        gutter = ImageDraw.Draw(sheet)
        for step in range(round(30 * scale)):  # the shadow of the binding
            gutter.line(
                [(width - step, 0), (width - step, height)], fill=round(PAPER - 6 * (30 * scale - step) / scale)
            )
        return sheet
    page = Image.new("L", (width, height), PAPER)
    draw = ImageDraw.Draw(page)
    margin = round(110 * scale)
    english = " ".join(ENGLISH_PAGES) * 8
    han = kind in ("chinese-photos", "newspaper")
    text = chinese_text(seed) if han else english
    body_px = round((18 if kind != "newspaper" else 14) * scale)
    if kind in ("plain", "dark-edge", "photos", "banner", "table"):
        _column(draw, (margin, margin, width - margin, height - margin), text, body_px, han=False)
    if kind == "dark-edge":
        draw.rectangle((0, 0, round(60 * scale), height), fill=15)  # the scanner lid's shadow
        draw.polygon([(0, height), (width, height - round(90 * scale)), (width, height)], fill=30)
    if kind in ("photos", "chinese-photos", "magazine"):
        _photos_and_text(page, draw, rng, text, body_px, margin, han=han)
    if kind in ("banner", "magazine"):
        draw.rectangle((0, margin // 2, width, margin // 2 + round(160 * scale)), fill=40)
        draw.text(
            (margin, margin // 2 + round(40 * scale)), "ANNUAL REPORT 1998", font=_font(round(80 * scale)), fill=235
        )
        draw.rectangle((0, height - round(200 * scale), width, height - round(120 * scale)), fill=60)
    if kind == "table":
        _table(draw, (margin, height // 3, width - margin, height - margin), rng, scale)
    if kind == "newspaper":
        _newspaper(page, draw, rng, text, body_px, margin)
    return page


def _photos_and_text(
    page: Image.Image, draw: ImageDraw.ImageDraw, rng: random.Random, text: str, px: int, margin: int, *, han: bool
) -> None:
    width, height = page.size
    draw.rectangle((margin, margin, width - margin, height - margin), fill=PAPER)
    headline = "数字化档案管理" if han else "Archives Renewed"
    draw.text((margin, margin), headline, font=_font(round(px * 3.2)), fill=INK)
    top = margin + round(px * 5)
    photo = _photo((width - 2 * margin, (height - 2 * margin) // 3), rng)
    page.paste(photo, (margin, top))
    body = top + photo.height + px
    middle = width // 2
    _column(draw, (margin, body, middle - px, height - margin), text, px, han=han)
    small = _photo(((width - 2 * margin) // 2 - px, (height - body - margin) // 2), rng, dark=False)
    page.paste(small, (middle + px, body))
    _column(draw, (middle + px, body + small.height + px, width - margin, height - margin), text[200:], px, han=han)


def _table(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: random.Random, scale: float) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, fill=PAPER, outline=INK, width=max(2, round(3 * scale)))
    rows, columns = 12, 4
    for row in range(1, rows):
        y = top + (bottom - top) * row // rows
        draw.line([(left, y), (right, y)], fill=INK, width=max(1, round(2 * scale)))
    for column in range(1, columns):
        x = left + (right - left) * column // columns
        draw.line([(x, top), (x, bottom)], fill=INK, width=max(1, round(2 * scale)))
    font = _font(round(16 * scale))
    for row in range(rows):
        for column in range(columns):
            x = left + (right - left) * column // columns + round(10 * scale)
            y = top + (bottom - top) * row // rows + round(12 * scale)
            draw.text((x, y), f"{rng.randrange(10**5):05d} kg", font=font, fill=INK)


def _newspaper(
    page: Image.Image, draw: ImageDraw.ImageDraw, rng: random.Random, text: str, px: int, margin: int
) -> None:
    """Yellowed paper, a huge masthead, four columns with rules between them, a dark photo."""
    width, height = page.size
    page.paste(Image.new("L", page.size, 205))
    draw.text((margin, margin // 2), "人民日报", font=_font(round(px * 7)), fill=INK)
    draw.rectangle((margin, margin + px * 7, width - margin, margin + px * 7 + 6), fill=INK)
    top = margin + px * 8
    columns = 4
    span = (width - 2 * margin) // columns
    photo = _photo((span * 2 - px, (height - top) // 3), rng)
    page.paste(photo, (margin + span, top))
    for column in range(columns):
        x = margin + column * span
        start = top + (photo.height + px if column in (1, 2) else 0)
        _column(draw, (x, start, x + span - px, height - margin), text[column * 500 :], px, han=True)
        if column:
            draw.line([(x - px // 2, top), (x - px // 2, height - margin)], fill=INK, width=2)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, (height, width))
    page.paste(Image.fromarray(np.clip(np.asarray(page, dtype=np.float64) + noise, 0, 255).astype(np.uint8)))


def turned(page: Image.Image, degrees: float) -> Image.Image:
    """The page turned counter-clockwise by `degrees` (a skewed scan), corners filled with paper."""
    if degrees == 0:
        return page.copy()
    return page.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=PAPER)
