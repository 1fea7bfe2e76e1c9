"""`dangan keys`: the master keys of encryption at rest — status, rotate, recover (from a backup's key escrow),
encrypt-pending (records raised to an encrypted level)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.commands import JsonOption, open_as
from api.cli.output import emit_json, say, stderr
from archive.errors import ExitCode

app = typer.Typer(no_args_is_help=True, help="Master keys of encryption at rest: status, rotate, recover.")


@app.command()
def status(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Each master key (active or retired), the objects it wraps, whether it is escrowed; warnings. Exits 10
    while there is a warning (an active key in no backup's escrow, a missing keyring)."""
    from api.preservation.keys import KeyService

    context, actor = open_as(ctx)
    report = KeyService(context).status(actor)
    if json_out:
        emit_json(report)
    else:
        on = f"on at {report.min_level} and above" if report.enabled else "off (new objects stored in the clear)"
        say(f"encryption at rest: {on}; provider {report.provider}; {report.encrypted_objects} encrypted object(s)")
        for key in report.keys:
            escrowed = "escrowed" if key.escrowed else "NOT ESCROWED"
            say(f"{key.key_id:32} {key.state:8} {escrowed:13} {key.objects:>7} object(s)  created {key.created_at}")
        if report.pending_records:
            say(f"{report.pending_records} record(s) wait to be sealed: `dangan keys encrypt-pending`")
    for line in report.warnings:
        stderr.print(f"WARNING: {line}", highlight=False, markup=False)
    if report.warnings:
        raise typer.Exit(ExitCode.WARNINGS)


@app.command()
def rotate(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Make a new master key active and rewrap every data key with it (no object is rewritten); the old key is
    retired (kept: older backups' catalogues name it). Run a backup afterwards so the new key is escrowed."""
    from api.preservation.keys import KeyService

    context, actor = open_as(ctx)
    report = KeyService(context).rotate(actor)
    if json_out:
        emit_json(report)
    else:
        say(f"new active master key {report.new_key_id}; {report.rewrapped} data key(s) rewrapped")
        if report.retired:
            say(f"retired: {', '.join(report.retired)}")
        stderr.print("run a backup now (`dangan backup run`): the new key is in no escrow yet", highlight=False)


@app.command()
def recover(
    ctx: typer.Context,
    target: Annotated[str, typer.Option(help="The backup target whose key escrow holds the keyring.")],
    path: Annotated[Path | None, typer.Option(help="The target's directory (when it is not registered).")] = None,
    run: Annotated[int | None, typer.Option(help="A backup run (default: the newest).", min=1)] = None,
    json_out: JsonOption = False,
) -> None:
    """Put a lost master keyring back from a backup's key escrow, opened with the escrow secret
    (DANGAN_BACKUP_ESCROW_PASSPHRASE or DANGAN_BACKUP_ESCROW_KEY_FILE). Keys already present are kept."""
    from api.preservation.keys import KeyService

    context, actor = open_as(ctx)
    report = KeyService(context).recover(actor, target=target, path=path, run_id=run)
    if json_out:
        emit_json(report)
    else:
        say(f"recovered {len(report.added)} master key(s) from backup run {report.run_id} of {report.target}")
        for key in report.keys:
            say(f"{key.key_id:32} {key.state:8} {key.objects:>7} object(s)")


@app.command("encrypt-pending")
def encrypt_pending_command(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Seal the objects of records raised to an encrypted level that are still stored in the clear."""
    from api.preservation.key_sealing import encrypt_pending

    context, actor = open_as(ctx)
    report = encrypt_pending(context, actor)
    if json_out:
        emit_json(report)
    else:
        say(f"sealed {report.objects} object(s) of {report.records} record(s)")
