"""A batch's manifest as received (CSV text, or an .xlsx 目录's first sheet) made into manifest rows, and those
rows into catalogue rows with their descriptive metadata and the series' custom fields checked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.catalogue.fields import check_required, custom_from_columns, series_definitions
from archive.catalogue.manifest import ManifestRow, parse_manifest, parse_table
from archive.catalogue.metadata import canonical_column, check_custom
from archive.errors import InvalidInput
from archive.models import ManifestItem
from archive.preservation.retention import parse_retention
from ingest.workbooks import read_first_sheet

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(name: str | None, data: bytes | None) -> bool:
    return bool(data) and ((name or "").lower().endswith(WORKBOOK_SUFFIXES) or (data or b"")[:2] == b"PK")


def read_manifest(*, text: str | None, data: bytes | None, name: str) -> list[ManifestRow]:
    """Rows of a CSV manifest (text, or bytes in UTF-8) or of an Excel workbook's first sheet (bytes)."""
    if data is not None and is_workbook(name, data):
        sheet = read_first_sheet(data, is_date_column=lambda header: canonical_column(header) == "date")
        return parse_table(sheet.header, sheet.rows, name=name)
    if data is not None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{name}: not UTF-8 text at byte {exc.start}; save the CSV as UTF-8, or send an .xlsx workbook"
            ) from exc
    return parse_manifest(text or "", name=name)


def manifest_items(
    session: Session, fonds_id: int, series: str | None, rows: list[ManifestRow], *, name: str
) -> list[ManifestItem]:
    """Catalogue rows of a new batch's manifest: retention codes and custom fields checked row by row."""
    definitions = series_definitions(session, fonds_id, series)
    items: list[ManifestItem] = []
    for row in rows:
        descriptive = dict(row.descriptive)
        try:
            if "retention" in descriptive:
                descriptive["retention"] = parse_retention(str(descriptive["retention"])).code
            custom = check_custom(
                custom_from_columns(row.extra, definitions), definitions, where=f"series {series or '(none)'}"
            )
            check_required(custom, definitions)
        except InvalidInput as exc:
            raise InvalidInput(f"{name}: row {row.row_number}: {exc.message}", exc.reason, exc.params) from None
        if custom:
            descriptive["custom_fields"] = custom
        items.append(
            ManifestItem(
                row_number=row.row_number,
                item_number=row.item_number,
                reference_code=row.reference_code,
                title=row.title,
                date=row.date.start() if row.date else None,
                date_precision=row.date.stored_precision if row.date else None,
                expected_pages=row.expected_pages,
                source=row.source,
                descriptive=descriptive,
            )
        )
    return items
