"""`dangan check dat70`: the DA/T 70 four-property checks of a batch or a document, now (stored with its audit
event), or a stored run (`--run ID`, those made at filing too) or the list of them. The report is printed (or
`--json`), optionally written as HTML (`--html FILE`, `--lang zh-CN|en`), and the command exits with its grade's
code like `dangan verify`: 0 every check passed, 10 warnings only (a check not run counts), 9 errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import MAX_ID, JsonOption, open_as
from api.cli.output import emit_json, say
from archive.errors import ExitCode, InvalidInput
from archive.reports import Grade

if TYPE_CHECKING:
    from api.views.dat70 import Dat70ReportView

app = typer.Typer(
    help="Compliance checks of records: `dangan check dat70` (DA/T 70-2018 four properties).", no_args_is_help=True
)

LANGS = ("zh-CN", "en")
VERDICTS = {
    Grade.CLEAN: "clean: every check passed",
    Grade.WARNINGS: "WARNINGS: nothing failed; read the warnings and the checks not run",
    Grade.ERRORS: "ERRORS: some records fail the four-property checks; see the findings",
}


@app.command("dat70")
def dat70(
    ctx: typer.Context,
    batch: Annotated[int | None, typer.Option("--batch", min=1, max=MAX_ID, help="Check this batch.")] = None,
    document: Annotated[int | None, typer.Option("--document", min=1, max=MAX_ID, help="Check this document.")] = None,
    run: Annotated[int | None, typer.Option("--run", min=1, max=MAX_ID, help="Show this stored run.")] = None,
    list_runs: Annotated[bool, typer.Option("--list", help="List the stored runs (of --batch/--document).")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report as HTML here.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="The HTML report's language: zh-CN or en.")] = "zh-CN",
    json_out: JsonOption = False,
) -> None:
    """DA/T 70-2018 four-property checks (真实性 完整性 可用性 安全性) of --batch ID or --document ID;
    exit 0 when every check passed, 10 with warnings only, 9 on errors."""
    from api.preservation.dat70 import Dat70Service
    from api.views.dat70_html import render_dat70

    if lang not in LANGS:
        raise InvalidInput(f"--lang must be one of {', '.join(LANGS)}, got {lang!r}")
    context, actor = open_as(ctx)
    service = Dat70Service(context)
    if list_runs:
        listed = service.runs(actor, batch_id=batch, document_id=document)
        if json_out:
            emit_json(listed)
        for row in [] if json_out else listed.runs:
            say(
                f"{row.id:5}  {row.started_at[:19]}  {row.scope} {row.subject_id}  {row.trigger:7} {row.grade:8} "
                f"by {row.actor}, {row.seconds} s"
            )
        return
    report = service.run(actor, run) if run is not None else service.check(actor, batch_id=batch, document_id=document)
    if html is not None:
        html.write_text(render_dat70(report, lang=lang), encoding="utf-8")
    if json_out:
        emit_json(report)
    else:
        _print(report, html)
    raise typer.Exit(ExitCode(report.exit_code))


def _print(report: Dat70ReportView, html: Path | None) -> None:
    say(
        f"run {report.run_id}: DA/T 70 checks of {report.scope} {report.subject_id} ({report.trigger}, by "
        f"{report.actor}): {report.documents} item(s), {report.objects} object(s) in {report.seconds} s"
    )
    for prop, result in report.properties.items():
        say(f"  {prop:13} {result}")
    for check in report.checks:
        say(f"  {check.result.upper():8} {check.code:22} {check.detail}")
    for finding in report.findings:
        about = f" {finding.subject}:" if finding.subject else ""
        say(f"    {finding.severity.value.upper():7} {finding.code:22}{about} {finding.message}")
    if html is not None:
        say(f"HTML report written to {html}")
    say(VERDICTS[report.grade])
