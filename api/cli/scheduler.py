"""`dangan scheduler`: the preservation duties on their intervals (Settings.schedule), and the compliance report.

`dangan scheduler` runs in the foreground until stopped (Ctrl-C, SIGTERM from systemd); `--once` runs what is due
now and exits (for a cron line or a systemd timer instead); `--duty NAME` runs one duty now, due or not."""

from __future__ import annotations

import enum
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, say
from api.cli.tables import local_time, print_table
from archive.errors import ExitCode
from archive.schedule import Duty

if TYPE_CHECKING:
    from api.views.preservation import ScheduleRunView


class Lang(enum.StrEnum):
    ZH = "zh-CN"
    EN = "en"


app = typer.Typer(
    help="Scheduled duties: backups, sample verification, drills, checkpoints, compliance report, retention due list."
)


def _said(run: ScheduleRunView) -> None:
    facts = ", ".join(f"{k} {v}" for k, v in run.summary.items() if not isinstance(v, dict | list))
    say(f"{local_time(run.started_at.isoformat())}  {run.duty}: {run.outcome}" + (f" ({facts})" if facts else ""))


@app.callback(invoke_without_command=True)
def scheduler(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    duty: Annotated[Duty | None, typer.Option(help="Run this duty now, due or not, then exit.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Run the scheduled duties (as the system, each with only its use case's role); every run is logged."""
    if ctx.invoked_subcommand is not None:
        return
    from api.runners.scheduler import Scheduler

    context, actor = open_context(ctx), acting_user(ctx)
    service = Scheduler(context)
    if once or duty is not None:
        runs = service.run_due(actor, only=duty)
        if json_out:
            emit_json(runs)
        else:
            for run in runs:
                _said(run)
            if not runs:
                say("nothing is due")
        if any(run.outcome == "failed" for run in runs):
            raise typer.Exit(int(ExitCode.INTEGRITY_FAILURE))
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    say(f"scheduler running; every {context.settings.schedule.tick_seconds:g} s it runs what is due (Ctrl-C stops)")
    service.loop(actor, stop, on_run=_said)
    say("scheduler stopped")


@app.command()
def status(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Each duty's interval, last run and next run, then the latest runs."""
    from api.runners.scheduler import Scheduler

    view = Scheduler(open_context(ctx)).view(acting_user(ctx))
    if json_out:
        emit_json(view)
        return
    rows = [
        [
            p.duty,
            f"{p.every_seconds / 3600:g} h" if p.every_seconds else "off",
            local_time(p.last_started.isoformat()) if p.last_started else "never",
            local_time(p.next_due.isoformat())
            if p.next_due
            else ("off" if not p.every_seconds else "at the next tick"),
        ]
        for p in view.plans
    ]
    print_table(["duty", "every", "last run", "next"], rows)
    for run in view.runs:
        _said(run)


@app.command()
def report(
    ctx: typer.Context,
    days: Annotated[float, typer.Option(min=1, max=3660, help="The period, ending now.")] = 91.0,
    kept: Annotated[
        str | None, typer.Option("--kept", help="Show a kept report (its stamp, from `reports`) instead of a new one.")
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report as HTML here.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="The HTML report's language.")] = Lang.ZH,
    json_out: JsonOption = False,
) -> None:
    """The compliance report now (security auditor): log verification, alerts, fixity, DA/T 70, backups, drills,
    duties, records past their retention period; exit 0 clean, 10 warnings, 9 errors."""
    from api.runners.compliance import compliance_report, kept_report
    from api.views.compliance_html import render_compliance

    context = open_context(ctx)
    view = (
        kept_report(context, acting_user(ctx), kept)
        if kept
        else compliance_report(context, acting_user(ctx), days=days)
    )
    if html is not None:
        html.write_text(render_compliance(view, lang=lang.value), encoding="utf-8")
    if json_out:
        emit_json(view)
    else:
        period = f"{local_time(view.since.isoformat())} – {local_time(view.until.isoformat())}"
        say(f"compliance report {period}: {view.grade.value}")
        say(f"  access log: {'verifies' if view.audit_log['ok'] else 'DOES NOT VERIFY'} ({view.audit_log['grade']})")
        say(f"  alerts {sum(view.alerts.values())}, verifications {view.verifications}, drills {view.drills}")
        say(f"  backups {view.backups}, scheduled duties {view.scheduled}, DA/T 70 checks {view.dat70}")
        say(f"  past their retention period: {view.retention}")
        for finding in view.findings:
            say(f"  - {finding}")
        say(f"  kept as {view.key}" + (f"; HTML written to {html}" if html else ""))
    raise typer.Exit(int(view.exit_code))


@app.command()
def reports(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """The kept compliance reports, newest first (security auditor): `report --kept STAMP` shows one."""
    from api.runners.compliance import kept_reports

    stamps = kept_reports(open_context(ctx), acting_user(ctx))
    if json_out:
        emit_json({"reports": stamps})
        return
    for stamp in stamps:
        say(stamp)
    if not stamps:
        say("no compliance report kept yet: `dangan scheduler report` makes one")
