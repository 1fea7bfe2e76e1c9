"""Text facts shared by OCR post-processing and the search analyzer (what a Han character is), and the one
sanitiser for file names shown to people."""

from __future__ import annotations

import re
import unicodedata

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


# Bidirectional controls (embeddings, overrides, isolates, marks): they reorder how a name is shown, so
# "invoice\u202efdp.exe" reads as "invoiceexe.pdf". Control characters (NUL, newlines, escapes) and other
# format characters (zero-width joiners, BOM) are removed along with them.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WHITESPACE = re.compile(r"\s+")


def display_name(text: str, *, fallback: str = "upload") -> str:
    """A file name made safe to show as a title or display name, the one sanitiser every adapter uses.

    Control, format and bidi-control characters are dropped, backslashes become '/', runs of whitespace
    become one space; a name with nothing left becomes ``fallback``.
    """
    kept = []
    for char in text.replace("\\", "/"):
        if char.isspace():
            kept.append(" ")
        elif char not in _BIDI_CONTROLS and not unicodedata.category(char).startswith("C"):
            kept.append(char)
    cleaned = _WHITESPACE.sub(" ", "".join(kept)).strip()
    return cleaned or fallback
