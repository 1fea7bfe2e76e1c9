"""Batch manifests: an optional CSV listing what the archivist expects in the box, one row per item.

Columns (a header row is required; names are case-insensitive, extra columns are ignored):
  item            item number within the fonds/year/retention (or give `reference_code` instead)
  reference_code  the 档号, when it is already assigned
  title           the item's title
  date            YYYY-MM-DD, YYYY-MM or YYYY (kept at that precision)
  pages           expected page count
  file            the file or sub-folder that holds the item (optional; otherwise files are matched in order)
and descriptive metadata (archive/catalogue/metadata.py): creator, document_number, organisation, archival_year,
keywords (separated by ；/;/,/、), description, ..., level (密级), retention (保管期限); Chinese headers are read
too (件号 档号 题名 日期 页数 责任者 文号 机构 保管期限 归档年度 密级 关键词 备注). Any other column may name a custom
field of the batch's series (checked when the batch is created); columns that name none are ignored.

Line endings may be \n, \r\n or a bare \r (old Mac exports).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from archive.catalogue.metadata import (
    DESCRIPTIVE_FIELDS,
    canonical_column,
    check_text,
    check_year,
    parse_keywords,
    parse_level,
)
from archive.dates import PartialDate
from archive.errors import InvalidInput, ParamValue, Reason

KNOWN_COLUMNS = ("item", "reference_code", "title", "date", "pages", "file")
DESCRIPTIVE_COLUMNS = (*DESCRIPTIVE_FIELDS, "level", "retention")
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
    descriptive: dict[str, Any] = dataclasses.field(default_factory=dict)  # checked metadata (DESCRIPTIVE_COLUMNS)
    extra: dict[str, str] = dataclasses.field(default_factory=dict)  # other columns by header: custom fields?


class _Problem(Exception):
    """What is wrong with one row: the English, and the reason (of InvalidInput) and params that say it; its
    `count` is 1 until the manifest is refused, which says the first problem with the count of all."""

    def __init__(self, english: str, reason: Reason, params: dict[str, ParamValue]) -> None:
        super().__init__(english)
        self.english, self.reason, self.params = english, reason, params


def parse_manifest(text: str, *, name: str = "manifest") -> list[ManifestRow]:
    """Parse and check the whole CSV file; every problem is reported with its row number at once (the reason and
    params name the first, with the count of all)."""
    # newline=None: \r\n and a bare \r read as \n, so old Mac files and stray CRs cannot break a row apart.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    header = next(_records(reader, name, first=0), (1, []))[1]
    return parse_table(header, _records(reader, name, first=1), name=name)


def parse_table(header: list[str], records: Iterable[tuple[int, list[str]]], *, name: str) -> list[ManifestRow]:
    """A manifest given as a header and (row number, cells) rows: a CSV file's, or a workbook's first sheet."""
    if not any(cell.strip() for cell in header):
        known = ", ".join(KNOWN_COLUMNS)
        message = f"{name}: empty; the first row must name the columns ({known})"
        raise InvalidInput(message, InvalidInput.MANIFEST_EMPTY, {"columns": known})
    columns: dict[str, int] = {}
    for position, cell in enumerate(header):
        if cell.strip():
            columns.setdefault(canonical_column(cell), position)
    if "item" not in columns and "reference_code" not in columns:
        found = ", ".join(cell.strip() for cell in header if cell.strip())
        message = f"{name}: needs an `item` (件号) or a `reference_code` (档号) column; found {found}"
        raise InvalidInput(message, InvalidInput.MANIFEST_NO_KEY_COLUMN, {"found": found})
    extra = {cell.strip(): at for at, cell in enumerate(header) if cell.strip() and _extra(canonical_column(cell))}
    rows: list[ManifestRow] = []
    problems: list[_Problem] = []
    for number, cells in records:
        if number > MAX_ROWS:
            message = f"{name}: more than {MAX_ROWS} rows; split the batch"
            raise InvalidInput(message, InvalidInput.MANIFEST_TOO_MANY_ROWS, {"limit": MAX_ROWS})
        values = {key: _cell(cells, at) for key, at in columns.items()}
        if not any(values.values()):
            continue
        try:
            row = _row(number, values)
            others = {header_name: _cell(cells, at) for header_name, at in extra.items() if _cell(cells, at)}
            rows.append(dataclasses.replace(row, extra=others))
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


def _extra(column: str) -> bool:
    """A column that is neither the manifest's own nor descriptive metadata: a custom field, maybe."""
    return column not in KNOWN_COLUMNS and column not in DESCRIPTIVE_COLUMNS and column != "remarks"


def _cell(cells: list[str], at: int) -> str:
    return cells[at].strip() if at < len(cells) else ""


def _records(reader: Iterator[list[str]], name: str, *, first: int) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells); a row the CSV reader cannot parse is refused with its number."""
    number = first
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
        if first == 0:
            return


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
        descriptive=_descriptive(number, values),
        row_number=number,
        item_number=int(item) if item else None,
        reference_code=reference,
        title=values.get("title", ""),
        date=date,
        expected_pages=int(pages) if pages else None,
        source=values.get("file") or None,
    )


def _descriptive(number: int, values: dict[str, str]) -> dict[str, Any]:
    """The row's descriptive metadata, checked: text fields, 归档年度, 关键词, 密级 and 保管期限 as given."""
    found: dict[str, Any] = {}
    for column in DESCRIPTIVE_COLUMNS:
        text = values.get(column, "")
        if not text:
            continue
        try:
            if column == "archival_year":
                found[column] = check_year(text)
            elif column == "keywords":
                found[column] = parse_keywords(text)
            elif column == "level":
                found[column] = parse_level(text).label
            elif column == "retention":
                found[column] = text
            else:
                found[column] = check_text(column, text)
        except InvalidInput as exc:
            params: dict[str, ParamValue] = {"count": 1, "row": number, "field": column, "value": text[:100]}
            raise _Problem(f"row {number}: {exc.message}", InvalidInput.MANIFEST_ROW_FIELD, params) from None
    return found


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
