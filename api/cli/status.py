"""`dangan status`: free space on each data disk (spool, object store, catalogue, index, OCR work area) against
the free-space reserve, and the ingest job counts; a warning line for each disk that is low and while jobs are
stuck or failed. Exits 14 while ingest refuses new items."""

from __future__ import annotations

import typer

from api.cli.commands import JsonOption, open_as
from api.cli.output import emit_json, say, stderr
from archive.diskfull import size_text
from archive.errors import ExitCode


def status(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Free space of the data disks, the reserve, and whether ingest takes new items (ok, low, refusing)."""
    from api.preservation.status import StatusService

    context, actor = open_as(ctx)
    report = StatusService(context).status(actor, show_paths=True)
    if json_out:
        emit_json(report)
    else:
        for place in report.places:
            say(
                f"{place.place:14} {place.state:9} {size_text(place.free_bytes):>12} free, "
                f"reserve {size_text(place.reserve_bytes)}  {place.path}"
            )
        jobs = report.jobs
        say(
            f"{'ingest jobs':14} {jobs.queued} queued, {jobs.processing} processing, {jobs.retrying} retrying, "
            f"{jobs.stuck} stuck, {jobs.failed} failed"
        )
        workers, storage, index = report.workers, report.storage, report.index
        say(
            f"{'job runner':14} {'alive' if workers.runner_alive else 'not running'}, "
            f"{workers.worker_processes} worker process(es), {workers.busy_workers} busy"
        )
        say(f"{'storage':14} {storage.backend}: {storage.objects} object(s), {size_text(storage.bytes)}")
        say(
            f"{'search index':14} {index.engine} {index.state}: {index.pages_indexed} of {index.pages_in_catalogue} "
            f"page(s), {size_text(index.bytes)}; last rebuild {index.last_rebuild_at or 'never'}"
            f" (rebuild {index.rebuild.state})"
        )
        for backup in report.backups or []:
            say(f"{'backup':14} {backup.target}: {backup.status or 'never run'} {backup.finished_at or ''}".rstrip())
        if report.last_verification is not None:
            last = report.last_verification
            say(f"{'verification':14} {last.level} {last.grade} at {last.started_at} (run {last.id})")
        for line in report.warnings:
            stderr.print(line, highlight=False, markup=False)
    if report.state == "refusing":
        raise typer.Exit(ExitCode.DISK_FULL)


def register(app: typer.Typer) -> None:
    app.command()(status)
