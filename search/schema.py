"""The fields every engine indexes, declared once as a Whoosh schema.

The Whoosh engine builds its index from it (with text fields fed prepared terms), and both engines' query
parser reads it (field types decide how
a typed query is analysed: text fields through the archive analyzer, keywords lower-cased, dates parsed).
"""

from __future__ import annotations

import functools

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

from search.analysis import archive_analyzer, han_char_analyzer, prepared_analyzer

TEXT_FIELDS = ("title", "text", "chars")  # analysed full text of the page; the rest are exact values
FULL_TEXT_FIELDS = ("title", "text", "meta")  # what an unfielded query searches (`meta`: descriptive metadata)
# Descriptive metadata as exact values: filters, fielded queries (creator:张三) and facets.
META_KEYWORD_FIELDS = ("creator", "organisation", "docnum", "keyword", "ayear")
KEYWORD_FIELDS = ("fonds", "series", "type", "language", "ref")  # lower-cased exact values, searchable as `ref:`


def build_schema(*, prepared: bool = False) -> Schema:
    """`prepared`: the index's own schema, whose text fields receive terms already analysed (search/prepare.py);
    otherwise the query parser's, which analyses what the user typed."""
    analyzer = prepared_analyzer() if prepared else archive_analyzer()
    chars = prepared_analyzer() if prepared else han_char_analyzer()
    return Schema(
        page_key=ID(unique=True, stored=True),
        doc=NUMERIC(int, bits=64, signed=False, stored=True, sortable=True),  # columns: read per hit, cheaply
        page=NUMERIC(int, stored=True, sortable=True),
        level=NUMERIC(int, stored=True, sortable=True),
        labels=NUMERIC(int, bits=64, signed=False, sortable=True),  # see results.labels_stamp
        day=NUMERIC(int, sortable=True),  # the document's date as a day number, 0 when undated
        departments=KEYWORD(commas=True),
        fonds=KEYWORD(stored=True, lowercase=True, commas=True),
        series=KEYWORD(stored=True, lowercase=True, commas=True),
        batch=ID(stored=True),
        filed=ID(),  # types.FILED or UNFILED
        type=KEYWORD(stored=True, lowercase=True, commas=True),
        language=KEYWORD(stored=True, lowercase=True, commas=True),
        date=DATETIME(stored=True),
        ref=KEYWORD(stored=True, lowercase=True, commas=True),
        title=TEXT(analyzer=analyzer, multitoken_query="phrase"),
        text=TEXT(analyzer=analyzer, multitoken_query="phrase"),
        chars=TEXT(analyzer=chars, phrase=False),  # single Han characters, for 1-character queries
        meta=TEXT(analyzer=analyzer, multitoken_query="phrase"),
        creator=KEYWORD(stored=True, lowercase=True, commas=True),
        organisation=KEYWORD(stored=True, lowercase=True, commas=True),
        docnum=KEYWORD(lowercase=True, commas=True),
        keyword=KEYWORD(lowercase=True, commas=True),
        ayear=KEYWORD(stored=True, commas=True),
    )


@functools.cache
def query_schema() -> Schema:
    """The schema the query parser reads; one per process (building the analyzer is not free)."""
    return build_schema()
