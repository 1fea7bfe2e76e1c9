"""Batch manifests: an optional CSV listing what the archivist expects in the box, one row per item.

Columns (a header row is required; names are case-insensitive, extra columns are ignored):
  item            item number within the fonds/year/retention (or give `reference_code` instead)
  reference_code  the 档号, when it is already assigned
  title           the item's title
  date            YYYY-MM-DD, YYYY-MM or YYYY (kept at that precision)
  pages           expected page count
  file            the file or sub-folder that holds the item (optional; otherwise files are matched in order)

Line endings may be \n, \r\n or a bare \r (old Mac exports).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from archive.dates import PartialDate
from archive.errors import InvalidInput

KNOWN_COLUMNS = ("item", "reference_code", "title", "date", "pages", "file")
MAX_ROWS = 100_000
MAX_ITEM_NUMBER = 999_999_999  # item numbers are counted within a fonds, year and retention period
MAX_PAGES = 100_000


@dataclass(frozen=True)
class ManifestRow:
    row_number: int
    item_number: int | None
    reference_code: str | None
    title: str
    date: PartialDate | None
    expected_pages: int | None
    source: str | None


def parse_manifest(text: str, *, name: str = "manifest") -> list[ManifestRow]:
    """Parse and check the whole file; every problem is reported with its row number at once."""
    # newline=None: \r\n and a bare \r read as \n, so old Mac files and stray CRs cannot break a row apart.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    header = _header(reader, name)
    if not header:
        raise InvalidInput(f"{name}: empty; the first row must name the columns ({', '.join(KNOWN_COLUMNS)})")
    columns = {field.strip().lower(): field for field in header if field}
    if "item" not in columns and "reference_code" not in columns:
        raise InvalidInput(f"{name}: needs an `item` or a `reference_code` column; found {', '.join(columns)}")
    rows: list[ManifestRow] = []
    problems: list[str] = []
    for number, raw in _records(reader, name):
        if number > MAX_ROWS:
            raise InvalidInput(f"{name}: more than {MAX_ROWS} rows; split the batch")
        values = {key: (raw.get(original) or "").strip() for key, original in columns.items()}
        if not any(values.values()):
            continue
        try:
            rows.append(_row(number, values))
        except (ValueError, InvalidInput) as exc:
            problems.append(f"row {number}: {exc}")
    problems.extend(_duplicates(rows))
    if problems:
        raise InvalidInput(f"{name}: " + "; ".join(problems[:20]) + (" …" if len(problems) > 20 else ""))
    if not rows:
        raise InvalidInput(f"{name}: no item rows")
    return rows


def _header(reader: csv.DictReader[str], name: str) -> list[str]:
    try:
        return list(reader.fieldnames or [])
    except csv.Error as exc:
        raise InvalidInput(f"{name}: row 1 cannot be read as CSV ({exc})") from exc


def _records(reader: csv.DictReader[str], name: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(row number, values); a row the CSV reader cannot parse is refused with its number."""
    number = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{name}: row {number + 1} cannot be read as CSV ({exc}); fix it and resubmit") from exc
        number += 1
        yield number, raw


def _row(number: int, values: dict[str, str]) -> ManifestRow:
    item = values.get("item") or None
    reference = values.get("reference_code") or None
    if item is None and reference is None:
        raise ValueError("neither item number nor reference code")
    if item is not None and not _whole(item, MAX_ITEM_NUMBER, minimum=0):
        raise ValueError(f"item {item!r} is not a whole number (at most {MAX_ITEM_NUMBER:,})")
    pages = values.get("pages") or None
    if pages is not None and not _whole(pages, MAX_PAGES, minimum=1):
        raise ValueError(f"pages {pages!r} is not a positive whole number (at most {MAX_PAGES:,})")
    return ManifestRow(
        row_number=number,
        item_number=int(item) if item else None,
        reference_code=reference,
        title=values.get("title", ""),
        date=PartialDate.parse_optional(values.get("date")),
        expected_pages=int(pages) if pages else None,
        source=values.get("file") or None,
    )


def _whole(text: str, maximum: int, *, minimum: int) -> bool:
    return text.isascii() and text.isdigit() and minimum <= int(text) <= maximum


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
