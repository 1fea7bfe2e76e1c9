"""Operator and archivist commands: init, ingest, search, reindex, verify, serve, sample, run."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from api.access.auditing import AuditService
from api.access.users import UserService
from api.cli.ingesting import ingest_paths, print_ingest_summary
from api.cli.output import emit_json, progress, say, stderr, stdout
from api.cli.watch import watch_folder
from api.preservation.backups import BACKUP_LEVEL, BackupService
from api.preservation.maintenance import MaintenanceService
from api.search.service import SearchService
from api.wiring import Context, build_context, load_settings
from archive.access import Principal
from archive.dates import range_bound
from archive.errors import DanganError, InvalidInput
from archive.values import AccessLevel
from ingest.samples import write_sample_batch
from search.types import SearchFilters

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
MAX_ID = 2**63 - 1  # the catalogue's integer columns
IdArgument = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The id (see the `--json` output of a listing).")]
SeedOption = Annotated[
    int | None, typer.Option(min=0, max=2**31 - 1, help="Seed to reproduce a draw (default: random, recorded).")
]


def global_options(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="Data directory (default: $DANGAN_HOME or ./var).")] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user", help="The account this command acts as (default: $DANGAN_CLI_USER, else your login name)."
        ),
    ] = None,
) -> None:
    ctx.obj = {"home": home, "user": user}


def open_context(ctx: typer.Context) -> Context:
    """Settings are read once here, for the whole command."""
    root = ctx.find_root()
    opened: Context | None = root.meta.get("dangan.context")
    if opened is not None:
        return opened
    home = (root.obj or {}).get("home")
    context = build_context(load_settings(home))
    root.meta["dangan.context"] = context
    ctx.call_on_close(lambda: _finish(context))
    return context


def _finish(context: Context) -> None:
    """Every command ends by sealing the log when a checkpoint is due, then closes the context."""
    try:
        AuditService(context).checkpoint_if_due()
    except DanganError as exc:
        stderr.print(f"warning: no audit checkpoint written: {exc.message}", highlight=False, markup=False)
    finally:
        context.close()


def acting_user(ctx: typer.Context) -> Principal:
    """The named account a command acts as: --user, else DANGAN_CLI_USER, else the operator's login name.
    Every action it takes is that account's, checked against the same permission table as the API."""
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


def init(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Create the data directory, migrate the catalogue, create the search index."""
    result = MaintenanceService(open_context(ctx)).initialise()
    if json_out:
        emit_json(result)
    else:
        for name, value in result.items():
            stdout.print(f"{name:9} {value}", highlight=False)


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Image files (TIFF, PNG, JPEG), PDFs, or folders of them.")],
    languages: Annotated[str | None, typer.Option("--lang", help="OCR languages, e.g. chi_sim+eng.")] = None,
    level: Annotated[str | None, typer.Option(help="Access level of the new documents.")] = None,
    fonds: Annotated[str | None, typer.Option(help="Fonds code of the new documents.")] = None,
    title: Annotated[str | None, typer.Option(help="Title (default: from the file name).")] = None,
    batch: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, help="Batch to add to (default: a new ad-hoc batch).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Also run jobs an earlier run left unfinished.")] = False,
    watch: Annotated[bool, typer.Option(help="Keep watching the folder (a hot folder) until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between looks at a watched folder.")] = 2.0,
    watch_cycles: Annotated[int | None, typer.Option(hidden=True)] = None,
    json_out: JsonOption = False,
) -> None:
    """OCR and archive scans: a file, a sub-folder of page images, or a manifest row is one item.

    ZIP files are unpacked safely. With --lang/--level/--fonds and no --batch, an ad-hoc batch is made."""
    context, actor = open_as(ctx)
    if watch:
        if batch is None or len(paths) != 1 or not paths[0].is_dir():
            raise InvalidInput("--watch needs one folder and --batch ID")
        counts = watch_folder(context, paths[0], batch_id=batch, actor=actor, interval=interval, cycles=watch_cycles)
        if json_out:
            emit_json(counts)
        return
    outcome = ingest_paths(
        context,
        paths,
        actor=actor,
        batch_id=batch,
        languages=languages,
        level=level,
        fonds=fonds,
        title=title,
        resume=resume,
    )
    if json_out:
        emit_json(outcome.as_dict())
    else:
        print_ingest_summary(outcome)
    raise typer.Exit(outcome.exit_code())


def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "a phrase", 汉字, AND/OR/NOT, title: ref: fonds: series: type: date:[2020 to 2021].'
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=100, help="Documents per page.")] = 20,
    page: Annotated[int, typer.Option(min=1, max=10_000, help="Page of results.")] = 1,
    sort: Annotated[str, typer.Option(help="relevance or date.")] = "relevance",
    fonds: Annotated[str | None, typer.Option(help="Only this fonds.")] = None,
    series: Annotated[str | None, typer.Option(help="Only this series.")] = None,
    batch: Annotated[int | None, typer.Option(min=1, max=MAX_ID, help="Only this batch.")] = None,
    date_from: Annotated[str | None, typer.Option(help="Dated on or after (YYYY[-MM[-DD]]).")] = None,
    date_to: Annotated[str | None, typer.Option(help="Dated on or before.")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Original format: tiff, jpeg, png, pdf.")] = None,
    language: Annotated[str | None, typer.Option(help="OCR languages, e.g. chi_sim+eng.")] = None,
    level: Annotated[str | None, typer.Option(help="Only this access level.")] = None,
    clearance: Annotated[str | None, typer.Option(help="Search as this clearance (default: everything).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Full-text search; ranked documents with their matching pages, and facet counts."""
    filters = SearchFilters(
        fonds=fonds,
        series=series,
        batch_id=batch,
        date_from=range_bound(date_from),
        date_to=range_bound(date_to, end=True),
        doc_type=doc_type,
        language=language,
        level=int(AccessLevel.parse(level)) if level else None,
    )
    context, actor = open_as(ctx)
    result = SearchService(context).search(
        lowered(actor, clearance), query, limit=limit, page=page, filters=filters, sort=sort
    )
    if json_out:
        emit_json(result)
        return
    total = f"{result['total']}" if result["total_is_exact"] else f"at least {result['total']}"
    stdout.print(f"{total} document(s) match {query!r}", highlight=False)
    for rank, hit in enumerate(result["hits"], start=(page - 1) * limit + 1):
        pages = ", ".join(str(p) for p in hit["pages"])
        stdout.print(
            f"{rank:3}. {hit['reference_code']}  {hit['title']}  (pages {pages}; score {hit['score']})",
            highlight=False,
            markup=False,
        )
    for name, counts in result["facets"].items():
        if counts:
            stdout.print(
                f"  {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False, markup=False
            )


def suggest(
    ctx: typer.Context,
    typed: Annotated[str, typer.Argument(help="The start of a title or reference code.")],
    limit: Annotated[int, typer.Option(help="How many suggestions.")] = 8,
    clearance: Annotated[str | None, typer.Option(help="Suggest as this clearance (default: everything).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Titles and reference codes that complete what you typed (what the search box offers as you type)."""
    context, actor = open_as(ctx)
    result = SearchService(context).suggest(lowered(actor, clearance), typed, limit=limit)
    if json_out:
        emit_json(result)
        return
    for item in result["suggestions"]:
        stdout.print(f"{item['reference_code']}  {item['title']}", highlight=False, markup=False)


def reindex(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Rebuild the search index from the catalogue (searches keep working until the new one is swapped in)."""
    context, actor = open_as(ctx)
    with progress("indexing", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        result = MaintenanceService(context).reindex(actor, progress=step)
    if json_out:
        emit_json(result)
    else:
        stdout.print(
            f"indexed {result['documents']} document(s) into {result['index']} ({result['engine']})", highlight=False
        )


def verify(
    ctx: typer.Context,
    level: Annotated[
        str,
        typer.Option(
            help="structure (exists + size), sample (re-hash --percent of objects), full; "
            "backup (a --target checked fully against its manifest and the catalogue)."
        ),
    ] = "full",
    target: Annotated[str | None, typer.Option(help="Verify this backup target instead of the primary store.")] = None,
    percent: Annotated[float, typer.Option(help="Share of objects re-hashed at the sample level.")] = 5.0,
    seed: SeedOption = None,
    list_runs: Annotated[bool, typer.Option("--list", help="List the stored verification runs instead.")] = False,
    limit: Annotated[int, typer.Option(help="Most runs to list with --list.")] = 20,
    json_out: JsonOption = False,
) -> None:
    """Verify the primary store, or a backup --target; exit 0 when clean, 10 with warnings only, 9 on errors."""
    context, actor = open_as(ctx)
    service = MaintenanceService(context)
    if list_runs:
        runs = service.verification_runs(actor, limit=limit)
        if json_out:
            emit_json({"runs": runs})
        else:
            _print_runs(runs)
        return
    with progress(f"verifying ({level})", 0) as bar:

        def step(done: int, total: int) -> None:
            bar.set_total(total)
            bar.set(done)

        if target is not None:
            report = BackupService(context).verify(
                actor, target=target, level=level, percent=percent, seed=seed, progress=step
            )
        elif level == BACKUP_LEVEL:
            raise InvalidInput("--level backup needs --target NAME")
        else:
            report = service.verify(actor, level=level, percent=percent, seed=seed, progress=step)
    if json_out:
        emit_json(report)
    else:
        _print_verification(report)
    raise typer.Exit(report["exit_code"])


def _print_verification(report: dict[str, Any]) -> None:
    counts = ", ".join(f"{name}: {count}" for name, count in report["counts"].items())
    sampled = f" (seed {report['seed']}, {report['percent']}%)" if report["level"] == "sample" else ""
    stdout.print(
        f"run {report.get('run_id', '-')}: {report['level']} check{sampled} of {report['objects_checked']} "
        f"object(s) on the {report['store']} store, {report['objects_hashed']} hashed, "
        f"{report['bytes_read']:,} bytes in {report['seconds']} s",
        highlight=False,
    )
    stdout.print(counts, highlight=False)
    for finding in report["findings"]:
        where = f"document {finding['document_id']} ({finding['reference_code']}) {finding['role']} "
        if finding["document_id"] is None:
            where = ""
        partner = f" <-> {finding['partner_key']}" if finding["partner_key"] else ""
        stdout.print(
            f"  {finding['category'].upper():15} {where}{finding['key']}{partner}", highlight=False, markup=False
        )
    for note in report["notes"]:
        stdout.print(f"note: {note}", highlight=False, markup=False)
    verdicts = {
        "clean": "clean",
        "warnings": "WARNINGS: untracked objects are in the store; check them, then keep or delete them",
        "errors": "ERRORS: restore the listed objects from a backup",
    }
    stdout.print(verdicts[report["status"]], highlight=False)


def _print_runs(runs: list[dict[str, Any]]) -> None:
    if not runs:
        stdout.print("no verification runs yet", highlight=False)
    for run in runs:
        found = ", ".join(f"{name} {count}" for name, count in run["counts"].items() if count) or "nothing found"
        stdout.print(
            f"{run['id']:5}  {run['started_at'][:19]}  {run['level']:9} {run['status']:8} "
            f"{run['objects_checked']} object(s), {run['seconds']} s, by {run['actor']}: {found}",
            highlight=False,
            markup=False,
        )


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="HTTP worker processes (default 1; one job runner).")
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); uploads are OCRed by worker processes."""
    from api.http.server import serve_forever

    serve_forever(open_context(ctx), host=host, port=port, workers=workers, say=say)


def sample(
    folder: Annotated[Path, typer.Argument(help="Where to write the sample scans.")],
    json_out: JsonOption = False,
) -> None:
    """Write a small batch of sample scans (English and Chinese A4 pages with scan noise and skew)."""
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
    for command in (init, ingest, search, suggest, reindex, verify, serve, sample, run):
        app.command()(command)
