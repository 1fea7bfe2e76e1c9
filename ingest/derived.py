"""Page images and thumbnails for the reader's screens, rendered from a record's PDF/A access copy.

Derived data (DESIGN.md house rule 8): made after filing, rebuildable (`dangan derive`), never needed for
correctness. The access copy is the page as the archive presents it (turned upright, straightened, rescans
spliced in), so the images show the same page whatever the item was scanned as. poppler's `pdftoppm` draws
the page; Pillow makes the thumbnail from the drawn page and writes both as JPEG (every browser shows it).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from archive.errors import ProcessingFailed

DISPLAY_LONG_SIDE = 1600  # pixels: enough to read a page beside its text on a desktop screen
THUMBNAIL_LONG_SIDE = 200
JPEG_QUALITY = 82
RENDER_TIMEOUT_SECONDS = 120.0
MEDIA_TYPE = "image/jpeg"


@dataclass(frozen=True)
class RenderedImage:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class PageImages:
    """One page's display image and thumbnail."""

    number: int
    display: RenderedImage
    thumbnail: RenderedImage


def render_page(pdf: Path, number: int, *, long_side: int = DISPLAY_LONG_SIDE) -> PageImages:
    """Draw page `number` (1-based) of `pdf` with its long side `long_side` pixels; ProcessingFailed if the
    page cannot be drawn (no such page, a damaged file, poppler missing)."""
    with tempfile.TemporaryDirectory(prefix="derive-") as scratch:
        out = Path(scratch) / "page"
        command = ["pdftoppm", "-f", str(number), "-l", str(number), "-scale-to", str(long_side)]
        command += ["-png", "-singlefile", str(pdf), str(out)]
        try:
            run = subprocess.run(command, capture_output=True, timeout=RENDER_TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProcessingFailed(f"could not draw page {number}: {exc.__class__.__name__}") from None
        drawn = out.with_suffix(".png")
        if run.returncode != 0 or not drawn.exists():
            reason = run.stderr.decode("utf-8", "replace").strip()[:200] or f"exit {run.returncode}"
            raise ProcessingFailed(f"could not draw page {number}: {reason}")
        with Image.open(drawn) as image:
            image.load()
            page = image.convert("L" if image.mode in ("1", "L", "LA") else "RGB")
    display = _jpeg(page)
    thumb = page.copy()
    thumb.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE), Image.Resampling.LANCZOS)
    return PageImages(number, display, _jpeg(thumb))


def _jpeg(image: Image.Image) -> RenderedImage:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return RenderedImage(buffer.getvalue(), image.width, image.height)
