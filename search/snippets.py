"""Snippets with highlights for the pages a query matched, computed from the catalogue's page text with the
same analyzer as the index (so a Chinese bigram match highlights the characters it covers)."""

from __future__ import annotations

from whoosh import highlight
from whoosh import query as wq

from archive.text import join_han
from search.analysis import archive_analyzer

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def query_terms(parsed: wq.Query) -> frozenset[str]:
    """The indexed terms a parsed query looks for in page text (title and text fields)."""
    terms: set[str] = set()
    for fieldname, text in parsed.iter_all_terms(phrases=True):
        if fieldname in ("text", "title", "chars"):
            terms.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return frozenset(terms)


def snippet(page_text: str, terms: frozenset[str], *, characters: int = 60) -> str:
    """Up to two fragments around the matches, HTML-escaped, matches wrapped in <mark>; '' when none."""
    if not terms or not page_text:
        return ""
    formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    fragmenter = highlight.ContextFragmenter(maxchars=characters * 3, surround=characters // 2)
    text = join_han(" ".join(page_text.split()))  # one line, and no stray space inside Chinese text
    return str(highlight.highlight(text, terms, archive_analyzer(), fragmenter, formatter, top=2))
