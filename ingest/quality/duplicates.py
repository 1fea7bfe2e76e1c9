"""Which pages of a batch are the same scan: a perceptual hash narrows the candidates (same layout), then the
page's mean colour and grey levels, and, where OCR read both pages, their texts must agree too.

The hash alone sees only the layout at 32 x 32: two letters on the same letterhead, or one sheet on white and
another on yellow paper, hash alike (issue 13 found two differently coloured scans called identical, distance 0).
A rescan of one sheet keeps its colour within a few levels and its text almost word for word.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TypeVar

import numpy as np

from archive.errors import InvalidInput
from ingest.quality.profiles import QualityProfile

K = TypeVar("K")
MIN_TEXT_CHARS = 20  # texts shorter than this say too little to compare
INK_LUMA_TOLERANCE = 2.0  # ink levels may differ this many times the colour tolerance (ink is few pixels)


def hamming(a: str, b: str) -> int:
    """How many of the 64 bits differ between two perceptual hashes (16 hex digits each)."""
    return (hash_value(a) ^ hash_value(b)).bit_count()


def hash_value(text: str) -> int:
    if len(text) != 16 or not all(char in string.hexdigits for char in text):
        raise InvalidInput(f"perceptual hash must be 16 hex digits, not {text!r}")
    return int(text, 16)


def near_duplicates(hashes: Sequence[tuple[K, str]], *, max_distance: int) -> list[tuple[K, K, int]]:
    """Pairs (earlier key, later key, distance) whose hashes are within max_distance bits, in batch order."""
    values = np.array([hash_value(text) for _, text in hashes], dtype=np.uint64)
    pairs: list[tuple[K, K, int]] = []
    for first in range(len(values) - 1):
        distances = np.bitwise_count(values[first + 1 :] ^ values[first])
        for offset in np.flatnonzero(distances <= max_distance):
            second = first + 1 + int(offset)
            pairs.append((hashes[first][0], hashes[second][0], int(distances[offset])))
    return pairs


def same_scans(
    pages: Sequence[tuple[K, Mapping[str, object], str | None]], profile: QualityProfile
) -> list[tuple[K, K, int]]:
    """Pairs (earlier, later, hash distance) of pages that are the same scan. Each page is (key, its measurements
    as a mapping, e.g. `asdict(PageMeasurements)` or a stored page's JSON, its OCR text or None). Blank pages and
    pages measured before colours were kept (no "colour") are compared on the hash alone / left out as before."""
    measured = {key: values for key, values, _ in pages}
    texts = {key: text for key, _, text in pages}
    hashes = [
        (key, str(values["phash"])) for key, values, _ in pages if values.get("phash") and not values.get("blank")
    ]
    pairs = near_duplicates(hashes, max_distance=int(profile.near_duplicate_max_distance))
    return [
        (first, second, distance)
        for first, second, distance in pairs
        if _same_tone(measured[first], measured[second], profile)
        and _same_text(texts[first], texts[second], profile.near_duplicate_min_text_similarity)
    ]


def _same_tone(first: Mapping[str, object], second: Mapping[str, object], profile: QualityProfile) -> bool:
    limit = profile.near_duplicate_max_colour
    colours = first.get("colour"), second.get("colour")
    if isinstance(colours[0], str) and isinstance(colours[1], str):
        channels = zip(bytes.fromhex(colours[0]), bytes.fromhex(colours[1]), strict=True)
        if any(abs(a - b) > limit for a, b in channels):
            return False
    for key, tolerance in (("paper_luma", limit), ("ink_luma", INK_LUMA_TOLERANCE * limit)):
        a, b = first.get(key), second.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) > tolerance:
            return False
    return True


def _same_text(first: str | None, second: str | None, minimum: float) -> bool:
    if first is None or second is None:
        return True
    return text_similarity(first, second) >= minimum


def text_similarity(first: str, second: str) -> float:
    """Share of character bigrams (of letters, digits and Han, case-folded) the two texts have in common
    (Jaccard); 1.0 when either is too short to judge."""
    a, b = _bigrams(first), _bigrams(second)
    if min(len(a), len(b)) < MIN_TEXT_CHARS:
        return 1.0
    return len(a & b) / len(a | b)


def _bigrams(text: str) -> set[str]:
    kept = "".join(char for char in text.casefold() if unicodedata.category(char)[0] in "LN")
    return {kept[index : index + 2] for index in range(len(kept) - 1)}
