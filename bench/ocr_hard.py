"""The OCR benchmark's hard Chinese pages: rendered stand-ins for the real pages on which tesseract falls short.

The issue measured real Chinese newspaper, handwritten-note and book/report scans (tesseract 58%, PP-OCR 89.5%
bag-of-bigrams F1). We have no real Chinese scans with a transcript and a licence, so these pages imitate what
makes them hard, each deterministic by seed, with the drawn text as ground truth:

  newspaper     Song (serif) type at 8.5 pt in three ruled columns, scanned at 200 dpi on yellowed newsprint,
                with the next page's print showing through and heavy JPEG (quality 35)
  handwritten   a brush-like regular script (AR PL UKai, Debian's fonts-arphic-ukai) in blue ink on ruled
                note paper, every character a little turned, shifted and resized, as a hand writes
  photographed  a page photographed rather than scanned: slight perspective, uneven light falling off to one
                corner, a warm colour cast, soft focus and JPEG, at about 180 dpi
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.ocr_texts import chinese

HARD = ("newspaper", "handwritten", "photographed")
SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")  # fonts-noto-cjk: 2 = SC, 3 = TC
KAI = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")  # fonts-arphic-ukai: 0 = CN, 2 = TW
A4_WIDTH_MM, HALF_A4_MM = 210, 148


def render_hard(kind: str, traditional: bool, rng: random.Random) -> tuple[Image.Image, str, int]:
    """(page, ground truth, dpi) of one hard page of `kind`, from the shared corpus' text."""
    text = chinese(traditional)
    text = text[rng.randrange(0, len(text) // 2) :]
    if kind == "newspaper":
        return (*_newspaper(text, traditional, rng), 200)
    if kind == "handwritten":
        return (*_handwritten(text, traditional, rng), 300)
    if kind == "photographed":
        return (*_photographed(text, traditional, rng), 180)
    raise ValueError(f"unknown hard page kind {kind!r}")


def _pixels(mm: float, dpi: int) -> int:
    return round(mm / 25.4 * dpi)


def _lines(text: str, font: ImageFont.FreeTypeFont, width: int, count: int, start: int = 0) -> tuple[list[str], int]:
    """Up to `count` lines of `text` from `start` that fit `width` pixels, and where the next line would start."""
    lines: list[str] = []
    position = start
    while len(lines) < count and position < len(text):
        end = position
        while end < len(text) and font.getlength(text[position : end + 1]) <= width:
            end += 1
        if end == position:
            break
        lines.append(text[position:end])
        position = end
    return lines, position


def _newspaper(text: str, traditional: bool, rng: random.Random) -> tuple[Image.Image, str]:
    dpi = 200
    width, height, margin = _pixels(A4_WIDTH_MM, dpi), _pixels(HALF_A4_MM, dpi), _pixels(12, dpi)
    font = ImageFont.truetype(str(SERIF), round(8.5 / 72 * dpi), index=3 if traditional else 2)
    page = Image.new("L", (width, height), 226)
    draw = ImageDraw.Draw(page)
    columns, gap = 3, _pixels(5, dpi)
    column = (width - 2 * margin - (columns - 1) * gap) // columns
    line_height = round(font.size * 1.45)
    per_column = (height - 2 * margin) // line_height
    truth: list[str] = []
    position = 0
    for index in range(columns):
        left = margin + index * (column + gap)
        lines, position = _lines(text, font, column, per_column, position)
        for row, line in enumerate(lines):
            draw.text((left, margin + row * line_height), line, font=font, fill=38)
        truth += lines
        if index:
            draw.line((left - gap // 2, margin, left - gap // 2, height - margin), fill=90, width=2)
    # the other side's print showing through: the next text, mirrored, faint
    back = Image.new("L", page.size, 0)
    other = ImageDraw.Draw(back)
    for row, line in enumerate(_lines(text, font, width - 2 * margin, per_column, position)[0]):
        other.text((margin, margin + row * line_height + line_height // 3), line, font=font, fill=255)
    back = back.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(1.5))
    pixels = np.asarray(page, dtype=np.float32) - np.asarray(back, dtype=np.float32) * 0.16
    noise = np.random.default_rng(rng.randrange(2**32))
    pixels += noise.normal(0, 9, pixels.shape)
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return page, "\n".join(truth)


def _handwritten(text: str, traditional: bool, rng: random.Random) -> tuple[Image.Image, str]:
    dpi = 300
    width, height, margin = _pixels(A4_WIDTH_MM, dpi), _pixels(HALF_A4_MM, dpi), _pixels(20, dpi)
    size = round(15 / 72 * dpi)
    font = ImageFont.truetype(str(KAI), size, index=2 if traditional else 0)
    page = Image.new("RGB", (width, height), (246, 244, 236))
    draw = ImageDraw.Draw(page)
    line_height = round(size * 1.7)
    for y in range(margin + line_height, height - margin // 2, line_height):  # the note paper's ruling
        draw.line((margin // 2, y, width - margin // 2, y), fill=(170, 190, 215), width=2)
    truth: list[str] = []
    position, y = 0, margin
    while y + line_height <= height - margin and position < len(text):
        x: float = margin + rng.randrange(0, size // 2)
        line = ""
        while position < len(text):
            character = text[position]
            advance = font.getlength(character) * rng.uniform(0.92, 1.08)
            if x + advance > width - margin:
                break
            glyph = _glyph(character, font, rng)
            page.paste((28, 46, 120), (round(x), y + rng.randrange(-size // 12, size // 12 + 1)), glyph)
            x += advance
            line += character
            position += 1
        truth.append(line)
        y += line_height
    return page.filter(ImageFilter.GaussianBlur(0.7)), "\n".join(truth)


def _glyph(character: str, font: ImageFont.FreeTypeFont, rng: random.Random) -> Image.Image:
    """One character as an ink mask, turned and scaled a little, as a hand writes it."""
    box = round(font.size * 1.4)
    mask = Image.new("L", (box, box), 0)
    ImageDraw.Draw(mask).text((box * 0.15, box * 0.05), character, font=font, fill=255)
    mask = mask.rotate(rng.uniform(-4, 4), resample=Image.Resampling.BICUBIC)
    scale = rng.uniform(0.9, 1.08)
    return mask.resize((round(box * scale), round(box * scale)), Image.Resampling.BICUBIC)


def _photographed(text: str, traditional: bool, rng: random.Random) -> tuple[Image.Image, str]:
    dpi = 180
    width, height, margin = _pixels(A4_WIDTH_MM, dpi), _pixels(HALF_A4_MM, dpi), _pixels(18, dpi)
    font = ImageFont.truetype(str(SERIF), round(11 / 72 * dpi), index=3 if traditional else 2)
    page = Image.new("L", (width, height), 240)
    draw = ImageDraw.Draw(page)
    line_height = round(font.size * 1.6)
    lines, _ = _lines(text, font, width - 2 * margin, (height - 2 * margin) // line_height)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * line_height), line, font=font, fill=30)
    # a slight perspective: the top edge narrower than the bottom, as from a phone held above the desk
    squeeze = width * rng.uniform(0.02, 0.035)
    quad = (squeeze, 0.0, 0.0, float(height), float(width), float(height), width - squeeze, 0.0)
    page = page.transform(page.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=120)
    # light falling off towards one corner, and a warm cast
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    corner = (rng.choice((0, width)), rng.choice((0, height)))
    distance = np.hypot(xs - corner[0], ys - corner[1]) / np.hypot(width, height)
    light = 0.55 + 0.45 * np.clip(distance * 1.4, 0, 1)
    grey = np.asarray(page, dtype=np.float32) * light
    colour = np.stack([grey * 1.0, grey * 0.94, grey * 0.82], axis=-1)
    noise = np.random.default_rng(rng.randrange(2**32))
    colour += noise.normal(0, 6, colour.shape)
    photo = Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8), "RGB")
    return photo.filter(ImageFilter.GaussianBlur(1.1)), "\n".join(lines)
