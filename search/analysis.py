"""Analyzer: Han runs become overlapping bigrams with sequential positions, other text becomes lowercase words.

Bigrams make any substring of two or more Han characters findable as a phrase of bigrams; positions stay
sequential so phrase queries over adjacent characters match (jieba's analyzer breaks that). Whitespace
inside a Han run (OCR line breaks, stray spaces) is skipped, so a phrase split across lines still matches.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import opencc
from whoosh.analysis import Analyzer, Filter, LowercaseFilter, RegexTokenizer, Token, Tokenizer
from whoosh.lang import stemmer_for_language

from archive.text import HAN_RANGES

_HAN = f"[{HAN_RANGES}]"
_TOKEN = re.compile(f"(?P<han>{_HAN}(?:\\s*{_HAN})*)|(?P<word>(?:(?!{_HAN})[^\\W_])+(?:['’](?:(?!{_HAN})[^\\W_])+)*)")
_HAN_CHAR = re.compile(_HAN)


@functools.cache
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII, compatibility ideographs their base), then traditional
    Chinese to simplified (OpenCC), so a query in either script finds text in the other."""
    return str(_to_simplified().convert(unicodedata.normalize("NFKC", text)))


def tokens_of(text: str) -> Iterator[tuple[str, int, int]]:
    """(term, start char, end char) in position order."""
    for match in _TOKEN.finditer(fold(text)):
        if match.group("word") is not None:
            yield match.group("word"), match.start(), match.end()
            continue
        chars = [(m.group(0), match.start() + m.start()) for m in _HAN_CHAR.finditer(match.group("han"))]
        if len(chars) == 1:
            yield chars[0][0], chars[0][1], chars[0][1] + 1
            continue
        for (first, start), (second, second_start) in itertools.pairwise(chars):
            yield first + second, start, second_start + 1


class _TermTokenizer(Tokenizer):  # type: ignore[misc]
    """Turns `terms(text)` — (term, start char, end char) in position order — into Whoosh tokens."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        found = self.terms(value) if tokenize else iter([(fold(value), 0, len(value))])
        for pos, (term, start, end) in enumerate(found):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class CjkBigramTokenizer(_TermTokenizer):
    """Whoosh tokenizer over `tokens_of`."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        return tokens_of(text)


class EnglishStemFilter(Filter):  # type: ignore[misc]
    """Whoosh's English stemmer, applied to words only (Han bigrams pass through: the stemmer cannot change
    them) behind a C-level LRU cache; 4x faster than StemFilter's own cache on a 30k-word vocabulary."""

    def __init__(self) -> None:
        self.stem = functools.lru_cache(maxsize=200_000)(stemmer_for_language("en"))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        stem = self.stem
        for token in tokens:
            if not token.stopped and not _HAN_CHAR.match(token.text):
                token.text = stem(token.text)
            yield token


def archive_analyzer() -> Analyzer:
    """Bigrams for Han, and for other scripts lowercase words reduced to their stem (Porter, English)."""
    return CjkBigramTokenizer() | LowercaseFilter() | EnglishStemFilter()


def analysed_terms(text: str, analyzer: Analyzer) -> str:
    """The analyzer's terms joined by spaces: what engines index (see `prepared_analyzer`)."""
    return " ".join(token.text for token in analyzer(text))


def prepared_analyzer() -> Analyzer:
    """Splits text already turned into terms by `analysed_terms`: engines index prepared text with it, so the
    (slow, Python) analysis runs once, in parallel processes, and both engines index the same terms."""
    return RegexTokenizer(r"[^ ]+")


class HanCharTokenizer(_TermTokenizer):
    """Every Han character on its own: the `chars` field that answers one-character queries."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        for match in _HAN_CHAR.finditer(fold(text)):
            yield match.group(0), match.start(), match.end()


def han_char_analyzer() -> Analyzer:
    return HanCharTokenizer()
