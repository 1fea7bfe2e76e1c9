"""Excel workbooks (.xlsx), the archivist's everyday catalogue (目录) format: read a sheet as a table of text cells,
write one. The only user of openpyxl; no database, no settings.

Reading is defensive: the file must be a ZIP of bounded expanded size (a zip bomb is refused before openpyxl
opens it), the sheet of bounded size; formulas are refused (their values are not in the file we trust), merged
header cells are refused, merged data cells give every cell of the range the top-left value; dates become
YYYY-MM-DD, whole numbers kept as floats (12.0) become "12", and a date column that holds Excel serial day
numbers (e.g. 43831) becomes dates.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archive.errors import UnsupportedFile

MAX_WORKBOOK_BYTES = 20 * 1024 * 1024  # the .xlsx as received
MAX_EXPANDED_BYTES = 200 * 1024 * 1024  # its parts unzipped
MAX_RATIO = 200  # expanded / compressed, per part: beyond it, a bomb
MAX_ROWS = 100_001  # a header and the manifest's 100,000 rows
MAX_COLUMNS = 200
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial day 1 is 1900-01-01 (Excel's leap-year quirk included)
SERIAL_DAYS = range(1, 2_958_466)  # up to 9999-12-31

Cell = str | int | float | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Sheet:
    """The first sheet as text: its header cells and its rows (row number as the sheet shows it, cells)."""

    title: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _refuse(problem: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"the workbook cannot be read as a catalogue: {problem}", UnsupportedFile.WORKBOOK_UNREADABLE,
        {"problem": problem},
    )  # fmt: skip


def check_container(data: bytes) -> None:
    """A ZIP whose parts expand to a bounded size: refused before any XML is parsed."""
    if len(data) > MAX_WORKBOOK_BYTES:
        raise _refuse(f"it is larger than {MAX_WORKBOOK_BYTES // (1024 * 1024)} MB; split the catalogue")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _refuse("it is not an .xlsx file (not a ZIP container); save it as Excel Workbook (.xlsx)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise _refuse(f"its ZIP container is damaged ({exc})") from exc
    expanded = sum(part.file_size for part in parts)
    if expanded > MAX_EXPANDED_BYTES or any(
        part.file_size > MAX_RATIO * max(part.compress_size, 1024) for part in parts
    ):
        raise _refuse("it expands to far more than its size (a zip bomb?); save it again from Excel")
    if not any(part.filename == "xl/workbook.xml" for part in parts):
        raise _refuse("it is a ZIP file but not an Excel workbook (no xl/workbook.xml)")


def read_first_sheet(data: bytes, *, is_date_column: Callable[[str], bool] = lambda _h: False) -> Sheet:
    """The workbook's first sheet as text. `is_date_column(header)` names the columns whose numbers are Excel
    serial dates."""
    import openpyxl  # imported when a workbook is read: `dangan --help` does not load it
    from openpyxl.utils.exceptions import InvalidFileException

    check_container(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=False)
    except (InvalidFileException, KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise _refuse(f"openpyxl could not open it ({exc.__class__.__name__}: {exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        if sheet.max_row > MAX_ROWS or sheet.max_column > MAX_COLUMNS:
            raise _refuse(
                f"its first sheet has {sheet.max_row} rows and {sheet.max_column} columns "
                f"(at most {MAX_ROWS} rows and {MAX_COLUMNS} columns); split it"
            )
        grid = [list(row) for row in sheet.iter_rows(values_only=False)]
        merged = [(r.min_row, r.min_col, r.max_row, r.max_col, str(r)) for r in sheet.merged_cells.ranges]
        title = str(sheet.title)
    finally:
        workbook.close()
    values: list[list[Cell]] = []
    for row in grid:
        cells: list[Cell] = []
        for cell in row:
            if cell.data_type == "f":
                raise _refuse(f"cell {cell.coordinate} holds a formula; copy the sheet and paste values only")
            cells.append(cell.value)
        values.append(cells)
    _fill_merged(values, merged)
    header_cells = values[0] if values else []
    header = [_text(value) for value in header_cells]
    dates = [is_date_column(h) for h in header]
    rows: list[tuple[int, list[str]]] = []
    for number, row_values in enumerate(values[1:], start=2):
        cells_text = [_text(v, serial_date=dates[i] if i < len(dates) else False) for i, v in enumerate(row_values)]
        rows.append((number, cells_text))
    return Sheet(title=title, header=header, rows=rows)


def _fill_merged(values: list[list[Cell]], merged: list[tuple[int, int, int, int, str]]) -> None:
    for min_row, min_col, max_row, max_col, name in merged:
        if min_row == 1:
            raise _refuse(f"header cells {name} are merged; unmerge them so that each column has its own name")
        top_left = values[min_row - 1][min_col - 1]
        for r in range(min_row - 1, min(max_row, len(values))):
            for c in range(min_col - 1, min(max_col, len(values[r]))):
                values[r][c] = top_left


def _text(value: Cell, *, serial_date: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        whole = isinstance(value, int) or value.is_integer()
        if serial_date and whole and int(value) in SERIAL_DAYS and int(value) > 9999:  # not a year like 2021
            return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
        return str(int(value)) if whole else repr(value)
    return str(value).strip()


def write_workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[str | int | None]]) -> bytes:
    """A one-sheet .xlsx: a bold, frozen header row, then the rows as text and whole numbers (never formulas: a
    cell that starts with = is written as text)."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([value for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, not a formula
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        width = max([len(str(name)) * 2, *(len(str(r[index - 1] or "")) for r in rows[:200])], default=8)
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = min(max(width, 8), 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
