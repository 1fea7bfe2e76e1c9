"""Text metrics for the OCR benchmarks: character error rate (edit distance over non-space characters) and
bag-of-words F1 (bigrams of Han runs, lower-cased words otherwise). Both compare NFKC forms, so full-width and
half-width punctuation, digits and letters count as the same character."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np

_SPACE = re.compile(r"\s+")
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_GAP = re.compile(rf"(?<=[{_HAN_CLASS}])\s+(?=[{_HAN_CLASS}])")
_TOKEN = re.compile(rf"([{_HAN_CLASS}]+)|([^\W_{_HAN_CLASS}]+)")


def normalise(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


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


def bag_of_words(text: str) -> Counter[str]:
    """Bigrams of each run of Han characters (spaces between Han characters removed first; a run of one
    character counts as itself) and lower-cased words of everything else (punctuation dropped)."""
    folded = _HAN_GAP.sub("", unicodedata.normalize("NFKC", text).lower())
    bag: Counter[str] = Counter()
    for match in _TOKEN.finditer(folded):
        han, word = match.groups()
        if word is not None:
            bag[word] += 1
        elif len(han) == 1:
            bag[han] += 1
        else:
            bag.update(han[i : i + 2] for i in range(len(han) - 1))
    return bag


def bag_f1(ocr: str, truth: str) -> float:
    """Harmonic mean of precision and recall of the OCR's bag of words against the truth's (1.0 when both empty)."""
    found, wanted = bag_of_words(ocr), bag_of_words(truth)
    if not found and not wanted:
        return 1.0
    common = sum((found & wanted).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(found.values()), common / sum(wanted.values())
    return 2 * precision * recall / (precision + recall)
