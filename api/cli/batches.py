"""`dangan batch ...` and `dangan page ...`: the archivist's and reviewer's commands for a box of work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.batch_text import status_lines
from api.cli.commands import IdArgument, JsonOption, SeedOption, acting_user, open_context
from api.cli.devices import (
    DepthOption,
    DeviceOption,
    DpiOption,
    EndOption,
    FormatOption,
    ModeOption,
    OperatorOption,
    StartOption,
    process_lines,
    scan_process,
)
from api.cli.output import emit_json, stdout
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from api.views.base import View

app = typer.Typer(no_args_is_help=True, help="Batches: create, status, acceptance sampling, report, filing.")
pages = typer.Typer(no_args_is_help=True, help="Review pages held by the quality gate.")


def _overrides(values: list[str]) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for value in values:
        key, _, number = value.partition("=")
        try:
            parsed[key.strip()] = float(number)
        except ValueError as exc:
            raise InvalidInput(f"--threshold {value!r} must look like name=number, e.g. min_dpi_fail=250") from exc
    return parsed


def _show(result: dict[str, Any] | View, json_out: bool, lines: list[str]) -> None:
    if json_out:
        emit_json(result)
    else:
        for line in lines:
            stdout.print(line, highlight=False, markup=False)


@app.command("create")
def create(
    ctx: typer.Context,
    fonds: Annotated[str, typer.Option(help="Fonds code (全宗号).")],
    series: Annotated[str | None, typer.Option(help="Series (类别).")] = None,
    box: Annotated[str | None, typer.Option(help="Box or volume number.")] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Manifest (目录): CSV or .xlsx; item/件号, title/题名, date, pages, 责任者, 文号, ...",
        ),
    ] = None,
    languages: Annotated[str | None, typer.Option("--lang", help="OCR languages, e.g. chi_sim+eng.")] = None,
    engine: Annotated[
        str | None, typer.Option(help="OCR engine: auto, tesseract, ppocr or null (default: DANGAN_OCR_ENGINE).")
    ] = None,
    level: Annotated[str | None, typer.Option(help="Access level of the batch's documents.")] = None,
    year: Annotated[int | None, typer.Option(help="Year in reference codes (default: this year).")] = None,
    retention: Annotated[str, typer.Option(help="Retention period in reference codes, e.g. Y30, Y10, YJ.")] = "Y30",
    profile: Annotated[str, typer.Option(help="Quality profile (see `dangan batch profile`).")] = "dat31",
    threshold: Annotated[list[str] | None, typer.Option(help="Override a profile threshold: name=value.")] = None,
    ref_template: Annotated[
        str | None, typer.Option(help="Fonds reference template, e.g. '{fonds}-{year}-{retention}-{item:04d}'.")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A name for the batch.")] = None,
    device: DeviceOption = None,
    scan_dpi: DpiOption = None,
    colour_mode: ModeOption = None,
    bit_depth: DepthOption = None,
    file_format: FormatOption = None,
    operator: OperatorOption = None,
    scan_start: StartOption = None,
    scan_end: EndOption = None,
    json_out: JsonOption = False,
) -> None:
    """Create a batch (one box of work), optionally with a manifest of the items it should contain and what it
    declares of its digitisation (scanning device, settings, operator, times)."""
    from api.ingest.batches import BatchService

    data = manifest.read_bytes() if manifest else None
    result = BatchService(open_context(ctx)).create(
        actor=acting_user(ctx),
        fonds=fonds,
        series=series,
        box=box,
        label=label,
        manifest_data=data,
        manifest_name=manifest.name if manifest else None,
        languages=languages,
        engine=engine,
        level=level,
        year=year,
        retention=retention,
        profile=profile,
        overrides=_overrides(threshold or []),
        ref_template=ref_template,
        process=scan_process(device, scan_dpi, colour_mode, bit_depth, file_format, operator, scan_start, scan_end),
    )
    _show(
        result,
        json_out,
        [
            f"batch {result.id} created: {result.label} ({result.manifest_rows} manifest "
            f"row(s), profile {result.profile}); add files with "
            f"`dangan ingest DIR --batch {result.id}`",
            *(process_lines(result.process) if not json_out else []),
        ],
    )


@app.command("list")
def list_batches(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """All batches with their status."""
    from api.ingest.batches import BatchService

    result = BatchService(open_context(ctx)).all(acting_user(ctx))
    lines = [f"{b.id:4}  {b.status:9} {b.label}" for b in result.batches] or [
        "no batches yet; make one with `dangan batch create`"
    ]
    _show(result, json_out, lines)


@app.command("status")
def status(
    ctx: typer.Context,
    batch_id: IdArgument,
    check: Annotated[str | None, typer.Option(help="List only findings of this check, e.g. blank, skew.")] = None,
    severity: Annotated[str | None, typer.Option(help="List only findings of this severity: fail or warn.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Items per state, every finding by file and page, held pages and the reconciliation with the manifest."""
    from api.ingest.batches import BatchService

    result = BatchService(open_context(ctx)).status(acting_user(ctx), batch_id, check=check, severity=severity)
    lines = status_lines(result, check=check, severity=severity)
    process = [] if json_out else process_lines(result.process)  # the device's warnings go to stderr
    _show(result, json_out, [*lines[:1], *process, *lines[1:]])


@app.command("sample")
def sample(
    ctx: typer.Context,
    batch_id: IdArgument,
    percent: Annotated[float, typer.Option(help="Share of pages to draw (at least 5).")] = 5.0,
    minimum: Annotated[int, typer.Option(min=1, max=1_000_000, help="Draw at least this many pages.")] = 10,
    seed: SeedOption = None,
    json_out: JsonOption = False,
) -> None:
    """Draw the acceptance sample; reviewers then record a verdict per sampled page."""
    from api.ingest.acceptance import AcceptanceService

    result = AcceptanceService(open_context(ctx)).draw(
        batch_id, actor=acting_user(ctx), percent=percent, minimum=minimum, seed=seed
    )
    _show(
        result,
        json_out,
        [
            f"sample {result['sample_id']}: {len(result['pages'])} of {result['population']} "
            f"page(s), seed {result['seed']}"
        ]
        + [f"  page {p['page_id']}: {p['reference_code']} p.{p['page']}" for p in result["pages"]],
    )


@app.command("verdict")
def verdict(
    ctx: typer.Context,
    batch_id: IdArgument,
    page_id: IdArgument,
    outcome: Annotated[str, typer.Argument(help="pass or fail")],
    defect: Annotated[str | None, typer.Option(help="Defect type when it fails, e.g. missing_page, illegible.")] = None,
    note: Annotated[str | None, typer.Option(help="What the reviewer saw.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Record a reviewer's pass or fail for one sampled page."""
    from api.ingest.acceptance import AcceptanceService

    if outcome not in ("pass", "fail"):
        raise InvalidInput("the verdict is `pass` or `fail`")
    result = AcceptanceService(open_context(ctx)).record_verdict(
        batch_id, page_id, actor=acting_user(ctx), passed=outcome == "pass", defect=defect, note=note
    )
    _show(
        result,
        json_out,
        [f"{result['reviewed']} of {len(result['pages'])} sampled page(s) reviewed, {result['passed']} passed"],
    )


@app.command("decide")
def decide(ctx: typer.Context, batch_id: IdArgument, json_out: JsonOption = False) -> None:
    """Accept the batch (≥ 95% passes, no critical defect) or return it to the archivist."""
    from api.ingest.acceptance import AcceptanceService

    result = AcceptanceService(open_context(ctx)).decide(batch_id, actor=acting_user(ctx))
    _show(
        result,
        json_out,
        [
            f"batch {batch_id} {result['decision'].upper()}: pass rate {result['pass_rate']:.1%}"
            + (f"; {'; '.join(result['reasons'])}" if result["reasons"] else "")
        ],
    )


@app.command("report")
def report(
    ctx: typer.Context,
    batch_id: IdArgument,
    html: Annotated[Path | None, typer.Option(help="Also write a readable HTML report here.")] = None,
    json_out: JsonOption = False,
) -> None:
    """The batch report: counts, findings, reconciliation, sample verdicts, the decision, who and when."""
    from api.ingest.acceptance import AcceptanceService
    from api.views.report_html import render_report

    result = AcceptanceService(open_context(ctx)).report(acting_user(ctx), batch_id)
    if html is not None:
        html.write_text(render_report(result), encoding="utf-8")
    _show(
        result,
        json_out,
        [
            f"batch {batch_id}: {result['status']}, decision {result['decision'] or 'none'}"
            + (f"; HTML report written to {html}" if html else "")
        ],
    )


@app.command("file")
def file_batch(
    ctx: typer.Context,
    batch_id: IdArgument,
    justification: Annotated[
        str | None, typer.Option(help="Why it is filed although items are missing or page counts differ.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """File an accepted batch: its documents become part of the archive proper, and staff can find them."""
    from api.ingest.acceptance import AcceptanceService

    result = AcceptanceService(open_context(ctx)).file(batch_id, actor=acting_user(ctx), justification=justification)
    checked = result.get("dat70") or {}
    verdict = f"DA/T 70 checks: {checked.get('grade')} (run {checked.get('run_id')}; `dangan check dat70 --run ID`)"
    if checked.get("error"):
        verdict = f"DA/T 70 checks could not run: {checked['error']}"
    _show(result, json_out, [f"batch {batch_id} filed: {result['documents']} document(s)", verdict])


@app.command("reopen")
def reopen_batch(
    ctx: typer.Context,
    batch_id: IdArgument,
    reason: Annotated[str, typer.Option(help="Why the filed batch must change (goes into the access log).")],
    json_out: JsonOption = False,
) -> None:
    """Reopen a filed batch: its items leave staff's view until it is sampled and filed again."""
    from api.ingest.acceptance import AcceptanceService

    result = AcceptanceService(open_context(ctx)).reopen(batch_id, actor=acting_user(ctx), reason=reason)
    _show(result, json_out, [f"batch {batch_id} reopened: {result['documents']} document(s) back in work"])


fonds = typer.Typer(no_args_is_help=True, help="Fonds: the reference-code scheme.")


@fonds.command("template")
def fonds_template(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Fonds code.")],
    template: Annotated[str, typer.Argument(help="e.g. '{fonds}-{year}-{retention}-{item:04d}'.")],
    reason: Annotated[str, typer.Option(help="Why the scheme changes (goes into the access log).")],
    json_out: JsonOption = False,
) -> None:
    """Change a fonds' reference-code template; items already numbered keep their codes."""
    from api.ingest.templates import TemplateService

    result = TemplateService(open_context(ctx)).change(acting_user(ctx), code, template, reason=reason)
    _show(result, json_out, [f"fonds {code}: {result.previous} -> {result.ref_template}"])


@app.command("profile")
def profile(name: Annotated[str, typer.Argument(help="Profile name.")] = "dat31", json_out: JsonOption = False) -> None:
    """The thresholds of a quality profile and what each means."""
    from ingest.quality.profiles import describe_profile, get_profile

    rows = describe_profile(get_profile(name))
    lines = [f"profile {name}: {len(rows)} threshold(s); override one with --threshold KEY=VALUE"]
    lines += [
        f"  {r['check']:<13} {r['severity']:<5} {r['key']} = {r['threshold']:g} {r['unit']}: {r['meaning']}"
        for r in rows
    ]
    _show({"profile": name, "checks": rows}, json_out, lines)


@pages.command("accept")
def accept(
    ctx: typer.Context,
    page_id: IdArgument,
    note: Annotated[str | None, typer.Option()] = None,
    json_out: JsonOption = False,
) -> None:
    """Accept a held page as it is."""
    from api.ingest.review import ReviewService

    result = ReviewService(open_context(ctx)).accept(page_id, actor=acting_user(ctx), note=note)
    _show(result, json_out, [f"page {page_id} accepted"])


@pages.command("reject")
def reject(
    ctx: typer.Context,
    page_id: IdArgument,
    reason: Annotated[str, typer.Option(help="Why; goes to the rescan request.")],
    json_out: JsonOption = False,
) -> None:
    """Reject a page: a rescan is requested, with the reason recorded."""
    from api.ingest.review import ReviewService

    result = ReviewService(open_context(ctx)).reject(page_id, actor=acting_user(ctx), reason=reason)
    _show(result, json_out, [f"page {page_id} rejected; rescan requested: {reason}"])


@pages.command("replace")
def replace(ctx: typer.Context, page_id: IdArgument, rescan: Path, json_out: JsonOption = False) -> None:
    """Replace a page with a rescan: OCRed, spliced into the PDF/A; the old version is kept."""
    from api.ingest.review import ReviewService
    from api.runners.local import ocr_in_child

    result = ReviewService(open_context(ctx)).replace(page_id, rescan, actor=acting_user(ctx), ocr=ocr_in_child)
    _show(
        result,
        json_out,
        [
            f"page {result.document_id}/{result.page} is now version {result.version} "
            f"(page id {result.page_id}, review {result.review or 'none'})"
        ],
    )
