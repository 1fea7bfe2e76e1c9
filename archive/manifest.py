"""Batch manifests: an optional CSV listing what the archivist expects in the box, one row per item.

Columns (a header row is required; names are case-insensitive, extra columns are ignored):
  item            item number within the fonds/year/retention (or give `reference_code` instead)
  reference_code  the 档号, when it is already assigned
  title           the item's title
  date            YYYY-MM-DD, YYYY-MM or YYYY
  pages           expected page count
  file            the file or sub-folder that holds the item (optional; otherwise files are matched in order)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from archive.errors import InvalidInput

KNOWN_COLUMNS = ("item", "reference_code", "title", "date", "pages", "file")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class ManifestRow:
    row_number: int
    item_number: int | None
    reference_code: str | None
    title: str
    date: dt.date | None
    expected_pages: int | None
    source: str | None


def parse_manifest(text: str, *, name: str = "manifest") -> list[ManifestRow]:
    """Parse and check the whole file; every problem is reported with its row number at once."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise InvalidInput(f"{name}: empty; the first row must name the columns ({', '.join(KNOWN_COLUMNS)})")
    columns = {field.strip().lower(): field for field in reader.fieldnames if field}
    if "item" not in columns and "reference_code" not in columns:
        raise InvalidInput(f"{name}: needs an `item` or a `reference_code` column; found {', '.join(columns)}")
    rows: list[ManifestRow] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS:
            raise InvalidInput(f"{name}: more than {MAX_ROWS} rows; split the batch")
        values = {key: (raw.get(original) or "").strip() for key, original in columns.items()}
        if not any(values.values()):
            continue
        try:
            rows.append(_row(number, values))
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
    problems.extend(_duplicates(rows))
    if problems:
        raise InvalidInput(f"{name}: " + "; ".join(problems[:20]) + (" …" if len(problems) > 20 else ""))
    if not rows:
        raise InvalidInput(f"{name}: no item rows")
    return rows


def _row(number: int, values: dict[str, str]) -> ManifestRow:
    item = values.get("item") or None
    reference = values.get("reference_code") or None
    if item is None and reference is None:
        raise ValueError("neither item number nor reference code")
    if item is not None and not item.isdigit():
        raise ValueError(f"item {item!r} is not a whole number")
    pages = values.get("pages") or None
    if pages is not None and (not pages.isdigit() or int(pages) == 0):
        raise ValueError(f"pages {pages!r} is not a positive whole number")
    return ManifestRow(
        row_number=number,
        item_number=int(item) if item else None,
        reference_code=reference,
        title=values.get("title", ""),
        date=parse_date(values.get("date", "")),
        expected_pages=int(pages) if pages else None,
        source=values.get("file") or None,
    )


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (archival dates are often only a year)."""
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?", text)
    if not match:
        raise ValueError(f"date {text!r} is not YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"date {text!r}: {exc}") from exc


def _duplicates(rows: list[ManifestRow]) -> list[str]:
    problems: list[str] = []
    for attribute, label in (("item_number", "item"), ("reference_code", "reference code"), ("source", "file")):
        seen: dict[object, int] = {}
        for row in rows:
            value = getattr(row, attribute)
            if value is None:
                continue
            if value in seen:
                problems.append(f"row {row.row_number}: {label} {value} repeats row {seen[value]}")
            seen.setdefault(value, row.row_number)
    return problems
