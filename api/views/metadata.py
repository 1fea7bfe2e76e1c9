"""Typed results of the metadata use cases (api/records/series_fields.py, catalogue_excel.py)."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View


class SeriesFieldView(View):
    """A custom descriptive field of a series (series "": every series of the fonds)."""

    fonds: str
    series: str
    name: str = Field(description="Its name in manifests (or a label as the column header), the API and the CLI")
    label_zh: str
    label_en: str
    kind: str = Field(description="text, integer, date or choice")
    choices: list[str]
    required: bool


class SeriesFieldList(View):
    fonds: str
    series: str | None
    fields: list[SeriesFieldView]


class CatalogueExportView(View):
    """An Excel 目录 written: how many records it lists (only those the caller may see)."""

    path: str | None = Field(default=None, description="Where the CLI wrote it; null over HTTP")
    records: int
    columns: list[str]
