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
        for line in report.warnings:
            stderr.print(line, highlight=False, markup=False)
    if report.state == "refusing":
        raise typer.Exit(ExitCode.DISK_FULL)


def register(app: typer.Typer) -> None:
    app.command()(status)
