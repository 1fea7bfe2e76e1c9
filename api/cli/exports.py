"""`dangan export ...`: packages of archived records for transfer or preservation (BagIt)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, progress, stdout

app = typer.Typer(no_args_is_help=True, help="Export records as packages (BagIt 1.0).")


@app.command()
def bagit(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="New (or empty) folder to write the bag to.")],
    fonds: Annotated[str | None, typer.Option(help="Export every document of this fonds code.")] = None,
    batch: Annotated[int | None, typer.Option(help="Export every document of this batch id.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Write a BagIt 1.0 bag (SHA-256 manifests, metadata as JSON and CSV) of one fonds or one batch."""
    from api.records.bagit_export import export_bag

    context = open_context(ctx)
    with progress("exporting", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        result = export_bag(context, fonds=fonds, batch_id=batch, target=target, actor=acting_user(ctx), progress=step)
    if json_out:
        emit_json(result)
    else:
        stdout.print(
            f"bag of {result.scope} at {result.path}: {result.documents} document(s), "
            f"{result.files} file(s), {result.bytes:,} bytes (Payload-Oxum {result.payload_oxum})",
            highlight=False,
            markup=False,
        )
