"""Catalogue routes: the Excel 目录 of the records the caller may see, and custom fields per series."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from api.http.common import Caller, IdFilter, Strict, client_of, context_of
from api.http.headers import FILE_HEADERS
from api.http.openapi import error_responses
from api.records.catalogue_excel import MEDIA_TYPE, export_catalogue
from api.records.series_fields import define_field, list_fields, remove_field
from api.views.metadata import SeriesFieldList, SeriesFieldView
from archive.catalogue.metadata import FieldDefinition

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
WORKBOOK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The 目录 as an Excel workbook (attachment)",
        "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
SeriesParam = Annotated[str | None, Query(max_length=64, description="A series (类别); none: the whole fonds")]


class SeriesFieldIn(Strict):
    name: str = Field(max_length=64, description="snake_case, e.g. project_code")
    series: str | None = Field(default=None, max_length=64, description="None: every series of the fonds")
    label_zh: str = Field(default="", max_length=128)
    label_en: str = Field(default="", max_length=128)
    kind: Literal["text", "integer", "date", "choice"] = "text"
    choices: list[Annotated[str, Field(max_length=255)]] = Field(default_factory=list, max_length=200)
    required: bool = False


@router.get("/catalogue.xlsx", response_class=Response, responses=WORKBOOK | error_responses(403, 404))
def catalogue_workbook(
    request: Request,
    caller: Caller,
    fonds: Annotated[str, Query(max_length=64, description="The fonds code (全宗号)")],
    series: SeriesParam = None,
    batch: IdFilter = None,
    year: Annotated[int | None, Query(ge=1000, le=9999, description="Only this 归档年度")] = None,
    lang: Annotated[Literal["zh", "en"], Query(description="Column headers")] = "zh",
) -> Response:
    """档号, 题名, 责任者, 文号, 日期, 页数, 密级, 保管期限, 归档年度, 机构, 关键词, custom fields, 备注 of every record
    of the fonds the caller may see; it reads back as a batch manifest."""
    workbook = export_catalogue(
        context_of(request),
        caller,
        fonds=fonds,
        series=series,
        batch_id=batch,
        year=year,
        lang=lang,
        client=client_of(request),
    )
    disposition = f"attachment; filename*=UTF-8''{quote(workbook.filename)}"
    return Response(
        workbook.content,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": disposition, "X-Dangan-Records": str(workbook.view.records)} | FILE_HEADERS,
    )


@router.get("/fonds/{code}/fields", responses=error_responses(403, 404))
def series_fields(request: Request, caller: Caller, code: str, series: SeriesParam = None) -> SeriesFieldList:
    """The custom fields of a fonds, or of one series (its own and the fonds-wide ones)."""
    return list_fields(context_of(request), caller, fonds=code, series=series)


@router.post("/fonds/{code}/fields", status_code=201, responses=error_responses(403, 404, 409))
def add_series_field(request: Request, caller: Caller, code: str, body: SeriesFieldIn) -> SeriesFieldView:
    """Define a custom field (archivists): record edits and manifests of the series are checked against it."""
    definition = FieldDefinition(body.name, body.label_zh, body.label_en, body.kind, tuple(body.choices), body.required)
    return define_field(
        context_of(request), caller, fonds=code, series=body.series, definition=definition, client=client_of(request)
    )


@router.delete("/fonds/{code}/fields/{field}", responses=error_responses(403, 404))
def delete_series_field(
    request: Request, caller: Caller, code: str, field: str, series: SeriesParam = None
) -> SeriesFieldView:
    """Remove a custom field's definition (archivists); records keep their values."""
    return remove_field(context_of(request), caller, fonds=code, series=series, name=field, client=client_of(request))
