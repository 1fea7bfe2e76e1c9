"""Character error rate: edit distance between OCR output and ground truth, over non-space characters."""

from __future__ import annotations

import re

import numpy as np

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub("", text)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row at a time (insertions by a running minimum)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    row = np.arange(len(b) + 1, dtype=np.int64)
    offsets = np.arange(len(b) + 1, dtype=np.int64)
    for i, char in enumerate(a.encode("utf-32-le").decode("utf-32-le"), start=1):
        substitute = row[:-1] + (target != ord(char))
        delete = row[1:] + 1
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(substitute, delete)
        row = np.minimum.accumulate(new - offsets) + offsets  # insertions
    return int(row[-1])


def cer(ocr: str, truth: str) -> float:
    reference = normalise(truth)
    return edit_distance(normalise(ocr), reference) / max(1, len(reference))
