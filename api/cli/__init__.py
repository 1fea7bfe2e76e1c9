"""The `dangan` command line. `main` is the console script: it maps the one error tree to exit codes."""

from __future__ import annotations

import signal
import sys

import click
import typer

from api.cli import audit, backups, batches, commands, documents, exports, preservation, users
from api.cli.output import emit_json, stderr
from archive.errors import DanganError, ExitCode, InvalidInput

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Dang'an: scanned records in, a searchable, access-controlled, verifiable archive out.",
)
app.callback()(commands.global_options)
preservation.register(app)
commands.register(app)
app.add_typer(users.app, name="users")
app.add_typer(batches.app, name="batch")
app.add_typer(batches.pages, name="page")
app.add_typer(batches.fonds, name="fonds")
app.add_typer(audit.app, name="audit")
app.add_typer(exports.app, name="export")
app.add_typer(backups.app, name="backup")
app.add_typer(documents.app, name="document")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every DanganError becomes its class's exit code and a message on stderr."""
    command = typer.main.get_command(app)
    try:
        returned = command.main(args=argv, prog_name="dangan", standalone_mode=False)
    except DanganError as exc:
        if "--json" in (argv if argv is not None else sys.argv):
            emit_json({"error": exc.code, "message": exc.message})
        stderr.print(f"error: {exc.message}", highlight=False, markup=False)
        return exc.exit_code
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except typer.Abort:
        stderr.print("aborted")
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # typer's own copy of click raises these for usage errors
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            stderr.print(f"error: {exc}", highlight=False, markup=False)
        return int(getattr(exc, "exit_code", InvalidInput.exit_code))
    except click.exceptions.Abort:
        stderr.print("aborted")
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        stderr.print("interrupted; unfinished jobs are resumed by the next `dangan serve` or `dangan ingest --resume`")
        return ExitCode.INTERRUPTED
    return returned if isinstance(returned, int) else ExitCode.OK


def console_script() -> None:
    signal.signal(signal.SIGTERM, _stop)  # a stopped process cleans up as after Ctrl-C (workers, temp files)
    sys.exit(main())


def _stop(signum: int, _frame: object) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise KeyboardInterrupt
