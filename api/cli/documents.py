"""`dangan document ...`: one record at a time (withdrawal; viewing is `dangan search` and the API)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, stdout

app = typer.Typer(no_args_is_help=True, help="Withdraw a record from use (it leaves search at once).")


@app.command()
def withdraw(
    ctx: typer.Context,
    document_id: Annotated[
        int, typer.Argument(min=1, max=2**63 - 1, help="The document's id (see `dangan search --json`).")
    ],
    reason: Annotated[str, typer.Option(help="Why (disposal decision, mistaken ingest, ...); goes into the log.")],
    json_out: JsonOption = False,
) -> None:
    """Withdraw a record: out of search immediately, 'not found' to all but admins; files and history are kept."""
    from api.records.documents import withdraw_document

    result = withdraw_document(open_context(ctx), acting_user(ctx), document_id, reason=reason)
    if json_out:
        emit_json(result)
        return
    stdout.print(f"withdrew {result['reference_code']} ({result['title']})", highlight=False, markup=False)
