"""`dangan init`, `dangan reindex`, `dangan derive` and `dangan verify`: the operator's commands over the whole archive.

Verification prints its graded report and exits with its grade's code: 0 clean, 10 warnings, 9 errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, SeedOption, open_as, open_context
from api.cli.output import emit_json, progress, say
from archive.errors import ExitCode
from archive.reports import Grade

if TYPE_CHECKING:
    from api.views.preservation import VerificationRunSummary, VerificationView
    from api.views.reports import FindingView


def init(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Create the data directory, migrate the catalogue, create the search index."""
    from api.preservation.maintenance import MaintenanceService

    result = MaintenanceService(open_context(ctx)).initialise()
    if json_out:
        emit_json(result)
        return
    for name, value in result.as_json().items():
        say(f"{name:9} {value}")


def reindex(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Rebuild the search index from the catalogue (searches keep working until the new one is swapped in)."""
    from api.preservation.reindexing import IndexRebuilds

    context, actor = open_as(ctx)
    with progress("indexing", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        result = IndexRebuilds(context).run(actor, progress=step)
    if json_out:
        emit_json(result)
    else:
        say(f"indexed {result.documents} document(s) into {result.index} ({result.engine})")


def derive(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Draw every page again, not only the missing ones.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Rebuild the page images and thumbnails (derived data) from the access copies: the missing ones, or all;
    then remove those no current page refers to (left by superseded copies)."""
    from api.preservation.maintenance import MaintenanceService

    context, actor = open_as(ctx)
    with progress("drawing pages", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        result = MaintenanceService(context).derive(actor, force=force, progress=step)
    if json_out:
        emit_json(result)
    else:
        say(f"drew {result.pages_drawn} page(s) of {result.documents} document(s); {result.pages_failed} failed")
        say(f"removed {result.objects_pruned} derived object(s) no current page refers to")
        for key in result.pruned_keys:
            say(f"  {key}")


def verify(
    ctx: typer.Context,
    level: Annotated[
        str,
        typer.Option(
            help="structure (exists + size), sample (re-hash --percent of objects), full; "
            "backup (a --target checked fully against its manifest and the catalogue)."
        ),
    ] = "full",
    target: Annotated[str | None, typer.Option(help="Verify this backup target instead of the primary store.")] = None,
    percent: Annotated[float, typer.Option(help="Share of objects re-hashed at the sample level.")] = 5.0,
    seed: SeedOption = None,
    list_runs: Annotated[bool, typer.Option("--list", help="List the stored verification runs instead.")] = False,
    limit: Annotated[int, typer.Option(help="Most runs to list with --list.")] = 20,
    json_out: JsonOption = False,
) -> None:
    """Verify the primary store, or a backup --target; exit 0 when clean, 10 with warnings only, 9 on errors."""
    from api.preservation.verification import VerificationService

    context, actor = open_as(ctx)
    service = VerificationService(context)
    if list_runs:
        runs = service.runs(actor, limit=limit)
        if json_out:
            emit_json(runs)
        else:
            _print_runs(runs.runs)
        return
    with progress(f"verifying ({level})", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        report = service.verify(actor, target=target, level=level, percent=percent, seed=seed, progress=step)
    if json_out:
        emit_json(report)
    else:
        _print_verification(report)
    raise typer.Exit(ExitCode(report.exit_code))


VERDICTS = {
    Grade.CLEAN: "clean",
    Grade.WARNINGS: "WARNINGS: nothing is lost; check the listed objects, then keep, delete or back them up",
    Grade.ERRORS: "ERRORS: restore the listed objects from a backup",
}


def _print_verification(report: VerificationView) -> None:
    counts = ", ".join(f"{name}: {count}" for name, count in report.counts.items())
    sampled = f" (seed {report.seed}, {report.percent}%)" if report.level == "sample" else ""
    say(
        f"run {report.run_id}: {report.level} check{sampled} of {report.objects_checked} "
        f"object(s) on the {report.store} store, {report.objects_hashed} hashed, "
        f"{report.bytes_read:,} bytes in {report.seconds} s"
    )
    say(counts)
    for finding in report.findings:
        where = f"document {finding.document_id} ({finding.reference_code}) {finding.role} "
        if finding.document_id is None:
            where = ""
        partner = f" <-> {finding.partner_key}" if finding.partner_key else ""
        say(f"  {finding.category.upper():15} {where}{finding.key}{partner}")
    for note in report.notes:
        say(f"note: {note}")
    say(VERDICTS[report.grade])


def _print_runs(runs: list[VerificationRunSummary]) -> None:
    if not runs:
        say("no verification runs yet")
    for run in runs:
        found = ", ".join(f"{name} {count}" for name, count in run.counts.items() if count) or "nothing found"
        say(
            f"{run.id:5}  {run.started_at[:19]}  {run.level:9} {run.status:8} "
            f"{run.objects_checked} object(s), {run.seconds} s, by {run.actor}: {found}"
        )


def print_findings(findings: list[FindingView]) -> None:
    """Any graded report's findings, one line each: severity, code, subject, message."""
    for finding in findings:
        about = f" {finding.subject}:" if finding.subject else ""
        say(f"  {finding.severity.value.upper():7} {finding.code:20}{about} {finding.message}")


def register(app: typer.Typer) -> None:
    for command in (init, reindex, derive, verify):
        app.command()(command)
