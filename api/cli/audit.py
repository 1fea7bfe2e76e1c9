"""`dangan audit ...`: the compliance officer's commands."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, say, stderr, stdout
from api.cli.tables import local_time, print_table
from archive.errors import ExitCode, InvalidInput
from archive.reports import Grade

if TYPE_CHECKING:
    from archive.audit.query import AuditFilter

app = typer.Typer(no_args_is_help=True, help="The access log: query, export, alerts, verification.")


def _when(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a date or time like 2026-11-01 or 2026-11-01T08:00+08:00") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _filter(
    user: str | None,
    document: int | None,
    action: str | None,
    outcome: str | None,
    since: str | None,
    until: str | None,
    client: str | None,
    limit: int,
) -> AuditFilter:
    from archive.audit.query import AuditFilter

    return AuditFilter(
        actor=user,
        document_id=document,
        action=action,
        outcome=outcome,
        since=_when(since),
        until=_when(until),
        client=client,
        limit=limit,
    )


User = Annotated[str | None, typer.Option("--user", help="Who acted.")]
Doc = Annotated[int | None, typer.Option("--document", min=1, max=2**63 - 1, help="Document id.")]
Action = Annotated[str | None, typer.Option(help="Action, or a prefix like 'document.*'.")]
Outcome = Annotated[str | None, typer.Option(help="success, failure, denied, ...")]
Since = Annotated[str | None, typer.Option(help="From (ISO date/time, UTC unless a zone is given).")]
Until = Annotated[str | None, typer.Option(help="Until, exclusive.")]
Client = Annotated[str | None, typer.Option(help="Client address.")]
Limit = Annotated[int, typer.Option(help="Most events.")]
NO_EVENTS = "no events match these filters"


@app.command("events")
def events(
    ctx: typer.Context,
    user: User = None,
    document: Doc = None,
    action: Action = None,
    outcome: Outcome = None,
    since: Since = None,
    until: Until = None,
    client: Client = None,
    limit: Limit = 1000,
    json_out: JsonOption = False,
) -> None:
    """Query the access log."""
    from api.access.auditing import AuditService

    result = AuditService(open_context(ctx)).events(
        acting_user(ctx), _filter(user, document, action, outcome, since, until, client, limit)
    )
    if json_out:
        emit_json(result)
        return
    if not result.events:
        say(NO_EVENTS)
        return
    print_table(
        ("ID", "AT", "ACTOR", "ACTION", "OUTCOME", "CLIENT", "TARGET"),
        [
            (row.id, local_time(row.at), row.actor, row.action, row.outcome, row.client or "-", row.target or "-")
            for row in result.events
        ],
    )
    more = " (the limit; narrow the filters or raise --limit for more)" if len(result.events) == limit else ""
    say(f"{len(result.events)} event(s){more}")


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
    user: User = None,
    document: Doc = None,
    action: Action = None,
    outcome: Outcome = None,
    since: Since = None,
    until: Until = None,
    client: Client = None,
    limit: Limit = 100_000,
) -> None:
    """Export matching events as CSV or JSON; the export itself is logged.

    The file goes to --output or standard output; what it holds is said on standard error (or, with --output,
    on standard output), so that a piped export stays a clean file."""
    from api.access.auditing import AuditService

    exported = AuditService(open_context(ctx)).export(
        acting_user(ctx), _filter(user, document, action, outcome, since, until, client, limit), fmt=fmt
    )
    if output is None:
        sys.stdout.write(exported.content)
    else:
        output.write_text(exported.content, encoding="utf-8")
    empty = "the CSV header only" if exported.format == "csv" else "an empty JSON list"
    held = f"{exported.count} event(s)" if exported.count else f"{NO_EVENTS}; the export is empty ({empty})"
    where = f" written to {output}" if output is not None else ""
    (stdout if output is not None else stderr).print(f"{held}{where}", highlight=False, markup=False)


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    timezone: Annotated[str, typer.Option(help="Office hours are judged in this zone.")] = "Asia/Shanghai",
    json_out: JsonOption = False,
) -> None:
    """Bursts of denied access, bulk downloads, off-hours access to confidential and above."""
    from api.access.auditing import AuditService
    from archive.audit.alerts import AlertRules

    result = AuditService(open_context(ctx)).alerts(
        acting_user(ctx), AlertRules(timezone=timezone), _filter(None, None, None, None, since, until, None, 1)
    )
    if json_out:
        emit_json(result)
        return
    if not result.alerts:
        say("no alerts in this period")
        return
    print_table(
        ("KIND", "ACTOR", "EVENTS", "FIRST", "LAST", "WHAT"),
        [
            (alert.kind, alert.actor, alert.count, local_time(alert.first_at), local_time(alert.last_at), alert.message)
            for alert in result.alerts
        ],
    )
    say(f"{len(result.alerts)} alert(s)")


@app.command("verify")
def verify(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Check the hash chain and the signed checkpoints; name the first bad event.

    Checkpoints deleted from the store are looked for on the backup targets, which keep a copy of each.
    Exit 0 when intact and sealed, 10 with warnings only (events no checkpoint covers yet), 9 if tampered."""
    from api.runners.log_check import verify_access_log

    report = verify_access_log(open_context(ctx), acting_user(ctx))
    if json_out:
        emit_json(report)
    else:
        verdict = "TAMPERED" if not report.ok else "intact" if report.grade is Grade.CLEAN else "intact, with warnings"
        say(f"checked {report.events_checked} event(s) against {report.checkpoints_checked} checkpoint(s): {verdict}")
        for finding in report.findings:
            event = f" event {finding.event_id}" if finding.event_id is not None else ""
            say(f"  {finding.severity.value.upper():7} {finding.kind:20}{event}: {finding.detail}")
    raise typer.Exit(ExitCode(report.exit_code))


@app.command("checkpoint")
def checkpoint(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Write a signed checkpoint of the log's current head to the object store now."""
    from api.access.auditing import AuditService

    result = AuditService(open_context(ctx)).checkpoint(acting_user(ctx))
    if json_out:
        emit_json(result)
    else:
        say(
            f"checkpoint {result.sequence}: event {result.last_event_id} ({result.event_count} events), "
            f"signed {local_time(result.created_at)}"
        )


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than_days: Annotated[int, typer.Option(help="Remove events older than this (at least 183).")],
    json_out: JsonOption = False,
) -> None:
    """Remove old events covered by a checkpoint; the prune is logged and the chain stays verifiable."""
    from api.access.auditing import AuditService

    result = AuditService(open_context(ctx)).prune(acting_user(ctx), older_than_days=older_than_days)
    if json_out:
        emit_json(result)
    else:
        say(f"pruned {result.pruned} event(s) older than {local_time(result.before)}")
