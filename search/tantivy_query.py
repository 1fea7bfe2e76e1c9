"""Translate a parsed query tree (see search/query.py) into tantivy queries, node by node, so both engines
answer the same query language with the same analysed terms."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import tantivy
from whoosh import query as wq

from archive.errors import QueryError

Occur = tantivy.Occur
INTEGER_FIELDS = ("level", "page")
UNSIGNED_FIELDS = ("doc",)


def translate(node: wq.Query, schema: tantivy.Schema) -> tantivy.Query:
    translated = _translate(node, schema)
    boost = float(getattr(node, "boost", 1.0))
    return tantivy.Query.boost_query(translated, boost) if boost != 1.0 else translated


def _translate(node: wq.Query, schema: tantivy.Schema) -> tantivy.Query:
    if isinstance(node, wq.Term | wq.FuzzyTerm | wq.Prefix | wq.Wildcard | wq.Phrase):
        return _leaf(node, schema)
    if isinstance(node, wq.DateRange):
        return tantivy.Query.range_query(
            schema, node.fieldname, tantivy.FieldType.Date, _utc(node.startdate), _utc(node.enddate)
        )
    if isinstance(node, wq.NumericRange):
        return tantivy.Query.range_query(
            schema,
            node.fieldname,
            tantivy.FieldType.Integer,
            node.start,
            node.end,
            include_lower=node.start is None or not node.startexcl,
            include_upper=node.end is None or not node.endexcl,
        )
    if isinstance(node, wq.AndNot):
        return _boolean([(Occur.Must, node.a), (Occur.MustNot, node.b)], schema)
    if isinstance(node, wq.AndMaybe):
        return _boolean([(Occur.Must, node.a), (Occur.Should, node.b)], schema)
    if isinstance(node, wq.And):
        clauses = [(Occur.MustNot, c.query) if isinstance(c, wq.Not) else (Occur.Must, c) for c in node.subqueries]
        if all(occur == Occur.MustNot for occur, _ in clauses):
            clauses.append((Occur.Must, wq.Every()))
        return _boolean(clauses, schema)
    if isinstance(node, wq.Or):
        return _boolean([(Occur.Should, c) for c in node.subqueries], schema)
    if isinstance(node, wq.Not):
        return _boolean([(Occur.Must, wq.Every()), (Occur.MustNot, node.query)], schema)
    if isinstance(node, wq.Every):
        return tantivy.Query.all_query()
    if node is wq.NullQuery or isinstance(node, wq.NullQuery.__class__):
        return tantivy.Query.empty_query()
    if isinstance(node, wq.TermRange):
        raise QueryError(f"ranges work on dates only (date:[2020 to 2021]), not on {node.fieldname}:")
    raise QueryError(f"this kind of query ({node.__class__.__name__}) is not supported; simplify it")


def _leaf(node: wq.Query, schema: tantivy.Schema) -> tantivy.Query:
    field = node.fieldname
    if isinstance(node, wq.Phrase):
        words: list[str | tuple[int, str]] = [str(w) for w in node.words]
        if len(words) == 1:
            return tantivy.Query.term_query(schema, field, str(node.words[0]))
        return tantivy.Query.phrase_query(schema, field, words, max(0, int(node.slop) - 1))
    text = node.text
    if isinstance(node, wq.FuzzyTerm):
        return tantivy.Query.fuzzy_term_query(schema, field, str(text), distance=int(node.maxdist), prefix=False)
    if isinstance(node, wq.Prefix):
        return tantivy.Query.regex_query(schema, field, re.escape(str(text)) + ".*")
    if isinstance(node, wq.Wildcard):
        pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(text))
        return tantivy.Query.regex_query(schema, field, pattern)
    return tantivy.Query.term_query(schema, field, _value(field, text))


def _value(field: str, text: Any) -> Any:
    if field in INTEGER_FIELDS or field in UNSIGNED_FIELDS:
        try:
            return int(text)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"{field}: takes a whole number, not {text!r}") from exc
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


def _boolean(clauses: list[tuple[Any, wq.Query]], schema: tantivy.Schema) -> tantivy.Query:
    return tantivy.Query.boolean_query([(occur, translate(child, schema)) for occur, child in clauses])


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
