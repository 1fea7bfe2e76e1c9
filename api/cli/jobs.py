"""`dangan jobs ...`: the operator's view of ingest jobs that need attention, retrying them, running the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import MAX_ID, JsonOption, open_as
from api.cli.output import emit_json, inform, nothing, progress, say
from api.cli.tables import print_table
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from api.views.jobs import JobList, JobRetry, JobRow, JobRunOutcome

app = typer.Typer(
    help="Ingest jobs: the stuck, failed and retrying ones with their reasons (no command); retry them; run them.",
    invoke_without_command=True,
)
BatchOption = Annotated[int | None, typer.Option("--batch", min=1, max=MAX_ID, help="Only the jobs of this batch.")]


@app.callback()
def jobs(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="Every job, not only the ones needing attention.")] = False,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            help="Only jobs in this state (repeat): queued, processing, stuck, retrying, failed, needs_review, done.",
        ),
    ] = None,
    batch: BatchOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many jobs.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many jobs first.")] = 0,
    json_out: JsonOption = False,
) -> None:
    """List the jobs needing attention: stuck (processing, its worker gone), failed and retrying, with reasons."""
    if ctx.invoked_subcommand is not None:
        if every or state or batch is not None or json_out:
            raise InvalidInput("give --all, --state, --batch and --json after the sub-command (`dangan jobs retry`)")
        return
    if every and state:
        raise InvalidInput("--all and --state contradict each other; give one of them")
    from api.ingest.jobs import JobsService

    context, actor = open_as(ctx)
    listed = JobsService(context).list_jobs(
        actor, states=state or (), every=every, batch_id=batch, limit=limit, offset=offset
    )
    if json_out:
        emit_json(listed)
        return
    _print_list(listed)


@app.command("retry")
def retry(
    ctx: typer.Context,
    job: Annotated[int | None, typer.Argument(min=1, max=MAX_ID, help="The job to run again.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed job you may see (of --batch N).")] = False,
    batch: BatchOption = None,
    json_out: JsonOption = False,
) -> None:
    """Put a failed, retrying or stuck job back in the queue (or every failed one, with --failed)."""
    if (job is None) == (not failed):
        raise InvalidInput("give a job id or --failed (`dangan jobs retry 12`, `dangan jobs retry --failed`)")
    if batch is not None and not failed:
        raise InvalidInput("--batch goes with --failed")
    from api.ingest.jobs import JobsService

    context, actor = open_as(ctx)
    service = JobsService(context)
    outcome = service.retry(actor, job) if job is not None else service.retry_failed(actor, batch_id=batch)
    if json_out:
        emit_json(outcome)
    else:
        _print_retry(outcome, everything_failed=failed)
    raise typer.Exit(outcome.exit_code())


@app.command("run")
def run(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Run every queued job (and every retrying one whose wait is over) here, until none is left."""
    from api.ingest.jobs import JobsService
    from api.runners.local import local_runner  # the OCR worker pool: only when running jobs

    context, actor = open_as(ctx)
    with progress("running jobs", 0) as bar:
        outcome = JobsService(context).run(actor, runner=local_runner, progress=bar)
    if json_out:
        emit_json(outcome)
    else:
        _print_run(outcome)
    raise typer.Exit(outcome.exit_code())


# -- text --------------------------------------------------------------------------------------------------
def _print_list(listed: JobList) -> None:
    which = ", ".join(listed.states) if listed.states else "all"
    if not listed.jobs:
        scope = f" in batch {listed.batch_id}" if listed.batch_id is not None else ""
        nothing(f"no {which} jobs{scope}" if listed.states else f"no jobs{scope}")
    else:
        _print_rows(listed.jobs)
        end = listed.offset + len(listed.jobs)
        more = f"; more with --offset {end}" if end < listed.total else ""
        say(f"{listed.offset + 1}-{end} of {listed.total} {which} job(s){more}")
    say("jobs you may see: " + _counts(listed.counts))


def _print_rows(rows: list[JobRow]) -> None:
    print_table(
        ["job", "batch", "state", "tries", "age", "next try", "item", "reason"],
        [
            [row.id, row.batch_id, row.state, row.attempts, _duration(row.age_seconds), _next(row), row.item, _why(row)]
            for row in rows
        ],
    )


def _print_retry(outcome: JobRetry, *, everything_failed: bool) -> None:
    for row in outcome.queued:
        was = f" (it failed: {row.previous_error})" if row.previous_error else ""
        say(f"queued job {row.id}: {row.item}, batch {row.batch_id}, {row.attempts} earlier attempt(s){was}")
    for refusal in outcome.refused:
        say(f"not queued: job {refusal.job} ({refusal.item}): {refusal.message}")
    if outcome.queued:
        inform(f"{len(outcome.queued)} job(s) queued: {outcome.next_step}")
    elif everything_failed and not outcome.refused:
        nothing("no failed jobs to retry")


def _print_run(outcome: JobRunOutcome) -> None:
    if not outcome.jobs and not outcome.hidden:
        nothing("nothing to run: no job is queued or due")
        return
    if outcome.jobs:
        _print_rows(outcome.jobs)
    hidden = f" (and {outcome.hidden} you may not see)" if outcome.hidden else ""
    say(f"ran {len(outcome.jobs)} job(s){hidden} in {outcome.wall_seconds} s: {_counts(outcome.counts)}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{number} {state.replace('_', ' ')}" for state, number in counts.items()) or "none"


def _why(row: JobRow) -> str:
    reason = row.reason or ""
    if row.previous_error and row.state != "failed":
        reason = f"{reason}; " if reason else ""
        reason += f"earlier failure: {row.previous_error}"
    return " ".join(reason.split()) or "-"


def _next(row: JobRow) -> str:
    if row.wait_seconds is None:
        return ""
    return "due now" if row.wait_seconds <= 0 else f"in {_duration(row.wait_seconds)}"


def _duration(seconds: float) -> str:
    """12 s, 4 min, 3 h 20 min, 2 d 5 h."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"
