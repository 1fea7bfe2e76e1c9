"""`dangan restore` (a whole system from a backup, on an empty machine) and `dangan repair` (damaged primary
objects from a backup). Both print a graded report and exit with its grade: 0 clean, 10 warnings, 9 errors."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, open_as
from api.cli.output import emit_json, progress, say
from api.cli.preservation import print_findings
from archive.errors import ExitCode

if TYPE_CHECKING:
    from api.views.preservation import RestoreView
    from archive.access import Principal


def restore(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(help="The backup target's name (declared in settings, or with --path).")],
    path: Annotated[
        Path | None, typer.Option(help="The local target's directory (there is no catalogue here to look it up in).")
    ] = None,
    snapshot: Annotated[
        int | None, typer.Option("--snapshot", help="The backup run to restore (default: the newest).", min=1)
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Rebuild a complete system on an EMPTY machine from a backup: catalogue, objects, the audit signing key
    (from the backup's encrypted key escrow: set DANGAN_BACKUP_ESCROW_PASSPHRASE or DANGAN_BACKUP_ESCROW_KEY_FILE
    as when the backup ran), checkpoints; the search index rebuilt; then fixity, audit verification and canary
    searches, and the RTO. Command line only: there is no running system to call over HTTP yet. Acts as
    --user (a system administrator of the restored catalogue). Exit 0 clean, 10 warnings, 9 errors; 12 when the
    escrow secret is missing or wrong, 5 when the data directory is not empty (nothing is changed then)."""
    from api.access.users import UserService
    from api.preservation.restore import RestoreService
    from api.wiring import Context, load_settings

    def account(context: Context, name: str) -> Principal:
        return UserService(context).principal(name)

    root = ctx.find_root()
    settings = load_settings((root.obj or {}).get("home"))
    username = (root.obj or {}).get("user") or settings.cli_user or getpass.getuser()
    with progress(f"restoring from {target}", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        report = RestoreService(settings, accounts=account).restore(
            target=target, username=str(username), path=path, run_id=snapshot, progress=step
        )
    if json_out:
        emit_json(report)
    else:
        _print_restore(report)
    raise typer.Exit(ExitCode(report.exit_code))


def _print_restore(report: RestoreView) -> None:
    found = sum(1 for canary in report.canaries if canary.found)
    rto = "unknown" if report.rto_seconds_per_gb is None else f"{report.rto_seconds_per_gb:.1f} s/GB"
    for line in (
        f"restored backup run {report.backup_run_id} from {report.target} into {report.home}: {report.grade.value}",
        f"objects: {report.objects_restored} ({report.bytes_restored:,} bytes with the catalogue), "
        f"{report.checkpoints_restored} checkpoint(s), signing key {report.key_fingerprint[:16]}…",
        f"index: {report.documents_indexed} document(s); fixity {report.fixity_grade.value} "
        f"(run {report.verification_run_id}); audit log {report.audit_grade.value} "
        f"({report.audit_events_checked} events); canaries {found}/{len(report.canaries)} found",
        f"RTO {rto} ({report.seconds} s)",
    ):
        say(line)
    print_findings(report.findings)


def repair(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option(help="Repair from this target only (default: every target).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Verify the primary store in full and put back each missing or changed object from a backup copy whose
    hash is checked first; each repair is an audit event. Exit 0 nothing to repair, 10 repaired, 9 not all."""
    from api.preservation.repair import RepairService

    context, actor = open_as(ctx)
    report = RepairService(context).repair(actor, target=target)
    if json_out:
        emit_json(report)
    else:
        say(f"{report.checked} object(s) verified, {report.damaged} damaged, {report.repaired} repaired")
        for item in report.objects:
            outcome = f"repaired from {item.source}" if item.source else "NOT REPAIRED: " + "; ".join(item.reasons)
            say(f"  {item.problem:8} {item.key}: {outcome}")
        print_findings(report.findings)
    raise typer.Exit(ExitCode(report.exit_code))


def register(app: typer.Typer) -> None:
    for command in (restore, repair):
        app.command()(command)
