"""Custom descriptive fields per series: the archivist defines them (Action.DEFINE_FIELDS); edits and manifests
are checked against them (archive/catalogue/fields.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.views.metadata import SeriesFieldList, SeriesFieldView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.metadata import FieldDefinition, check_definition
from archive.errors import Conflict, NotFound
from archive.events import AuditAction
from archive.models import Fonds, SeriesField
from archive.permissions import Action, authorize


def _view(fonds: str, row: SeriesField) -> SeriesFieldView:
    return SeriesFieldView(
        fonds=fonds,
        series=row.series,
        name=row.name,
        label_zh=row.label_zh,
        label_en=row.label_en,
        kind=row.kind,
        choices=list(row.choices),
        required=row.required,
    )


def _fonds(session: Session, code: str) -> Fonds:
    fonds = session.scalars(select(Fonds).where(Fonds.code == code)).first()
    if fonds is None:
        raise NotFound(f"fonds {code!r} does not exist; `dangan batch list` shows the fonds in use")
    return fonds


def define_field(
    context: Context,
    principal: Principal,
    *,
    fonds: str,
    series: str | None,
    definition: FieldDefinition,
    client: str | None = None,
) -> SeriesFieldView:
    """Add a custom field to a series of a fonds (no series: every series of the fonds)."""
    authorize(principal.roles, Action.DEFINE_FIELDS)
    checked = check_definition(definition)
    with context.db.write() as session:
        fonds_row = _fonds(session, fonds)
        series_code = (series or "").strip()
        taken = session.scalars(
            select(SeriesField).where(
                SeriesField.fonds_id == fonds_row.id,
                SeriesField.name == checked.name,
                SeriesField.series.in_(["", series_code]),
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"series {taken.series or '(all)'} of fonds {fonds} already has a custom field {checked.name}",
                Conflict.CUSTOM_FIELD_EXISTS,
                {"field": checked.name, "series": taken.series or "*"},
            )
        row = SeriesField(
            fonds_id=fonds_row.id,
            series=series_code,
            name=checked.name,
            label_zh=checked.label_zh,
            label_en=checked.label_en,
            kind=checked.kind,
            choices=list(checked.choices),
            required=checked.required,
            created_by=principal.username,
        )
        session.add(row)
        session.flush()
        view = _view(fonds_row.code, row)
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.SERIES_FIELD_DEFINE,
            target=f"fonds:{fonds_row.code}/series:{series_code or '*'}",
            client=client,
            details={"added": view.model_dump()},
        )
    return view


def remove_field(
    context: Context, principal: Principal, *, fonds: str, series: str | None, name: str, client: str | None = None
) -> SeriesFieldView:
    """Remove a custom field's definition; records keep the values they have (shown, no longer checked)."""
    authorize(principal.roles, Action.DEFINE_FIELDS)
    with context.db.write() as session:
        fonds_row = _fonds(session, fonds)
        row = session.scalars(
            select(SeriesField).where(
                SeriesField.fonds_id == fonds_row.id,
                SeriesField.series == (series or "").strip(),
                SeriesField.name == name,
            )
        ).first()
        if row is None:
            raise NotFound(f"series {series or '(all)'} of fonds {fonds} has no custom field {name!r}")
        view = _view(fonds_row.code, row)
        session.delete(row)
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.SERIES_FIELD_DEFINE,
            target=f"fonds:{fonds_row.code}/series:{row.series or '*'}",
            client=client,
            details={"removed": view.model_dump()},
        )
    return view


def list_fields(context: Context, principal: Principal, *, fonds: str, series: str | None) -> SeriesFieldList:
    """The custom fields of a fonds (all its series), or of one series (its own and the fonds-wide ones)."""
    authorize(principal.roles, Action.READ_RECORD)
    with context.db.read() as session:
        fonds_row = _fonds(session, fonds)
        query = select(SeriesField).where(SeriesField.fonds_id == fonds_row.id)
        if series is not None:
            query = query.where(SeriesField.series.in_(["", series]))
        rows = session.scalars(query.order_by(SeriesField.series, SeriesField.id))
        return SeriesFieldList(fonds=fonds_row.code, series=series, fields=[_view(fonds_row.code, r) for r in rows])
