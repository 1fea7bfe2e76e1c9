"""`dangan catalogue export` (an Excel 目录 of the records you may see) and `dangan series field ...` (custom
descriptive fields per series)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.commands import MAX_ID, JsonOption, acting_user, open_context
from api.cli.output import emit_json, say

app = typer.Typer(no_args_is_help=True, help="Catalogues (目录) as Excel workbooks.")
series = typer.Typer(no_args_is_help=True, help="Series-level settings: custom descriptive fields.")
fields = typer.Typer(no_args_is_help=True, help="Custom descriptive fields of a series (defined by archivists).")
series.add_typer(fields, name="field")
FondsOption = Annotated[str, typer.Option(help="Fonds code (全宗号).")]
SeriesOption = Annotated[str | None, typer.Option(help="Series (类别); none: every series of the fonds.")]


@app.command("export")
def export(
    ctx: typer.Context,
    fonds: FondsOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx file to write (or a folder).")],
    series_code: Annotated[str | None, typer.Option("--series", help="Only this series.")] = None,
    batch: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only this batch.")] = None,
    year: Annotated[int | None, typer.Option(min=1000, max=9999, help="Only this 归档年度.")] = None,
    lang: Annotated[str, typer.Option(help="Column headers: zh (default) or en.")] = "zh",
    json_out: JsonOption = False,
) -> None:
    """Write the 目录 (档号 题名 责任者 文号 日期 页数 密级 保管期限 归档年度 机构 关键词, custom fields, 备注) of
    the records you may see; it reads back as a batch manifest (`dangan batch create --manifest FILE.xlsx`)."""
    from api.records.catalogue_excel import export_catalogue, save_workbook

    context = open_context(ctx)
    workbook = export_catalogue(
        context, acting_user(ctx), fonds=fonds, series=series_code, batch_id=batch, year=year, lang=lang
    )
    view = save_workbook(workbook, output)
    if json_out:
        emit_json(view)
    else:
        say(f"wrote {view.records} record(s) to {view.path}")


@fields.command("add")
def add_field(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="snake_case name, e.g. project_code (a manifest column may use it).")],
    fonds: FondsOption,
    series_code: Annotated[str | None, typer.Option("--series", help="The series; none: every series.")] = None,
    label_zh: Annotated[str, typer.Option(help="Chinese label (a manifest column may use it).")] = "",
    label_en: Annotated[str, typer.Option(help="English label.")] = "",
    kind: Annotated[str, typer.Option("--type", help="text, integer, date or choice.")] = "text",
    choice: Annotated[list[str] | None, typer.Option(help="An allowed value of a choice field (repeat).")] = None,
    required: Annotated[bool, typer.Option(help="Every record of the series must have it.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Define a custom field: record edits and manifests are then checked against it."""
    from api.records.series_fields import define_field
    from archive.catalogue.metadata import FieldDefinition

    definition = FieldDefinition(name, label_zh, label_en, kind, tuple(choice or ()), required)
    view = define_field(open_context(ctx), acting_user(ctx), fonds=fonds, series=series_code, definition=definition)
    if json_out:
        emit_json(view)
    else:
        say(f"series {view.series or '(all)'} of fonds {view.fonds} has a custom field {view.name} ({view.kind})")


@fields.command("remove")
def remove_field(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The field's name.")],
    fonds: FondsOption,
    series_code: Annotated[str | None, typer.Option("--series", help="The series it was defined for.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Remove a custom field's definition (records keep their values)."""
    from api.records.series_fields import remove_field as remove

    view = remove(open_context(ctx), acting_user(ctx), fonds=fonds, series=series_code, name=name)
    if json_out:
        emit_json(view)
    else:
        say(f"removed custom field {view.name} of series {view.series or '(all)'} of fonds {view.fonds}")


@fields.command("list")
def list_fields(
    ctx: typer.Context, fonds: FondsOption, series_code: SeriesOption = None, json_out: JsonOption = False
) -> None:
    """The custom fields of a fonds, or of one series (its own and the fonds-wide ones)."""
    from api.records.series_fields import list_fields as listed

    view = listed(open_context(ctx), acting_user(ctx), fonds=fonds, series=series_code)
    if json_out:
        emit_json(view)
        return
    if not view.fields:
        say(f"no custom fields defined for fonds {view.fonds}")
    for item in view.fields:
        extra = f" ({', '.join(item.choices)})" if item.choices else ""
        mandatory = ", required" if item.required else ""
        say(f"{item.series or '*'}  {item.name}  {item.label_zh} / {item.label_en}  {item.kind}{extra}{mandatory}")
