"""`dangan users ...`: the bootstrap admin and tokens (accounts and roles grow in the accounts issue)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.commands import JsonOption, open_context
from api.cli.output import emit_json, stdout
from api.services.users import UserService

app = typer.Typer(no_args_is_help=True, help="Users and API tokens.")


@app.command("create-admin")
def create_admin(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="Login name of the admin.")] = "admin",
    if_missing: Annotated[
        bool, typer.Option(help="If the admin exists, issue a fresh token instead of failing.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Create the bootstrap admin and print its API token once (only its hash is stored)."""
    result = UserService(open_context(ctx)).create_admin(username, if_missing=if_missing)
    if json_out:
        emit_json(result)
        return
    state = "created" if result["created"] else "exists; new token issued"
    stdout.print(f"admin {username!r} {state}. API token (shown once, store it safely):", highlight=False)
    stdout.print(result["token"], highlight=False, markup=False)


@app.command("token")
def token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    json_out: JsonOption = False,
) -> None:
    """Issue a new API token for a user and print it once."""
    result = UserService(open_context(ctx)).issue_token(username, label=label)
    if json_out:
        emit_json(result)
    else:
        stdout.print(result["token"], highlight=False, markup=False)
