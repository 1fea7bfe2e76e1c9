"""Snippets with highlights for the pages a query matched, computed from the catalogue's page text with the
same analyzer as the index (so a Chinese bigram match highlights the characters it covers, and a prefix
query highlights the words it expanded to)."""

from __future__ import annotations

from whoosh import highlight
from whoosh import query as wq

from archive.text import join_han
from search.analysis import archive_analyzer
from search.schema import TEXT_FIELDS

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def highlight_terms(parsed: wq.Query) -> tuple[frozenset[str], frozenset[str]]:
    """The indexed terms, and the prefixes, a parsed query looks for in page text."""
    terms: set[str] = set()
    for fieldname, text in parsed.iter_all_terms(phrases=True):
        if fieldname in TEXT_FIELDS:
            terms.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    prefixes = {
        str(node.text) for node in parsed.leaves() if isinstance(node, wq.Prefix) and node.fieldname in TEXT_FIELDS
    }
    return frozenset(terms), frozenset(prefixes)


def snippet(
    page_text: str, terms: frozenset[str], prefixes: frozenset[str] = frozenset(), *, characters: int = 60
) -> str:
    """Up to two fragments around the matches, HTML-escaped, matches wrapped in <mark>; '' when none."""
    if not (terms or prefixes) or not page_text:
        return ""
    analyzer = archive_analyzer()
    text = join_han(" ".join(page_text.split()))  # one line, and no stray space inside Chinese text
    if prefixes:
        words = {token.text for token in analyzer(text)}
        terms = terms | {word for word in words if word.startswith(tuple(prefixes))}
    formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
    fragmenter = highlight.ContextFragmenter(maxchars=characters * 3, surround=characters // 2)
    return str(highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2))
