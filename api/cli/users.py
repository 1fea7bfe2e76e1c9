"""`dangan users ...`: accounts, roles, clearances, departments, and API tokens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import JsonOption, acting_user, open_context
from api.cli.output import emit_json, say
from api.cli.tables import local_time, print_table, role_title, role_titles
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from api.views.access import UserView

app = typer.Typer(no_args_is_help=True, help="Users and API tokens.")


@app.command("bootstrap")
def bootstrap(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Create what a fresh install needs: the three officer accounts (三员分立), passwords shown once.

    Run at the server by whoever installs it; each account goes to a different person."""
    from api.access.users import UserService

    result = UserService(open_context(ctx)).bootstrap()
    if json_out:
        emit_json(result)
        return
    if not result.created:
        say("the system administrator, security administrator and security auditor accounts exist already")
        return
    for account in result.created:
        say(f"{account.username:9} ({role_title(account.role)}): password {account.password}  token {account.token}")
    say(HANDOVER)


HANDOVER = """shown once. Give each account to a different person (no one may hold two of these duties):
  sysadmin  keeps it running: backups, verification, restore drills, reindex
  secadmin  grants access: creates archivists and staff, sets roles, clearances, departments
  auditor   checks who did what: the access log, its verification, alerts
Each chooses their own password at their first sign-in (the web application asks first; or, at the server,
`dangan --user NAME users update NAME --password`); the tokens work at once.
Next: secadmin creates the archivists and staff, e.g.
  dangan --user secadmin users create li.wei --role archivist --clearance secret --password-file pw.txt"""


@app.command("token")
def token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    json_out: JsonOption = False,
) -> None:
    """Issue a new API token for a user and print it once."""
    from api.access.users import UserService

    result = UserService(open_context(ctx)).issue_token(acting_user(ctx), username, label=label)
    if json_out:
        emit_json(result)
    else:
        say(result.token)


def _password(password_file: Path | None, *, required: bool) -> str | None:
    """From a file (scripts, CI) or a hidden prompt on a terminal; never from the command line itself."""
    if password_file is not None:
        return password_file.read_text(encoding="utf-8").rstrip("\n")
    if not required:
        return None
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password; give --password-file FILE")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[list[str], typer.Option(help="archivist, staff, compliance, sysadmin or secadmin (repeatable).")],
    clearance: Annotated[str, typer.Option(help="Highest level the user may see.")] = "internal",
    department: Annotated[list[str] | None, typer.Option(help="Department (repeatable).")] = None,
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    password_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Read the password from this file.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Create a user with roles, a clearance and departments (the password is hashed with Argon2id).

    The password is an initial one: the user chooses their own at their first sign-in."""
    from api.access.accounts import AccountService

    password = _password(password_file, required=True)
    assert password is not None
    result = AccountService(open_context(ctx)).create(
        actor=acting_user(ctx),
        username=username,
        password=password,
        roles=role,
        clearance=clearance,
        departments=department,
        display_name=display_name,
    )
    _print_user(result, json_out)


@app.command("update")
def update(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[list[str] | None, typer.Option(help="Replace the roles (repeatable).")] = None,
    clearance: Annotated[str | None, typer.Option(help="New clearance.")] = None,
    department: Annotated[list[str] | None, typer.Option(help="Replace the departments (repeatable).")] = None,
    password_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Set a new password from this file.")
    ] = None,
    ask_password: Annotated[bool, typer.Option("--password", help="Ask for a new password (hidden prompt).")] = False,
    json_out: JsonOption = False,
) -> None:
    """Change a user's roles, clearance, departments or password; takes effect on their next request.

    A password set for someone else must be changed by them at their next sign-in; one's own clears that."""
    from api.access.accounts import AccountService

    result = AccountService(open_context(ctx)).update(
        actor=acting_user(ctx),
        username=username,
        roles=role,
        clearance=clearance,
        departments=department,
        password=_password(password_file, required=ask_password),
    )
    _print_user(result, json_out)


@app.command("disable")
def disable(ctx: typer.Context, username: str, json_out: JsonOption = False) -> None:
    """Disable a user: their tokens are revoked at once; the history stays."""
    from api.access.accounts import AccountService

    _print_user(
        AccountService(open_context(ctx)).update(actor=acting_user(ctx), username=username, disabled=True), json_out
    )


@app.command("enable")
def enable(ctx: typer.Context, username: str, json_out: JsonOption = False) -> None:
    """Re-enable a disabled user (they log in again to get a token)."""
    from api.access.accounts import AccountService

    result = AccountService(open_context(ctx)).update(actor=acting_user(ctx), username=username, disabled=False)
    _print_user(result, json_out)


@app.command("list")
def list_users(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """All users with roles, clearance, departments and state."""
    from api.access.accounts import AccountService

    result = AccountService(open_context(ctx)).list(acting_user(ctx))
    if json_out:
        emit_json(result)
        return
    if not result.users:
        say("no users")
        return
    print_table(
        ("USER", "STATE", "ROLES", "CLEARANCE", "DEPARTMENTS", "PASSWORD", "CREATED", "NAME"),
        [
            (
                user.username,
                "DISABLED" if user.disabled else "active",
                role_titles(user.roles),
                user.clearance,
                ", ".join(user.departments) or "-",
                "to be changed" if user.password_change_required else "own",
                local_time(user.created_at),
                user.display_name,
            )
            for user in result.users
        ],
    )
    say(f"{len(result.users)} user(s)")


def _print_user(user: UserView, json_out: bool) -> None:
    if json_out:
        emit_json(user)
        return
    name = f" ({user.display_name})" if user.display_name else ""
    departments = ", ".join(user.departments) or "none"
    due = "; must choose a new password at the next sign-in" if user.password_change_required else ""
    say(
        f"{user.username}{name}: {role_titles(user.roles)}; clearance {user.clearance}; departments {departments}; "
        f"{'disabled' if user.disabled else 'active'}{due}; created {local_time(user.created_at)}"
    )
