"""Custom fields per series in the catalogue, and descriptive metadata put onto a record (filing, edits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.catalogue.metadata import (
    TEXT_FIELDS,
    FieldDefinition,
    check_custom,
    check_text,
    check_year,
    missing_required,
    parse_keywords,
)
from archive.errors import InvalidInput
from archive.models import Document, SeriesField


def definition_of(row: SeriesField) -> FieldDefinition:
    return FieldDefinition(row.name, row.label_zh, row.label_en, row.kind, tuple(row.choices), row.required)


def series_definitions(session: Session, fonds_id: int, series: str | None) -> list[FieldDefinition]:
    """The custom fields of a series: its own and the fonds-wide ones (series "")."""
    rows = session.scalars(
        select(SeriesField)
        .where(SeriesField.fonds_id == fonds_id, or_(SeriesField.series == "", SeriesField.series == (series or "")))
        .order_by(SeriesField.id)
    )
    return [definition_of(row) for row in rows]


def custom_from_columns(extra: Mapping[str, str], definitions: list[FieldDefinition]) -> dict[str, str]:
    """A manifest's other columns that name a custom field (by name or a label): {field name: value}."""
    by_header = {header: d.name for d in definitions for header in d.headers()}
    return {by_header[header]: value for header, value in extra.items() if header in by_header}


def check_required(values: Mapping[str, object], definitions: list[FieldDefinition]) -> None:
    missing = missing_required(values, definitions)
    if missing:
        raise InvalidInput(
            f"custom field {missing[0]} is required for this series", InvalidInput.CUSTOM_FIELD_REQUIRED,
            {"field": missing[0]},
        )  # fmt: skip


def descriptive_of(document: Document) -> dict[str, Any]:
    """A record's descriptive metadata as plain values (for audit details and history)."""
    found: dict[str, Any] = {name: getattr(document, name) for name in TEXT_FIELDS}
    found["archival_year"] = document.archival_year
    found["keywords"] = list(document.keywords or [])
    found["custom_fields"] = dict(document.custom_fields or {})
    return found


def apply_descriptive(
    document: Document, changes: Mapping[str, Any], definitions: list[FieldDefinition], *, where: str
) -> None:
    """Set the given fields (text fields: "" clears; archival_year; keywords as text or a list; custom_fields
    merges into the record's custom values (None or "" removes one), checked against the series' definitions)."""
    for name, value in changes.items():
        if name in TEXT_FIELDS:
            checked = check_text(name, str(value)) if value is not None else None
            if name == "dc_type":
                checked = checked or "Text"
            setattr(document, name, checked)
        elif name == "archival_year":
            document.archival_year = check_year(value)
        elif name == "keywords":
            document.keywords = parse_keywords(value)
        elif name == "custom_fields":
            merged = {**(document.custom_fields or {}), **value}  # a None or "" value removes its field
            custom = check_custom(merged, definitions, where=where)
            check_required(custom, definitions)
            document.custom_fields = custom
        else:
            raise InvalidInput(f"{name!r} is not a descriptive field", InvalidInput.METADATA_VALUE,
                               {"field": name, "value": ""})  # fmt: skip
