"""Which recognised words and lines of a page a query's terms fall on, for highlighting them on the page image.

The query is analysed as the index analyses text (`search.analysis`): Han runs become bigrams (a single Han
character stays itself), other text lowercase words. A Han term matches a box whose text contains it; a word
matches a box holding the same word (case-insensitive, English stems compared, as search finds them). Where a
term covers only part of a box (a PP-OCR line, or a run of Han characters), the answer is that part of the box:
its share of the box's width by the characters before and in it (wide characters count twice), since OCR gives
no positions inside a box. Overlapping terms in one box (the bigrams of a phrase) become one part.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from whoosh.lang import stemmer_for_language

from search.analysis import fold, tokens_of

Box = tuple[float, float, float, float]  # left, top, right, bottom: fractions of the page
OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})


@dataclass(frozen=True)
class BoxHit:
    text: str
    box: Box


@dataclass(frozen=True)
class _Terms:
    han: frozenset[str]
    words: frozenset[str]  # stems of lowercase words

    def __bool__(self) -> bool:
        return bool(self.han or self.words)


@functools.cache
def _stemmer() -> Callable[[str], str]:
    stem: Callable[[str], str] = stemmer_for_language("en")
    return functools.lru_cache(maxsize=20_000)(stem)


def query_terms(query: str) -> _Terms:
    """The query's terms as the index sees them; search syntax (AND/OR/NOT, field names) is left out."""
    han: set[str] = set()
    words: set[str] = set()
    text = " ".join(part.split(":", 1)[-1] for part in query.split())  # `title:档案` searches 档案
    for term, _start, _end in tokens_of(text):
        if term in OPERATORS:
            continue
        if _is_wide(term[0]) and unicodedata.category(term[0]).startswith("L"):
            han.add(term)
        else:
            words.add(_stemmer()(term.lower()))
    return _Terms(frozenset(han), frozenset(words))


def matching_boxes(query: str | None, boxes: Sequence[tuple[str, Box]]) -> list[BoxHit]:
    """The parts of `boxes` (text, box) the query's terms fall on, in the boxes' order; all boxes without one."""
    if query is None or not query.strip():
        return [BoxHit(text, box) for text, box in boxes]
    terms = query_terms(query)
    if not terms:
        return []
    hits: list[BoxHit] = []
    for text, box in boxes:
        folded = fold(text)
        shown = text if len(folded) == len(text) else folded
        for start, end in _merged(sorted(_spans(folded, terms))):
            hits.append(BoxHit(shown[start:end], _part(box, folded, start, end)))
    return hits


def _spans(folded: str, terms: _Terms) -> Iterator[tuple[int, int]]:
    for term in terms.han:
        at = folded.find(term)
        while at >= 0:
            yield at, at + len(term)
            at = folded.find(term, at + 1)
    if terms.words:
        for term, start, end in tokens_of(folded):
            if not _is_wide(term[0]) and _stemmer()(term.lower()) in terms.words:
                yield start, end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _part(box: Box, text: str, start: int, end: int) -> Box:
    """The share of `box` that characters start..end of its text take up, by width (wide characters twice)."""
    if start == 0 and end >= len(text.rstrip()):
        return box
    weights = [2 if _is_wide(char) else 1 for char in text]
    total = sum(weights) or 1
    left, top, right, bottom = box
    width = right - left
    return (
        round(left + width * sum(weights[:start]) / total, 4),
        top,
        round(left + width * sum(weights[:end]) / total, 4),
        bottom,
    )


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")
