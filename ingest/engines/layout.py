"""Reading order for an engine that finds text lines but no layout (PP-OCR): columns, then rows.

A page is split at vertical gutters — x ranges that no line box crosses — when every part between them holds
running text (at least three lines, typically six times wider than high); each part is then read in rows, top to
bottom, a row's segments left to right. Tables (short cells), photos beside text and single-column pages have
no such gutter, or fail the running-text test, and are read in rows as a whole. Two-page spreads and newspaper
columns are read column by column, as a reader does.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ingest.engines.base import TextBox

MIN_GUTTER_FRACTION = 0.012  # of the text's width: 24 px on a 2,000 px page; word gaps never span every row
MIN_COLUMN_LINES = 3
MIN_LINE_ASPECT = 6.0  # median width / height of a column's lines: running text, not table cells


def reading_order(lines: Sequence[TextBox]) -> list[TextBox]:
    return [line for row in text_rows(lines) for line in row]


def text_rows(lines: Sequence[TextBox]) -> list[list[TextBox]]:
    """The page's rows in reading order, column by column where the page has columns."""
    kept = [line for line in lines if line.text]
    return [row for column in columns(kept) for row in _rows(column)]


def columns(lines: Sequence[TextBox]) -> list[list[TextBox]]:
    """The lines split at the gutters, left to right; all of them as one column unless every part is text."""
    if len(lines) < 2 * MIN_COLUMN_LINES:
        return [list(lines)]
    ordered = sorted(lines, key=lambda line: line.box[0])
    left, right = ordered[0].box[0], max(line.box[2] for line in ordered)
    min_gutter = max(1.0, MIN_GUTTER_FRACTION * (right - left))
    parts: list[list[TextBox]] = [[]]
    reach = left
    for line in ordered:  # a new part starts where a line begins past a gap no earlier line bridges
        if parts[-1] and line.box[0] - reach >= min_gutter:
            parts.append([])
        parts[-1].append(line)
        reach = max(reach, line.box[2])
    if len(parts) == 1 or not all(_running_text(part) for part in parts):
        return [list(lines)]
    return parts


def _running_text(part: Sequence[TextBox]) -> bool:
    if len(part) < MIN_COLUMN_LINES:
        return False
    aspects = [(line.box[2] - line.box[0]) / max(1, line.box[3] - line.box[1]) for line in part]
    return statistics.median(aspects) >= MIN_LINE_ASPECT


def _rows(lines: Sequence[TextBox]) -> list[list[TextBox]]:
    """Rows top to bottom (a line joins the row its vertical centre falls in), each row left to right."""
    rows: list[list[TextBox]] = []
    for line in sorted(lines, key=lambda line: (line.box[1], line.box[0])):
        centre = (line.box[1] + line.box[3]) / 2
        if rows and rows[-1][0].box[1] <= centre <= rows[-1][0].box[3]:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda line: line.box[0]) for row in rows]
