"""Catalogues (目录) exported as Excel workbooks: one row per record the caller may see (the visibility policy is
part of the query), the columns of a 卷内/归档文件目录, Chinese headers by default; an audit event per export.

The workbook reads back as a batch manifest (api/ingest/manifest_rows.py): its headers are the manifest's."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.views.metadata import CatalogueExportView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.fields import series_definitions
from archive.catalogue.metadata import FieldDefinition, level_name_zh
from archive.dates import stored_text
from archive.durable import fsync_dir
from archive.errors import InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import Batch, Document, Fonds, SeriesField
from archive.permissions import Action, authorize
from archive.values import AccessLevel
from archive.visibility import document_scope, document_visible
from ingest.workbooks import write_workbook

MAX_RECORDS = 100_000  # a manifest's limit: the workbook must read back
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# (manifest column, Chinese header, English header)
COLUMNS = (
    ("reference_code", "档号", "Reference code"),
    ("title", "题名", "Title"),
    ("creator", "责任者", "Creator"),
    ("document_number", "文号", "Document number"),
    ("date", "日期", "Date"),
    ("pages", "页数", "Pages"),
    ("level", "密级", "Level"),
    ("retention", "保管期限", "Retention"),
    ("archival_year", "归档年度", "Archival year"),
    ("organisation", "机构", "Organisation"),
    ("keywords", "关键词", "Keywords"),
)
REMARKS = ("remarks", "备注", "Remarks")
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class CatalogueWorkbook:
    content: bytes
    filename: str
    view: CatalogueExportView
    media_type: str = MEDIA_TYPE


def export_catalogue(
    context: Context,
    principal: Principal,
    *,
    fonds: str,
    series: str | None = None,
    batch_id: int | None = None,
    year: int | None = None,
    lang: str = "zh",
    client: str | None = None,
) -> CatalogueWorkbook:
    """The 目录 of a fonds (optionally one series, batch or archival year): only records the caller may see."""
    authorize(principal.roles, Action.READ_RECORD)
    if lang not in LANGUAGES:
        raise InvalidInput(f"headers in zh or en, not {lang!r}")
    with context.db.write() as session:
        fonds_row = session.scalars(select(Fonds).where(Fonds.code == fonds)).first()
        if fonds_row is None:
            raise NotFound(f"fonds {fonds!r} does not exist; `dangan batch list` shows the fonds in use")
        dialect = session.get_bind().dialect.name
        query = (
            select(Document)
            .outerjoin(Batch, Batch.id == Document.batch_id)
            .where(Document.fonds_id == fonds_row.id, document_scope(principal, dialect))
            .options(selectinload(Document.batch))
            .order_by(Document.reference_code)
            .limit(MAX_RECORDS + 1)
        )
        if series is not None:
            query = query.where(Batch.series == series)
        if batch_id is not None:
            query = query.where(Document.batch_id == batch_id)
        if year is not None:
            query = query.where(Document.archival_year == year)
        documents = [d for d in session.scalars(query) if document_visible(principal, d)]
        if len(documents) > MAX_RECORDS:
            raise InvalidInput(f"more than {MAX_RECORDS} records; narrow the catalogue by --series, --batch or --year")
        definitions = _definitions(session, fonds_row.id, series)
        header = [column[1 if lang == "zh" else 2] for column in COLUMNS]
        header += [_custom_header(d, lang) for d in definitions]
        header.append(REMARKS[1 if lang == "zh" else 2])
        rows = [_row(document, definitions, lang) for document in documents]
        content = write_workbook("目录" if lang == "zh" else "Catalogue", header, rows)
        scope = {"fonds": fonds, "series": series, "batch": batch_id, "year": year}
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.EXPORT_CATALOGUE,
            target=f"catalogue:{fonds_row.code}",
            client=client,
            details={"scope": {k: v for k, v in scope.items() if v is not None}, "records": len(rows), "lang": lang},
        )
    parts = [fonds_row.code, series, f"batch-{batch_id}" if batch_id else None, str(year) if year else None]
    filename = "-".join(p for p in parts if p) + "-catalogue.xlsx"
    return CatalogueWorkbook(content, filename, CatalogueExportView(records=len(rows), columns=header))


def _definitions(session: Session, fonds_id: int, series: str | None) -> list[FieldDefinition]:
    """The custom columns: the series' fields, or (no series) every field defined in the fonds, once by name."""
    if series is not None:
        return series_definitions(session, fonds_id, series)
    rows = session.scalars(select(SeriesField).where(SeriesField.fonds_id == fonds_id).order_by(SeriesField.id))
    seen: dict[str, FieldDefinition] = {}
    for row in rows:
        seen.setdefault(row.name, FieldDefinition(row.name, row.label_zh, row.label_en, row.kind))
    return list(seen.values())


def _custom_header(definition: FieldDefinition, lang: str) -> str:
    return (definition.label_zh if lang == "zh" else definition.label_en) or definition.name


def _row(document: Document, definitions: list[FieldDefinition], lang: str) -> list[str | int | None]:
    level = ""
    if document.access_level is not None:
        level = level_name_zh(document.access_level) if lang == "zh" else AccessLevel(document.access_level).label
    retention = document.retention or (document.batch.retention if document.batch else "")
    custom = document.custom_fields or {}
    return [
        document.reference_code,
        document.title,
        document.creator,
        document.document_number,
        stored_text(document.date, document.date_precision),
        document.page_count,
        level,
        retention,
        document.archival_year,
        document.organisation,
        "；".join(document.keywords or []),
        *(custom.get(d.name) for d in definitions),
        None,
    ]


def save_workbook(workbook: CatalogueWorkbook, target: Path) -> CatalogueExportView:
    """Write the workbook to `target` atomically (temp file, fsync, rename): a crash leaves no half a file."""
    target = target.expanduser().resolve()
    if target.is_dir():
        target = target / workbook.filename
    if target.suffix.lower() != ".xlsx":
        raise InvalidInput(f"{target.name}: a catalogue is written as an .xlsx workbook; name the file *.xlsx")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(workbook.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        fsync_dir(target.parent)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return workbook.view.model_copy(update={"path": str(target)})
