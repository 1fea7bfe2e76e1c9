"""The OCR benchmark's corpus: pages with known text, assembled into a cache folder (never committed).

Rendered pages: half-A4 at 300 dpi from the shared Chinese corpus (simplified, traditional) and public-domain
English, each with one degradation (DEGRADATIONS), all deterministic by seed. Page i is group i mod 3 and
degradation i mod 11: the first 11 pages meet every degradation, 33 pages every group × degradation once.

Real scans (group "real-en"): from a local mirror of OCRmyPDF's test resources (the `fetch` tool's copy; nothing
is read from the network): linn.png, a 300 dpi scan of a LinnSequencer brochure page (Wikimedia Commons,
CC BY-SA 3.0, per tests/resources/README.rst) with OCRmyPDF's linn.txt as ground truth (itself an OCR
transcript: its "0" bullets are dropped here, and it favours tesseract's readings), and jbig2.pdf, the same
page as a JBIG2-compressed PDF (an assembly of that scan, same licence).
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from bench.ocr_hard import HARD, render_hard
from bench.ocr_texts import ENGLISH, chinese
from ingest.samples import find_cjk_font

GROUPS = ("zh-hans", "zh-hant", "en")
DEGRADATIONS = (
    "clean",
    "blur",
    "noise",
    "jpeg",
    "contrast",
    "skew",
    "rotated",
    "photo",
    "columns",
    "spread",
    "stamp",
)
LANGUAGES = {"zh-hans": "chi_sim+eng", "zh-hant": "chi_tra+eng", "en": "eng", "real-en": "eng"}
CHINESE_GROUPS = frozenset({"zh-hans", "zh-hant"})
DPI = 300
WIDTH, HEIGHT = 2480, 1748  # A4 width, half its height
MARGIN = 236  # 20 mm
BOTTOM = HEIGHT - MARGIN
PAPER, INK = 248, 24
OCRMYPDF_MIRROR = Path("/work/.mirror/ocrmypdf+OCRmyPDF/repo")
CACHE_VERSION = 3
HARD_QUALITY = {"newspaper": 35, "photographed": 70}  # JPEG quality; the handwritten note is a PNG


@dataclass(frozen=True)
class CorpusPage:
    name: str
    group: str  # GROUPS or "real-en"
    degradation: str
    languages: str  # tesseract's, for the raw run and Dang'an's request
    path: Path  # what Dang'an ingests (an image or a PDF)
    image: Path  # what the raw engines read (the same file, or the PDF's page rendered at 300 dpi)
    truth: str
    source: str  # where the page came from, and its licence


def build(folder: Path, count: int, *, seed: int = 13, real: bool = True, hard: bool = True) -> list[CorpusPage]:
    """The first `count` rendered pages, plus the hard Chinese pages (bench/ocr_hard.py: each kind in simplified
    and traditional) and the real scans (when the mirror is there), cached in `folder`."""
    key = f"v{CACHE_VERSION}-seed{seed}-{count}{'-hard' if hard else ''}{'-real' if real else ''}"
    cache = folder / key
    manifest = cache / "manifest.json"
    if manifest.exists():
        return [_from_json(entry) for entry in json.loads(manifest.read_text(encoding="utf-8"))]
    cache.mkdir(parents=True, exist_ok=True)
    texts = {"zh-hans": chinese(False), "zh-hant": chinese(True), "en": ENGLISH}
    pages = [_rendered(cache, number, texts, seed) for number in range(count)]
    if hard:
        pages += [_hard(cache, kind, group, seed) for kind in HARD for group in ("zh-hans", "zh-hant")]
    if real:
        pages += real_scans(cache, OCRMYPDF_MIRROR)
    entries = [asdict(page) | {"path": str(page.path), "image": str(page.image)} for page in pages]
    manifest.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
    return pages


def _from_json(entry: dict[str, str]) -> CorpusPage:
    return CorpusPage(**(entry | {"path": Path(entry["path"]), "image": Path(entry["image"])}))  # type: ignore[arg-type]


def _rendered(cache: Path, number: int, texts: dict[str, str], seed: int) -> CorpusPage:
    group = GROUPS[number % len(GROUPS)]
    degradation = DEGRADATIONS[number % len(DEGRADATIONS)]
    rng = random.Random(seed * 1000 + number)
    text = texts[group]
    start = rng.randrange(0, len(text) // 2)
    if group == "en":
        start = text.rfind(" ", 0, start) + 1
    image, truth = render(text[start:], group, degradation, rng)
    suffix = ".jpg" if degradation in ("jpeg", "photo") else ".png"
    path = cache / f"{number:03d}-{group}-{degradation}{suffix}"
    if suffix == ".jpg":
        image.save(path, dpi=(DPI, DPI), quality=18 if degradation == "jpeg" else 85)
    else:
        image.save(path, dpi=(DPI, DPI))
    source = "rendered from /work/shared/corpus" if group != "en" else "rendered from public-domain English"
    return CorpusPage(path.stem, group, degradation, LANGUAGES[group], path, path, truth, source)


def _hard(cache: Path, kind: str, group: str, seed: int) -> CorpusPage:
    rng = random.Random(f"{seed}-{kind}-{group}")
    image, truth, dpi = render_hard(kind, group == "zh-hant", rng)
    quality = HARD_QUALITY.get(kind)
    path = cache / f"hard-{kind}-{group}{'.jpg' if quality else '.png'}"
    if quality:
        image.save(path, dpi=(dpi, dpi), quality=quality)
    else:
        image.save(path, dpi=(dpi, dpi))
    source = f"rendered from /work/shared/corpus ({kind}: bench/ocr_hard.py)"
    return CorpusPage(path.stem, group, kind, LANGUAGES[group], path, path, truth, source)


def render(text: str, group: str, degradation: str, rng: random.Random) -> tuple[Image.Image, str]:
    """One page of `text` (as much as fits) with `degradation` applied; the text drawn is the ground truth."""
    chinese_text = group in CHINESE_GROUPS
    size_pt = 12.0 if chinese_text else 11.0
    if degradation == "columns":
        size_pt -= 1.5
    font = ImageFont.truetype(str(find_cjk_font()), round(size_pt / 72 * DPI))
    stream = _Stream(text, chinese_text)
    width = WIDTH * 2 if degradation == "spread" else WIDTH
    page = Image.new("L", (width, HEIGHT), PAPER)
    draw = ImageDraw.Draw(page)
    boxes = _text_boxes(degradation, width)
    avoid = _photo_box() if degradation == "photo" else None
    lines = [line for box in boxes for line in _fill(draw, stream, font, box, avoid)]
    return _degrade(page, degradation, rng, avoid), "\n".join(lines)


def _text_boxes(degradation: str, width: int) -> list[tuple[int, int, int, int]]:
    if degradation == "columns":
        middle, gap = WIDTH // 2, 59
        return [(MARGIN, MARGIN, middle - gap, BOTTOM), (middle + gap, MARGIN, WIDTH - MARGIN, BOTTOM)]
    if degradation == "spread":
        return [(MARGIN, MARGIN, WIDTH - MARGIN, BOTTOM), (WIDTH + MARGIN, MARGIN, width - MARGIN, BOTTOM)]
    return [(MARGIN, MARGIN, width - MARGIN, BOTTOM)]


def _photo_box() -> tuple[int, int, int, int]:
    return (WIDTH // 2 + 60, MARGIN, WIDTH - MARGIN, MARGIN + 700)


class _Stream:
    """The text to lay out, unit by unit: characters for Chinese, words for English."""

    def __init__(self, text: str, chinese_text: bool) -> None:
        self.units = list(text) if chinese_text else text.split(" ")
        self.joiner = "" if chinese_text else " "
        self.position = 0


def _fill(
    draw: ImageDraw.ImageDraw,
    stream: _Stream,
    font: ImageFont.FreeTypeFont,
    box: tuple[int, int, int, int],
    avoid: tuple[int, int, int, int] | None,
) -> list[str]:
    left, top, right, bottom = box
    line_height = round(font.size * 1.6)
    lines: list[str] = []
    y = top
    while y + line_height <= bottom and stream.position < len(stream.units):
        limit = right
        if avoid is not None and y < avoid[3] + 30 and y + line_height > avoid[1] - 30:
            limit = avoid[0] - 60
        line = ""
        while stream.position < len(stream.units):
            unit = stream.units[stream.position]
            candidate = f"{line}{stream.joiner}{unit}" if line else unit
            if font.getlength(candidate) > limit - left:
                break
            line = candidate
            stream.position += 1
        if not line:
            break
        draw.text((left, y), line, font=font, fill=INK)
        lines.append(line)
        y += line_height
    return lines


def _degrade(
    page: Image.Image, degradation: str, rng: random.Random, photo: tuple[int, int, int, int] | None
) -> Image.Image:
    noise = np.random.default_rng(rng.randrange(2**32))
    if degradation == "blur":
        return page.filter(ImageFilter.GaussianBlur(1.3))
    if degradation == "noise":
        pixels = np.asarray(page, dtype=np.float32) + noise.normal(0, 22, (page.height, page.width))
        speckle = noise.random((page.height, page.width)) < 0.004
        pixels[speckle] = noise.choice([0.0, 255.0], size=int(speckle.sum()))
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.5))
    if degradation == "contrast":  # faded ink on greyish paper
        return page.point(lambda value: round(205 - (PAPER - value) * 60 / (PAPER - INK))).filter(
            ImageFilter.GaussianBlur(0.6)
        )
    if degradation == "skew":
        angle = rng.uniform(2.5, 6.0) * rng.choice((-1, 1))
        return page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=PAPER)
    if degradation == "rotated":
        return page.rotate(rng.choice((90, 180, 270)), expand=True)
    if degradation == "spread":
        return _gutter(page)
    if degradation == "photo" and photo is not None:
        return _with_photo(page, photo, noise)
    if degradation == "stamp":
        return _with_stamp(page, rng)
    return page.filter(ImageFilter.GaussianBlur(0.4))  # clean, jpeg (the JPEG is written at quality 18)


def _gutter(page: Image.Image) -> Image.Image:
    """The shadow of a book's binding down the middle of a two-page spread."""
    pixels = np.asarray(page, dtype=np.float32)
    x = np.arange(page.width, dtype=np.float32)
    shade = 1 - 0.55 * np.exp(-(((x - page.width / 2) / 90) ** 2))
    return Image.fromarray(np.clip(pixels * shade[None, :], 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.5)
    )


def _with_photo(page: Image.Image, box: tuple[int, int, int, int], noise: np.random.Generator) -> Image.Image:
    """A photo-like block: smooth colour fields, soft shapes and film grain, printed beside the text."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    coarse = noise.random((6, 8, 3)) * 200 + 30
    photo = Image.fromarray(coarse.astype(np.uint8), "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(photo)
    for _ in range(5):
        x, y, r = int(noise.integers(0, width)), int(noise.integers(0, height)), int(noise.integers(40, 160))
        colour = tuple(int(c) for c in noise.integers(0, 255, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    photo = photo.filter(ImageFilter.GaussianBlur(6))
    grain = np.asarray(photo, dtype=np.float32) + noise.normal(0, 10, (height, width, 1))
    photo = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8), "RGB")
    result = page.convert("RGB")
    result.paste(photo, (left, top))
    return result.filter(ImageFilter.GaussianBlur(0.4))


def _with_stamp(page: Image.Image, rng: random.Random) -> Image.Image:
    """A red round seal (ring, inner ring, star) pressed over the text, as on Chinese official documents."""
    seal = Image.new("RGB", page.size, (255, 255, 255))
    draw = ImageDraw.Draw(seal)
    radius = 250
    cx = rng.randrange(MARGIN + radius, page.width - MARGIN - radius)
    cy = rng.randrange(MARGIN + radius // 2, page.height - MARGIN - radius // 2)
    red = (214, 48, 42)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=red, width=14)
    draw.ellipse((cx - radius + 26, cy - radius + 26, cx + radius - 26, cy + radius - 26), outline=red, width=4)
    points = []
    for k in range(10):
        r = 95 if k % 2 == 0 else 38
        angle = np.pi / 2 + k * np.pi / 5
        points.append((cx + r * np.cos(angle), cy - r * np.sin(angle)))
    draw.polygon(points, fill=red)
    seal = seal.filter(ImageFilter.GaussianBlur(1.2))
    return ImageChops.multiply(page.convert("RGB"), seal).filter(ImageFilter.GaussianBlur(0.4))


def real_scans(cache: Path, mirror: Path) -> list[CorpusPage]:
    """The real scans, copied from the local mirror of OCRmyPDF's repository; none when it is not there."""
    if not (mirror / "HEAD").exists():
        return []

    def blob(name: str) -> bytes:
        command = ["git", "--git-dir", str(mirror), "show", f"HEAD:tests/resources/{name}"]
        return subprocess.run(command, check=True, capture_output=True).stdout

    try:
        scan, pdf, transcript = blob("linn.png"), blob("jbig2.pdf"), blob("linn.txt").decode("utf-8")
    except subprocess.CalledProcessError:
        return []
    truth = "\n".join(line.removeprefix("0 ") for line in transcript.splitlines())
    origin = "OCRmyPDF tests/resources (Wikimedia Commons LinnSequencer brochure, CC BY-SA 3.0)"
    png, jbig2 = cache / "real-linn.png", cache / "real-linn-jbig2.pdf"
    png.write_bytes(scan)
    jbig2.write_bytes(pdf)
    rendered = cache / "real-linn-jbig2"
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", str(jbig2), str(rendered)], check=True)
    return [
        CorpusPage("real-linn", "real-en", "real scan", "eng", png, png, truth, origin + ", linn.png"),
        CorpusPage(
            "real-linn-jbig2",
            "real-en",
            "real JBIG2 PDF",
            "eng",
            jbig2,
            rendered.with_suffix(".png"),
            truth,
            origin + ", jbig2.pdf",
        ),
    ]
