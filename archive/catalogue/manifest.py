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
from archive.errors import InvalidInput, ParamValue, Reason

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


class _Problem(Exception):
    """What is wrong with one row: the English, and the reason (of InvalidInput) and params that say it; its
    `count` is 1 until the manifest is refused, which says the first problem with the count of all."""

    def __init__(self, english: str, reason: Reason, params: dict[str, ParamValue]) -> None:
        super().__init__(english)
        self.english, self.reason, self.params = english, reason, params


def parse_manifest(text: str, *, name: str = "manifest") -> list[ManifestRow]:
    """Parse and check the whole file; every problem is reported with its row number at once (the reason and
    params name the first, with the count of all)."""
    # newline=None: \r\n and a bare \r read as \n, so old Mac files and stray CRs cannot break a row apart.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    header = _header(reader, name)
    if not header:
        known = ", ".join(KNOWN_COLUMNS)
        message = f"{name}: empty; the first row must name the columns ({known})"
        raise InvalidInput(message, InvalidInput.MANIFEST_EMPTY, {"columns": known})
    columns = {field.strip().lower(): field for field in header if field}
    if "item" not in columns and "reference_code" not in columns:
        found = ", ".join(columns)
        message = f"{name}: needs an `item` or a `reference_code` column; found {found}"
        raise InvalidInput(message, InvalidInput.MANIFEST_NO_KEY_COLUMN, {"found": found})
    rows: list[ManifestRow] = []
    problems: list[_Problem] = []
    for number, raw in _records(reader, name):
        if number > MAX_ROWS:
            message = f"{name}: more than {MAX_ROWS} rows; split the batch"
            raise InvalidInput(message, InvalidInput.MANIFEST_TOO_MANY_ROWS, {"limit": MAX_ROWS})
        values = {key: (raw.get(original) or "").strip() for key, original in columns.items()}
        if not any(values.values()):
            continue
        try:
            rows.append(_row(number, values))
        except _Problem as problem:
            problems.append(problem)
    problems.extend(_duplicates(rows))
    if problems:
        said = "; ".join(problem.english for problem in problems[:20]) + (" …" if len(problems) > 20 else "")
        first = problems[0]
        raise InvalidInput(f"{name}: {said}", first.reason, {**first.params, "count": len(problems)})
    if not rows:
        raise InvalidInput(f"{name}: no item rows", InvalidInput.MANIFEST_NO_ROWS)
    return rows


def _header(reader: csv.DictReader[str], name: str) -> list[str]:
    try:
        return list(reader.fieldnames or [])
    except csv.Error as exc:
        message = f"{name}: row 1 cannot be read as CSV ({exc})"
        raise InvalidInput(message, InvalidInput.MANIFEST_UNREADABLE, {"row": 1}) from exc


def _records(reader: csv.DictReader[str], name: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(row number, values); a row the CSV reader cannot parse is refused with its number."""
    number = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"{name}: row {number + 1} cannot be read as CSV ({exc}); fix it and resubmit"
            raise InvalidInput(message, InvalidInput.MANIFEST_UNREADABLE, {"row": number + 1}) from exc
        number += 1
        yield number, raw


def _row(number: int, values: dict[str, str]) -> ManifestRow:
    """The row, or the _Problem with it."""
    at = f"row {number}: "
    item = values.get("item") or None
    reference = values.get("reference_code") or None
    if item is None and reference is None:
        raise _Problem(
            at + "neither item number nor reference code", InvalidInput.MANIFEST_ROW_NO_KEY, {"count": 1, "row": number}
        )
    if item is not None and not _whole(item, MAX_ITEM_NUMBER, minimum=0):
        english = f"item {item!r} is not a whole number (at most {MAX_ITEM_NUMBER:,})"
        params: dict[str, ParamValue] = {"count": 1, "row": number, "value": item, "maximum": MAX_ITEM_NUMBER}
        raise _Problem(at + english, InvalidInput.MANIFEST_ROW_ITEM, params)
    pages = values.get("pages") or None
    if pages is not None and not _whole(pages, MAX_PAGES, minimum=1):
        english = f"pages {pages!r} is not a positive whole number (at most {MAX_PAGES:,})"
        raise _Problem(
            at + english,
            InvalidInput.MANIFEST_ROW_PAGES,
            {"count": 1, "row": number, "value": pages, "maximum": MAX_PAGES},
        )
    try:
        date = PartialDate.parse_optional(values.get("date"))
    except InvalidInput as exc:
        params = {"count": 1, "row": number, "date": values.get("date", "")}
        raise _Problem(at + exc.message, InvalidInput.MANIFEST_ROW_DATE, params) from None
    return ManifestRow(
        row_number=number,
        item_number=int(item) if item else None,
        reference_code=reference,
        title=values.get("title", ""),
        date=date,
        expected_pages=int(pages) if pages else None,
        source=values.get("file") or None,
    )


def _whole(text: str, maximum: int, *, minimum: int) -> bool:
    return text.isascii() and text.isdigit() and minimum <= int(text) <= maximum


def _duplicates(rows: list[ManifestRow]) -> list[_Problem]:
    problems: list[_Problem] = []
    for attribute, column in (("item_number", "item"), ("reference_code", "reference_code"), ("source", "file")):
        label = column.replace("_", " ")
        seen: dict[object, int] = {}
        for row in rows:
            value = getattr(row, attribute)
            if value is None:
                continue
            if value in seen:
                english = f"row {row.row_number}: {label} {value} repeats row {seen[value]}"
                params: dict[str, ParamValue] = {
                    "count": 1, "row": row.row_number, "column": column, "value": str(value), "first_row": seen[value]
                }  # fmt: skip
                problems.append(_Problem(english, InvalidInput.MANIFEST_ROW_REPEATS, params))
            seen.setdefault(value, row.row_number)
    return problems
