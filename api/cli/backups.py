"""`dangan backup`: targets (add, list, remove), runs, and restore drills."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, SeedOption, acting_user, open_context
from api.cli.output import emit_json, progress, say
from api.cli.preservation import print_findings
from archive.errors import ExitCode

if TYPE_CHECKING:
    from api.views.base import View
    from api.views.preservation import DrillView

app = typer.Typer(no_args_is_help=True, help="Backups to a second target: targets, runs, restore drills.")
target_app = typer.Typer(no_args_is_help=True, help="Register, list and remove backup targets.")
app.add_typer(target_app, name="target")


@target_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Target name (lowercase letters, digits, - and _).")],
    path: Annotated[Path | None, typer.Option(help="A local directory (another disk).")] = None,
    s3_endpoint: Annotated[str | None, typer.Option(help="S3 endpoint host:port (another server).")] = None,
    bucket: Annotated[str | None, typer.Option(help="S3 bucket (created when absent).")] = None,
    secure: Annotated[bool, typer.Option(help="Use https for S3.")] = True,
    region: Annotated[str | None, typer.Option(help="S3 region.")] = None,
    credentials_file: Annotated[
        Path | None,
        typer.Option(help="File with the S3 keys (two lines, or ACCESS_KEY=/SECRET_KEY=); default: environment."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Register a target. S3 keys come from DANGAN_BACKUP_<NAME>_ACCESS_KEY/_SECRET_KEY or the file."""
    from api.preservation.backup_targets import BackupTargets, TargetSpec

    spec = TargetSpec(
        name=name,
        kind="s3" if s3_endpoint else "local",
        path=str(path) if path else None,
        endpoint=s3_endpoint,
        bucket=bucket,
        secure=secure,
        region=region,
        credentials_file=str(credentials_file.expanduser().resolve()) if credentials_file else None,
    )
    result = BackupTargets(open_context(ctx)).add(acting_user(ctx), spec)
    _show(result, json_out, f"added backup target {name} ({result.kind})")


@target_app.command("list")
def list_targets(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Registered and settings-declared targets (never their secrets)."""
    from api.preservation.backup_targets import BackupTargets

    listed = BackupTargets(open_context(ctx)).list(acting_user(ctx))
    if json_out:
        emit_json(listed)
        return
    if not listed.targets:
        say("no backup targets; add one with `dangan backup target add NAME --path DIR`")
    for t in listed.targets:
        where = t.path if t.kind == "local" else f"{t.endpoint}/{t.bucket}"
        say(f"{t.name:16} {t.kind:6} {where}  ({t.source})")


@target_app.command("remove")
def remove(ctx: typer.Context, name: str, json_out: JsonOption = False) -> None:
    """Forget a registered target (its backups stay where they are)."""
    from api.preservation.backup_targets import BackupTargets

    result = BackupTargets(open_context(ctx)).remove(acting_user(ctx), name)
    _show(result, json_out, f"removed backup target {name}")


@app.command("run")
def run(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(help="Target name.")],
    json_out: JsonOption = False,
) -> None:
    """Copy what is new, a catalogue snapshot and the audit checkpoints; write the manifest. Resumable."""
    from api.preservation.backups import BackupService

    context = open_context(ctx)
    with progress(f"backing up to {target}", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        result = BackupService(context).run(acting_user(ctx), target=target, progress=step)
    report = result.report
    _show(
        result,
        json_out,
        f"run {result.id} {result.status}: {result.objects_copied} of {report.objects_total} object(s) "
        f"copied ({result.bytes_copied:,} bytes), {report.checkpoints} checkpoint(s), "
        f"snapshot {result.snapshot_key}, manifest {result.manifest_key} (sha256 {result.manifest_sha256})",
    )
    if not json_out:
        print_findings(result.findings)
    raise typer.Exit(ExitCode(result.exit_code if result.exit_code is not None else ExitCode.FAILED))


@app.command("runs")
def runs(
    ctx: typer.Context, target: Annotated[str | None, typer.Option()] = None, json_out: JsonOption = False
) -> None:
    """Backup runs, newest first."""
    from api.preservation.backups import BackupService

    found = BackupService(open_context(ctx)).runs(acting_user(ctx), target=target)
    if json_out:
        emit_json(found)
        return
    if not found.runs:
        say("no backup runs yet" + (f" to {target}" if target else ""))
    for r in found.runs:
        grade = r.grade.value if r.grade is not None else "-"
        say(f"{r.id:5} {r.started_at[:19]} {r.target:16} {r.status:11} {grade:8} {r.objects_copied} copied")


@app.command("drill")
def drill(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(help="Target name.")],
    sample: Annotated[int | None, typer.Option(help="Restore this many objects (default: all).", min=1)] = None,
    seed: SeedOption = None,
    json_out: JsonOption = False,
) -> None:
    """Restore into scratch and check everything; reports RPO and RTO. Exit 0 clean, 10 warnings, 9 errors."""
    from api.preservation.backup_drill import DrillService  # PDF libraries: only for a drill

    context = open_context(ctx)
    with progress(f"restore drill from {target}", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        report = DrillService(context).drill(acting_user(ctx), target=target, sample=sample, seed=seed, progress=step)
    if json_out:
        emit_json(report)
    else:
        _print_drill(report)
    raise typer.Exit(ExitCode(report.exit_code))


def _seconds(value: float | None, unit: str, digits: int) -> str:
    return "unknown" if value is None else f"{value:.{digits}f} {unit}"


def _print_drill(report: DrillView) -> None:
    objects, catalogue, searching = report.objects, report.catalogue, report.search
    found = sum(1 for c in searching.canaries if c.found)
    lines = [
        f"drill {report.id} {report.status.upper()}, {report.grade.value} (backup run {report.backup_run_id}, "
        f"seed {report.seed})",
        f"objects: {objects.restored} restored, {len(objects.missing)} missing, "
        f"{len(objects.hash_mismatch)} hash mismatch, {objects.pdfs_opened} PDF(s) opened, "
        f"{len(objects.pdf_failures)} PDF failure(s)",
        f"catalogue: integrity {catalogue.integrity}, {catalogue.documents} document(s), {catalogue.pages} page(s)",
        f"search: {searching.documents_indexed} indexed, {found}/{len(searching.canaries)} canaries found",
        f"RPO {_seconds(report.rpo_seconds, 's', 0)}, RTO {_seconds(report.rto_seconds_per_gb, 's/GB', 1)} "
        f"({report.bytes_restored:,} bytes in {report.seconds} s)",
    ]
    for line in lines:
        say(line)
    print_findings(report.findings)


def _show(result: View, json_out: bool, text: str) -> None:
    if json_out:
        emit_json(result)
    else:
        say(text)
