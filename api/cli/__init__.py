"""The `dangan` command line. `main` is the console script: it maps the one error tree to exit codes.

Every failure ends in one line on stderr and an exit code from `archive.errors.ExitCode`: a usage error
(unknown command or option, missing or malformed argument) exits 2 and names the problem; a DanganError exits
with its class's code; an unexpected error exits 1 and shows its traceback with --verbose."""

from __future__ import annotations

import re
import signal
import sys
import traceback

import typer

from api.cli import (
    audit,
    backups,
    batches,
    catalogue,
    commands,
    dat70,
    devices,
    documents,
    exports,
    jobs,
    keys,
    preservation,
    restoring,
    retention,
    scheduler,
    searching,
    status,
    users,
)
from api.cli.output import emit_json, mode, set_mode, stderr
from archive.errors import DanganError, ExitCode, InvalidInput

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Dang'an: scanned records in, a searchable, access-controlled, verifiable archive out.",
)
app.callback()(commands.global_options)
preservation.register(app)
restoring.register(app)
commands.register(app)
searching.register(app)
status.register(app)
app.add_typer(users.app, name="users")
app.add_typer(batches.app, name="batch")
app.add_typer(batches.pages, name="page")
app.add_typer(batches.fonds, name="fonds")
app.add_typer(audit.app, name="audit")
app.add_typer(exports.app, name="export")
app.add_typer(backups.app, name="backup")
app.add_typer(documents.app, name="document")
app.add_typer(jobs.app, name="jobs")
app.add_typer(scheduler.app, name="scheduler")
app.add_typer(dat70.app, name="check")
app.add_typer(retention.app, name="retention")
app.add_typer(devices.app, name="device")
batches.app.command("process")(devices.process)
app.add_typer(catalogue.app, name="catalogue")
app.add_typer(catalogue.series, name="series")
app.add_typer(keys.app, name="keys")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every DanganError becomes its class's exit code and a message on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    set_mode()  # each run starts plain (tests run many in one process); --quiet/--verbose set it again
    command = typer.main.get_command(app)
    try:
        returned = command.main(args=args, prog_name="dangan", standalone_mode=False)
    except DanganError as exc:
        return _fail(args, exc.code, exc.message, exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        stderr.print("aborted")
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # typer's own copy of click raises these for usage errors
        if _is_help(exc):
            exc.show()  # type: ignore[attr-defined]  # `dangan` or `dangan users` alone: the help
            return ExitCode.INVALID_INPUT
        return _fail(args, InvalidInput.code, usage_message(exc), ExitCode.INVALID_INPUT)
    except KeyboardInterrupt:
        returned = ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: one line, or with --verbose the whole traceback
        if mode.verbose:
            traceback.print_exc()
        hint = "" if mode.verbose else "; run again with --verbose for the traceback"
        text = " ".join(str(exc).split())
        return _fail(args, "error", f"unexpected {type(exc).__name__}: {text}{hint}", ExitCode.FAILED)
    if _signalled:
        returned = ExitCode.INTERRUPTED
    if returned == ExitCode.INTERRUPTED:  # typer turns Ctrl-C (and our SIGTERM) into this exit code
        stderr.print("interrupted; unfinished jobs resume by themselves at the next `dangan serve` or `dangan ingest`")
    return returned if isinstance(returned, int) else ExitCode.OK


def _fail(args: list[str], code: str, message: str, exit_code: int) -> int:
    if "--json" in args:
        emit_json({"error": code, "message": message})
    stderr.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    return exit_code


def _is_help(exc: typer.TyperException) -> bool:
    return type(exc).__name__ == "NoArgsIsHelpError"


PHRASES = (  # typer checks values with pydantic; its wording, in ours
    (r"Input should be a valid integer, unable to parse string as an integer", "must be a whole number"),
    (r"Input should be a valid integer, got a number with a fractional part", "must be a whole number"),
    (r"Input should be a valid number, unable to parse string as a number", "must be a number"),
    (r"Input should be a valid boolean, unable to interpret input", "must be true or false"),
    (r"Input should be greater than or equal to", "must be at least"),
    (r"Input should be less than or equal to", "must be at most"),
    (r"Input should be greater than", "must be more than"),
    (r"Input should be less than", "must be less than"),
    (r"Input should be", "must be"),
)


def usage_message(exc: typer.TyperException) -> str:
    """Typer's message as one line, with the command whose help explains it (its capitals are kept: scripts
    match `Invalid value`): `No such command 'serach'; did you mean 'search'?`, or
    `Missing argument 'query'; see 'dangan search --help'`."""
    text = " ".join(exc.format_message().split())
    for pattern, replacement in PHRASES:
        text = re.sub(pattern, replacement, text)
    text = text.replace(". Did you mean", "; did you mean").removesuffix(".")
    context = getattr(exc, "ctx", None)
    if context is not None and context.command_path and "did you mean" not in text:
        text += f"; see '{context.command_path} --help'"
    return text


def console_script() -> None:
    signal.signal(signal.SIGTERM, _stop)  # a stopped process cleans up as after Ctrl-C (workers, temp files)
    sys.exit(main())


_signalled: list[int] = []  # a SIGTERM came: the run ends 130 even where a library swallowed it (uvicorn)


def _stop(signum: int, _frame: object) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    _signalled.append(signum)
    raise KeyboardInterrupt
