"""`dangan ingest`: one call to the intake use case (OCR in the local worker pool), progress, a summary.

No `--resume` is needed (it is still accepted): every run also runs every runnable job of the installation
(what a crash, a stop or a passing fault left, whatever batch), and waits for the unfinished jobs of its batch."""

from __future__ import annotations

from api.cli.output import progress, say, stderr
from api.ingest.intake import IngestRequest, Intake
from api.runners.local import local_runner
from api.views.ingest import FILED_STATES, IngestRun
from api.wiring import Context
from archive.access import Principal
from archive.errors import ExitCode
from archive.values import JobState
from storage_config.space import low_space_warnings


def ingest_paths(context: Context, request: IngestRequest, *, actor: Principal) -> IngestRun:
    """Run the intake with the local worker pool, showing each job as it ends (a warning first when a data disk
    is low on space)."""
    for warning in low_space_warnings(context.settings):
        stderr.print(warning.message, highlight=False, markup=False)
    with progress("ingesting", 0) as bar:
        return Intake(context).ingest_paths(request, actor=actor, runner=local_runner, progress=bar)


def ingest_summary(run: IngestRun) -> list[str]:
    """One line per job, skipped and rejected item, then the totals: readable, no reprs."""
    lines: list[str] = []
    for job in run.jobs:
        if job.state in FILED_STATES:
            note = "  NEEDS REVIEW (pages held by the quality gate)" if job.state == "needs_review" else ""
            lines.append(
                f"{job.state:<13}{job.source_name} -> {job.reference_code} ({job.pages} page(s), {job.seconds} s){note}"
            )
        elif job.state == JobState.RETRYING:
            lines.append(f"RETRYING     {job.source_name} (job {job.id}): {job.error}")
        else:
            lines.append(f"FAILED       {job.source_name}: {job.error}")
    lines += [f"skipped      {item.item}: {item.reason}" for item in run.skipped]
    lines += [f"REJECTED     {item.item}: {item.message}" for item in run.rejected]
    counts = run.summary
    if not run.jobs and not run.skipped and not run.rejected:
        lines.append("nothing to ingest: no scans (TIFF, PNG, JPEG or PDF) were found")
    per_page = f" ({counts.wall_seconds / counts.pages:.2f} s/page)" if counts.pages else ""
    where = f"batch {run.batch_id}" if run.batch_id is not None else "no batch made (nothing was accepted)"
    if counts.retrying:
        lines.append(
            f"{counts.retrying} job(s) are `retrying` after a passing fault (above); they resume by themselves at the "
            "next `dangan serve`, `dangan ingest` or `dangan jobs run`"
        )
    retrying = f", {counts.retrying} retrying" if counts.retrying else ""
    lines.append(
        f"{where}: {counts.done} done, {counts.needs_review} need review, {counts.failed} failed{retrying}, "
        f"{counts.skipped} skipped, {counts.rejected} rejected; {counts.pages} page(s) in {counts.wall_seconds} s"
        + per_page
    )
    if counts.retrying:
        lines.append(retrying_note(run))
    return lines


def retrying_note(run: IngestRun) -> str:
    """The one line that says what happened to the jobs that wait, and what brings them back."""
    first = next(job for job in run.jobs if job.state == JobState.RETRYING)
    return (
        f"{run.summary.retrying} item(s) were kept, not lost, and wait: {first.error}; they are filed once that has "
        "passed by `dangan jobs run`, or by the next `dangan serve` or `dangan ingest` (`dangan jobs` lists them)"
    )


def print_ingest_summary(run: IngestRun) -> None:
    for line in ingest_summary(run):
        say(line)


def stopping_error(run: IngestRun) -> str | None:
    """The one-line error of a run that stopped taking items because a disk is full (also with --json)."""
    if run.exit_code() != ExitCode.DISK_FULL:
        return None
    message = run.fault if run.fault_exit_code == ExitCode.DISK_FULL else None
    message = message or next((row.message for row in run.rejected if row.exit_code == ExitCode.DISK_FULL), None)
    if message is None:
        message = next((str(job.error) for job in run.jobs if job.retry_exit_code == ExitCode.DISK_FULL), "")
    return f"error: {message}"
