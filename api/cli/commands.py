"""Operator and archivist commands: init, ingest, reindex, verify, serve, sample, run (search: api/cli/searching.py)."""

from __future__ import annotations

import getpass
import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.output import (
    configure_logging,
    detail,
    emit_json,
    mode,
    say,
    set_mode,
    stderr,
    stdout,
)
from archive.access import Principal
from archive.errors import DanganError, ExitCode, InvalidInput
from archive.values import AccessLevel

if TYPE_CHECKING:
    from api.wiring import Context

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
MAX_ID = 2**63 - 1  # the catalogue's integer columns
IdArgument = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The id (see the `--json` output of a listing).")]
SeedOption = Annotated[
    int | None, typer.Option(min=0, max=2**31 - 1, help="Seed to reproduce a draw (default: random, recorded).")
]


def _print_version(value: bool) -> None:
    if value:
        say(f"dangan {installed_version()}")
        raise typer.Exit(ExitCode.OK)


def installed_version() -> str:
    try:
        return importlib.metadata.version("dangan")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run `make install`)"


def global_options(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="Data directory (default: $DANGAN_HOME or ./var).")] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="The account this command acts as (default: $DANGAN_CLI_USER, else your login name)."
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors and the result: no progress, no informational lines.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="More detail: log messages (-v info, -vv debug) and the traceback of an unexpected error.",
        ),
    ] = 0,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit.")
    ] = False,
) -> None:
    """Options for every command; give them before the command (`dangan --quiet ingest ...`)."""
    if quiet and verbose:
        raise InvalidInput("--quiet and --verbose contradict each other; give one of them")
    set_mode(quiet=quiet, verbose=verbose)
    configure_logging()
    ctx.obj = {"home": home, "user": user}


def open_context(ctx: typer.Context) -> Context:
    """Settings are read once here, for the whole command."""
    from api.wiring import build_context, load_settings

    root = ctx.find_root()
    opened: Context | None = root.meta.get("dangan.context")
    if opened is not None:
        return opened
    home = (root.obj or {}).get("home")
    context = build_context(load_settings(home))
    settings = context.settings
    detail(f"home {settings.home_dir}; search engine {settings.search_engine}; storage {settings.storage.backend}")
    root.meta["dangan.context"] = context
    ctx.call_on_close(lambda: _finish(context))
    return context


def _finish(context: Context) -> None:
    """Every command ends by sealing the log when a checkpoint is due, then closes the context."""
    from api.access.auditing import AuditService

    try:
        AuditService(context).checkpoint_if_due()
    except DanganError as exc:
        stderr.print(f"warning: no audit checkpoint written: {exc.message}", highlight=False, markup=False)
    finally:
        context.close()


def acting_user(ctx: typer.Context) -> Principal:
    """The named account a command acts as: --user, else DANGAN_CLI_USER, else the operator's login name.
    Every action it takes is that account's, checked against the same permission table as the API."""
    from api.access.users import UserService

    context = open_context(ctx)
    root = ctx.find_root()
    name = (root.obj or {}).get("user") or context.settings.cli_user or getpass.getuser()
    return UserService(context).principal(str(name))


def open_as(ctx: typer.Context) -> tuple[Context, Principal]:
    return open_context(ctx), acting_user(ctx)


def lowered(principal: Principal, clearance: str | None) -> Principal:
    """`--clearance` searches as a lower clearance would (never a higher one than the account's)."""
    if clearance is None:
        return principal
    level = min(AccessLevel.parse(clearance), principal.clearance)
    return Principal(principal.username, principal.roles, level, principal.departments)


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Image files (TIFF, PNG, JPEG), PDFs, or folders of them.")],
    languages: Annotated[str | None, typer.Option("--lang", help="OCR languages, e.g. chi_sim+eng.")] = None,
    engine: Annotated[
        str | None, typer.Option(help="OCR engine: auto, tesseract, ppocr or null (default: DANGAN_OCR_ENGINE).")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Access level of the new documents.")] = None,
    fonds: Annotated[str | None, typer.Option(help="Fonds code of the new documents.")] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: from the file name).")] = None,
    batch: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, help="Batch to add to (default: a new ad-hoc batch).")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="No longer needed: every run resumes unfinished jobs (kept for old scripts).")
    ] = False,
    watch: Annotated[bool, typer.Option(help="Keep watching the folder (a hot folder) until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between looks at a watched folder.")] = 2.0,
    watch_cycles: Annotated[int | None, typer.Option(hidden=True)] = None,
    json_out: JsonOption = False,
) -> None:
    """OCR and archive scans: a file, a sub-folder of page images, or a manifest row is one item.

    ZIP files are unpacked safely. With --lang/--engine/--level/--fonds and no --batch, an ad-hoc batch is made."""
    from api.cli.ingesting import ingest_paths, print_ingest_summary, stopping_error  # OCR, PDF: only when ingesting
    from api.cli.watch import watch_folder
    from api.ingest.intake import IngestRequest

    context, actor = open_as(ctx)
    if watch:
        if batch is None or len(paths) != 1 or not paths[0].is_dir():
            raise InvalidInput("--watch needs one folder and --batch ID")
        counts = watch_folder(context, paths[0], batch_id=batch, actor=actor, interval=interval, cycles=watch_cycles)
        if json_out:
            emit_json(counts)
        else:
            say(f"watch ended: {counts.submitted} queued, {counts.skipped} skipped, {counts.rejected} rejected")
        return
    request = IngestRequest(
        paths=paths,
        batch_id=batch,
        languages=languages,
        engine=engine,
        level=level,
        fonds=fonds,
        title=title,
        resume=resume,
    )
    outcome = ingest_paths(context, request, actor=actor)
    if json_out:
        emit_json(outcome)
    else:
        print_ingest_summary(outcome)
    if (line := stopping_error(outcome)) is not None:
        stderr.print(line, highlight=False, markup=False)
    raise typer.Exit(outcome.exit_code())


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="HTTP worker processes (default 1; one job runner).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); uploads are OCRed by worker processes."""
    from api.http.server import serve_forever

    log_level = "warning" if mode.quiet else "debug" if mode.verbose > 1 else "info"
    serve_forever(open_context(ctx), host=host, port=port, workers=workers, say=say, log_level=log_level)
    raise typer.Exit(ExitCode.INTERRUPTED)  # serving ends only when stopped (SIGTERM, Ctrl-C), whatever uvicorn says


def sample(
    folder: Annotated[Path, typer.Argument(help="Where to write the sample scans.")],
    json_out: JsonOption = False,
) -> None:
    """Write a small batch of sample scans (English and Chinese A4 pages with scan noise and skew)."""
    from ingest.samples import write_sample_batch  # imaging libraries: only for this command

    written = [str(path) for path in write_sample_batch(folder)]
    if json_out:
        emit_json({"files": written})
    else:
        for path in written:
            stdout.print(path, highlight=False)


def run(
    ctx: typer.Context,
    batch: Annotated[
        Path | None, typer.Option(help="A folder of scans to ingest (default: generated samples).")
    ] = None,
) -> None:
    """`make run`: initialise, create the admin, ingest a batch, then serve with an example search."""
    from api.cli.demo import run_demo

    run_demo(open_context(ctx), batch=batch)


def register(app: typer.Typer) -> None:
    for command in (ingest, serve, sample, run):  # init, reindex, verify: api/cli/preservation.py
        app.command()(command)
