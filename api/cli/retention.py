"""`dangan retention ...`: retention periods and disposition: what is due, appraisal, a record's own code,
legal holds, dispositions (propose, approve by another person, cancel, execute) and their certificates."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import IdArgument, JsonOption, acting_user, open_context
from api.cli.output import emit_json, say

if TYPE_CHECKING:
    from api.views.retention import DispositionView, HoldView

app = typer.Typer(no_args_is_help=True, help="Retention periods, appraisal, legal holds and disposition.")
certificate_app = typer.Typer(no_args_is_help=True, help="A disposition's certificate: print it, verify it.")
app.add_typer(certificate_app, name="certificate")
Reason = Annotated[str, typer.Option(help="Why; goes into the access log (and the certificate).")]
Ids = Annotated[list[int], typer.Argument(min=1, max=2**63 - 1, help="Document ids (see `dangan retention due`).")]


@app.command()
def due(
    ctx: typer.Context,
    within: Annotated[int, typer.Option(min=0, max=36_500, help="Also what falls due within this many days.")] = 0,
    as_of: Annotated[str | None, typer.Option(help="Count from this day (YYYY-MM-DD) instead of today.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Records due for appraisal (their retention period is over), among those you may see; oldest first."""
    from api.records.retention import RetentionService
    from archive.errors import InvalidInput

    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InvalidInput(f"--as-of {as_of!r} is not a day (YYYY-MM-DD)") from None
    listed = RetentionService(open_context(ctx)).due(acting_user(ctx), within_days=within, as_of=day)
    if json_out:
        emit_json(listed)
        return
    if not listed.records:
        say(f"nothing due by {listed.as_of + dt.timedelta(days=listed.within_days)}")
    for r in listed.records:
        marks = " ".join(
            m
            for m in (
                "HELD" if r.held else "",
                f"appraised:{r.appraisal}" if r.appraisal else "",
                f"disposition:{r.disposition_id}" if r.disposition_id else "",
            )
            if m
        )
        say(f"{r.document_id:6} {r.reference_code:24} {r.retention:6} due {r.due_on}  {r.title}  {marks}".rstrip())
    if listed.unreadable_codes:
        say(f"{listed.unreadable_codes} record(s) have a retention code that cannot be read (not listed)")


@app.command("set")
def set_code(
    ctx: typer.Context,
    document_id: IdArgument,
    retention: Annotated[str, typer.Argument(help="Y10, Y30, YJ/永久 (permanent), or `series` to use the series'.")],
    reason: Reason,
    json_out: JsonOption = False,
) -> None:
    """Give one record its own retention code (it overrides its series')."""
    from api.records.retention import RetentionService

    row = RetentionService(open_context(ctx)).set_code(
        acting_user(ctx), document_id, retention=retention, reason=reason
    )
    if json_out:
        emit_json(row)
    else:
        say(f"{row.reference_code}: {row.retention} ({row.retention_source}), due {row.due_on or 'never (permanent)'}")


@app.command()
def appraise(
    ctx: typer.Context,
    document_id: IdArgument,
    decision: Annotated[str, typer.Option(help="keep, destroy or transfer.")],
    reason: Reason,
    retention: Annotated[str | None, typer.Option(help="keep: the new code (counted from next year).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Record your decision on a due record."""
    from api.records.retention import RetentionService

    row = RetentionService(open_context(ctx)).appraise(
        acting_user(ctx), document_id, decision=decision, reason=reason, retention=retention
    )
    if json_out:
        emit_json(row)
    else:
        say(f"appraisal {row.id}: {row.reference_code} {row.decision} (due {row.due_on or 'never'})")


@app.command()
def propose(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="destroy or transfer.")],
    document_ids: Ids,
    reason: Reason,
    destination: Annotated[
        Path | None, typer.Option(help="transfer: the folder the bag for the receiving archive goes to.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Propose to destroy or transfer appraised records; another person must approve it."""
    from api.records.disposition import DispositionService

    where = str(destination.expanduser().absolute()) if destination else None
    view = DispositionService(open_context(ctx)).propose(
        acting_user(ctx), action=action, document_ids=document_ids, reason=reason, destination=where
    )
    _show(view, json_out, f"proposed disposition {view.id}: {view.action} {len(view.records)} record(s)")


@app.command()
def approve(ctx: typer.Context, disposition_id: IdArgument, json_out: JsonOption = False) -> None:
    """Approve a disposition someone else proposed (the two-person rule)."""
    from api.records.disposition import DispositionService

    view = DispositionService(open_context(ctx)).approve(acting_user(ctx), disposition_id)
    _show(view, json_out, f"approved disposition {view.id} (proposed by {view.proposed_by})")


@app.command()
def cancel(ctx: typer.Context, disposition_id: IdArgument, reason: Reason, json_out: JsonOption = False) -> None:
    """Refuse or withdraw a disposition before it is executed."""
    from api.records.disposition import DispositionService

    view = DispositionService(open_context(ctx)).cancel(acting_user(ctx), disposition_id, reason=reason)
    _show(view, json_out, f"cancelled disposition {view.id}")


@app.command()
def execute(ctx: typer.Context, disposition_id: IdArgument, json_out: JsonOption = False) -> None:
    """Destroy or transfer an approved disposition's records and write its certificate."""
    from api.records.disposal import DisposalService

    view = DisposalService(open_context(ctx)).execute(acting_user(ctx), disposition_id)
    _show(
        view,
        json_out,
        f"executed disposition {view.id} ({view.action}): {len(view.records)} record(s), "
        f"{view.objects_removed} object(s) removed, certificate record {view.certificate_document_id} "
        f"(sha256 {view.certificate_sha256})" + (f", bag {view.export_path}" if view.export_path else ""),
    )


@app.command("list")
def list_dispositions(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="proposed, approved, executed or cancelled.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Dispositions whose records you may see, newest first."""
    from api.records.disposition import DispositionService

    listed = DispositionService(open_context(ctx)).list(acting_user(ctx), status=status)
    if json_out:
        emit_json(listed)
        return
    for d in listed.dispositions:
        say(f"{d.id:5} {d.action:8} {d.status:9} {len(d.records):4} record(s)  by {d.proposed_by}  {d.reason}")


@app.command()
def show(ctx: typer.Context, disposition_id: IdArgument, json_out: JsonOption = False) -> None:
    """One disposition: its records, who proposed, approved and executed it."""
    from api.records.disposition import DispositionService

    view = DispositionService(open_context(ctx)).show(acting_user(ctx), disposition_id)
    _show(view, json_out, f"disposition {view.id}: {view.action}, {view.status}; proposed by {view.proposed_by}")
    if not json_out:
        for r in view.records:
            say(f"  {r.document_id:6} {r.reference_code:24} {r.status:12} {r.title}")


@app.command()
def hold(ctx: typer.Context, document_ids: Ids, reason: Reason, json_out: JsonOption = False) -> None:
    """Put records under a legal hold: no disposition may touch them until it is released."""
    from api.records.holds import HoldService

    service, user = HoldService(open_context(ctx)), acting_user(ctx)
    _holds([service.hold(user, document_id, reason=reason) for document_id in document_ids], json_out, "held")


@app.command()
def release(ctx: typer.Context, document_ids: Ids, reason: Reason, json_out: JsonOption = False) -> None:
    """Lift the legal hold of records."""
    from api.records.holds import HoldService

    service, user = HoldService(open_context(ctx)), acting_user(ctx)
    _holds([service.release(user, document_id, reason=reason) for document_id in document_ids], json_out, "released")


@app.command()
def holds(
    ctx: typer.Context,
    lifted: Annotated[bool, typer.Option(help="Also holds already lifted.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Legal holds on the records you may see."""
    from api.records.holds import HoldService

    listed = HoldService(open_context(ctx)).list(acting_user(ctx), include_lifted=lifted)
    if json_out:
        emit_json(listed)
        return
    _holds(listed.holds, False, "hold")


@certificate_app.command("show")
def certificate_show(
    ctx: typer.Context,
    disposition_id: IdArgument,
    fmt: Annotated[str, typer.Option("--format", help="json, html or csv.")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write it to this file instead of printing it.")] = None,
) -> None:
    """Print (or save) a disposition's certificate, checked against its SHA-256."""
    from api.records.certificate_check import CertificateService

    found = CertificateService(open_context(ctx)).file(acting_user(ctx), disposition_id, fmt)
    if out is not None:
        out.write_bytes(found.data)
        say(f"wrote {out} ({len(found.data)} bytes)")
    else:
        sys.stdout.write(found.data.decode("utf-8"))


@certificate_app.command("verify")
def certificate_verify(ctx: typer.Context, disposition_id: IdArgument, json_out: JsonOption = False) -> None:
    """Verify a certificate: its bytes, its signature, the log's event, the tombstones, the store."""
    from api.records.certificate_check import CertificateService
    from archive.errors import ExitCode

    checked = CertificateService(open_context(ctx)).verify(acting_user(ctx), disposition_id)
    if json_out:
        emit_json(checked)
    else:
        say(
            f"certificate of disposition {disposition_id}: {'VALID' if checked.valid else 'INVALID'} ({checked.sha256})"
        )
        for line in checked.checks:
            say(f"  ok  {line}")
        for line in checked.problems:
            say(f"  BAD {line}")
    raise typer.Exit(ExitCode.OK if checked.valid else ExitCode.INTEGRITY_FAILURE)


def _show(view: DispositionView, json_out: bool, line: str) -> None:
    if json_out:
        emit_json(view)
    else:
        say(line)


def _holds(rows: list[HoldView], json_out: bool, verb: str) -> None:
    if json_out:
        emit_json(rows)
        return
    for h in rows:
        state = "active" if h.active else f"lifted by {h.lifted_by}"
        say(f"{verb}: {h.reference_code} by {h.set_by} ({state}): {h.reason}")
