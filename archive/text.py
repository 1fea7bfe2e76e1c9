"""Text facts shared by OCR post-processing and the search analyzer: what a Han character is."""

from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A, Compatibility Ideographs, Extensions B-F (SIP).
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_HAN_OR_PUNCT = f"[{HAN_RANGES}{_CJK_PUNCT}]"
_SPACE_BETWEEN_HAN = re.compile(f"(?<={_HAN_OR_PUNCT})[ \t\u3000]+(?={_HAN_OR_PUNCT})")
HAN_RUN = re.compile(f"[{HAN_RANGES}]+")


def is_han(char: str) -> bool:
    return bool(HAN_RUN.fullmatch(char))


def join_han(text: str) -> str:
    """Remove the spaces OCR puts between Han characters (Chinese has no word spaces)."""
    return _SPACE_BETWEEN_HAN.sub("", text)
