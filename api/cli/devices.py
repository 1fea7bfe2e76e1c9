"""`dangan device ...`: the scanning-devices register (扫描设备) and its maintenance log; and `dangan batch
process BATCH ...`: change what an open batch declares of its digitisation (device, settings, operator, times)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.commands import IdArgument, JsonOption, acting_user, open_context
from api.cli.output import emit_json, say, stderr
from archive.errors import InvalidInput

if TYPE_CHECKING:
    from api.ingest.process import ScanProcess
    from api.views.devices import BatchProcessView, DeviceView

app = typer.Typer(no_args_is_help=True, help="Scanning devices: register, list, show, calibrate, retire.")
Code = Annotated[str, typer.Argument(help="The device's code in the register, e.g. SCN-01.")]
Notes = Annotated[str | None, typer.Option(help="A note, kept with the entry.")]

DeviceOption = Annotated[str | None, typer.Option("--device", help="Scanning device code (`dangan device list`).")]
DpiOption = Annotated[int | None, typer.Option("--scan-dpi", help="Declared scan resolution in dpi, e.g. 300.")]
ModeOption = Annotated[str | None, typer.Option("--colour-mode", help="Declared colour mode: bitonal, grey, colour.")]
DepthOption = Annotated[int | None, typer.Option("--bit-depth", help="Declared bit depth, e.g. 1, 8, 24.")]
FormatOption = Annotated[str | None, typer.Option("--file-format", help="File format/compression, e.g. TIFF/LZW.")]
OperatorOption = Annotated[str | None, typer.Option("--operator", help="扫描人: who scans (default: you).")]
StartOption = Annotated[str | None, typer.Option("--scan-start", help="When scanning started (ISO 8601).")]
EndOption = Annotated[str | None, typer.Option("--scan-end", help="When scanning ended (ISO 8601).")]


def scan_process(
    device: str | None,
    dpi: int | None,
    colour_mode: str | None,
    bit_depth: int | None,
    file_format: str | None,
    operator: str | None,
    scan_start: str | None,
    scan_end: str | None,
) -> ScanProcess:
    from api.ingest.process import ScanProcess

    return ScanProcess(device, dpi, colour_mode, bit_depth, file_format, operator, scan_start, scan_end)


def process_lines(process: BatchProcessView | None) -> list[str]:
    """A batch's process metadata in a few lines (and its device's warnings, on stderr)."""
    if process is None:
        return []
    settings = process.settings
    said = ", ".join(
        part
        for part in (
            f"{settings.dpi} dpi" if settings.dpi else "",
            settings.colour_mode or "",
            f"{settings.bit_depth}-bit" if settings.bit_depth else "",
            settings.file_format or "",
        )
        if part
    )
    lines = [f"device {process.device or '-'}  {said or 'no settings declared'}  operator {process.operator or '-'}"]
    if process.calibration is not None:
        c = process.calibration
        lines.append(f"last calibration {c.done_at[:10]} {c.result}, next due {c.next_due or '-'}")
    for warning in process.warnings:
        stderr.print(f"warning: {warning}", highlight=False, markup=False)
    return lines


def _day(value: str | None, option: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput(f"{option} {value!r} is not a day (YYYY-MM-DD)") from None


def _print(device: DeviceView, json_out: bool) -> None:
    if json_out:
        emit_json(device)
        return
    say(f"{device.code}  {device.name}  [{device.status}]")
    for label, value in (
        ("make/model", " ".join(p for p in (device.make, device.model) if p)),
        ("serial", device.serial_number),
        ("location", device.location),
        ("next calibration due", (device.next_due or "-") + (" (OVERDUE)" if device.calibration_overdue else "")),
    ):
        if value:
            say(f"  {label}: {value}")
    for entry in device.maintenance:
        due = f", next due {entry.next_due}" if entry.next_due else ""
        note = f"  {entry.notes}" if entry.notes else ""
        say(f"  {entry.done_at[:16]} {entry.kind} {entry.result} by {entry.done_by}{due}{note}")


@app.command("add")
def add(
    ctx: typer.Context,
    code: Code,
    name: Annotated[str, typer.Option(help="What the device is called, e.g. 'Fujitsu fi-7160 room 203'.")],
    make: Annotated[str | None, typer.Option(help="Maker, as the images' EXIF Make says it.")] = None,
    model: Annotated[str | None, typer.Option(help="Model, as the images' EXIF Model says it.")] = None,
    serial: Annotated[str | None, typer.Option(help="Serial number.")] = None,
    location: Annotated[str | None, typer.Option(help="Where it stands.")] = None,
    notes: Notes = None,
    json_out: JsonOption = False,
) -> None:
    """Register a scanning device."""
    from api.ingest.devices import DeviceService

    device = DeviceService(open_context(ctx)).add(
        acting_user(ctx),
        code=code,
        name=name,
        make=make,
        model=model,
        serial_number=serial,
        location=location,
        notes=notes,
    )
    _print(device, json_out)


@app.command("list")
def list_devices(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every registered device with its status and next calibration due; warns of overdue calibrations."""
    from api.ingest.devices import DeviceService

    listed = DeviceService(open_context(ctx)).all(acting_user(ctx))
    if json_out:
        emit_json(listed)
        return
    if not listed.devices:
        say("no scanning devices registered yet; add one with `dangan device add CODE --name ...`")
    for d in listed.devices:
        due = (d.next_due or "never calibrated") + (" OVERDUE" if d.calibration_overdue else "")
        say(f"{d.code:12} {d.status:8} next due {due:24} {d.name}")
    for warning in listed.warnings:
        stderr.print(f"warning: {warning}", highlight=False, markup=False)


@app.command("show")
def show(ctx: typer.Context, code: Code, json_out: JsonOption = False) -> None:
    """One device with its whole maintenance log."""
    from api.ingest.devices import DeviceService

    _print(DeviceService(open_context(ctx)).show(acting_user(ctx), code), json_out)


@app.command("calibrate")
def calibrate(
    ctx: typer.Context,
    code: Code,
    result: Annotated[str, typer.Option(help="pass, fail or adjusted.")] = "pass",
    next_due: Annotated[str | None, typer.Option(help="When the next calibration is due (YYYY-MM-DD).")] = None,
    kind: Annotated[str, typer.Option(help="calibration, service, repair or check.")] = "calibration",
    done_on: Annotated[str | None, typer.Option(help="When it was done (ISO 8601; default: now).")] = None,
    notes: Notes = None,
    json_out: JsonOption = False,
) -> None:
    """Log a calibration (or, with --kind, a service, repair or check) in the device's maintenance log."""
    from api.ingest.devices import DeviceService

    try:
        done_at = dt.datetime.fromisoformat(done_on) if done_on else None
    except ValueError:
        raise InvalidInput(f"--done-on {done_on!r} is not a date and time (ISO 8601)") from None
    device = DeviceService(open_context(ctx)).log_maintenance(
        acting_user(ctx),
        code,
        kind=kind,
        result=result,
        next_due=_day(next_due, "--next-due"),
        done_at=done_at,
        notes=notes,
    )
    _print(device, json_out)


@app.command("retire")
def retire(ctx: typer.Context, code: Code, notes: Notes = None, json_out: JsonOption = False) -> None:
    """Take a device out of use: no batch may name it from now on (batches that did keep what they recorded)."""
    from api.ingest.devices import DeviceService

    _print(DeviceService(open_context(ctx)).retire(acting_user(ctx), code, notes=notes), json_out)


def process(
    ctx: typer.Context,
    batch_id: IdArgument,
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
    """Change what an open (or returned) batch declares of its digitisation; what is not given stays."""
    from api.ingest.process import ProcessService

    wanted = scan_process(device, scan_dpi, colour_mode, bit_depth, file_format, operator, scan_start, scan_end)
    summary = ProcessService(open_context(ctx)).change(acting_user(ctx), batch_id, wanted)
    if json_out:
        emit_json(summary)
        return
    say(f"batch {summary.id}: process metadata recorded")
    for line in process_lines(summary.process):
        say(line)
