"""Quarter turns: is a page sideways (its text lines run up and down), and what a detector's answer means.

Tesseract reads a page turned 90° clockwise with high confidence (it finds the vertical lines itself), so a
low OCR confidence cannot be the only cue: a page whose text-sized components line up far better across than
along is sideways, whatever the OCR read. Convention (checked with real renders turned by PIL): a detector
answer of N degrees means the content is turned N° counter-clockwise; `image.rotate(-N, expand=True)` (a
clockwise turn by N) makes it upright.
"""

from __future__ import annotations

from PIL import Image

from ingest.geometry.page import PageGeometry
from ingest.geometry.skew import estimate_skew

SIDEWAYS_MARGIN = 0.15  # the turned page's lines must be this much more confident than the page's own
CHECK_BELOW_CONFIDENCE = 0.7  # pages whose own lines are this clear are not checked


def sideways(image: Image.Image, geometry: PageGeometry) -> bool:
    """True when the text lines of the page run vertically (the page is turned by 90° one way or the other)."""
    own = geometry.skew.confidence
    if own >= CHECK_BELOW_CONFIDENCE:
        return False
    across = estimate_skew(image.transpose(Image.Transpose.ROTATE_90))
    return across.confident and across.confidence >= own + SIDEWAYS_MARGIN


def upright(image: Image.Image, counter_clockwise: int) -> Image.Image:
    """The page turned clockwise by `counter_clockwise` degrees (0, 90, 180, 270), i.e. made upright."""
    turns = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    quarter = counter_clockwise % 360
    return image.transpose(turns[quarter]) if quarter in turns else image.copy()
