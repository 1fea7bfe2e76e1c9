"""A batch's digitisation process metadata (DA/T 31): the scanning device, the scan settings (resolution, colour
mode, bit depth, file format), the operator (扫描人) and the scanning times, with the device's last calibration
copied at the time so later maintenance does not rewrite history. Declared when the batch is made, changed while
it is open or returned; each page then keeps what its image says (ingest/capture.py) and a mismatch is a page
finding (warn), made at filing (api/ingest/filing.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ingest.devices import (
    RETIRED,
    coded_device_warnings,
    device_view,
    device_warnings,
    find_device,
    last_calibration,
    maintenance_view,
)
from api.views.devices import BatchProcessView
from api.views.ingest import BatchSummary
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.coded import Coded
from archive.errors import Conflict, InvalidInput
from archive.events import AuditAction
from archive.models import Batch, ScannerDevice, utcnow
from archive.permissions import Action, authorize
from archive.values import BatchStatus
from ingest.capture import COLOUR_MODES, DeclaredScan, ImageCapture, read_capture
from ingest.results import OcrResult

CHANGEABLE = (BatchStatus.OPEN, BatchStatus.RETURNED)
BIT_DEPTHS = (1, 2, 4, 8, 16, 24, 32, 48, 64)


@dataclass(frozen=True)
class ScanProcess:
    """What a batch declares of its scan; None: not said (on a change: left as it was)."""

    device: str | None = None
    dpi: int | None = None
    colour_mode: str | None = None
    bit_depth: int | None = None
    file_format: str | None = None
    operator: str | None = None
    scan_started: str | None = None  # ISO 8601 date-time (a day alone: its start)
    scan_ended: str | None = None

    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


def declare(session: Session, batch: Batch, wanted: ScanProcess, actor: Principal) -> list[str]:
    """Check `wanted` and merge it into the batch's process metadata; the device's warnings (overdue, never
    calibrated). A retired or unknown device is refused."""
    stored: dict[str, Any] = dict(batch.process or {})
    settings = dict(stored.get("settings") or {})
    _check(wanted)
    warnings: list[str] = []
    if wanted.device is not None:
        device = find_device(session, wanted.device)
        if device.status == RETIRED:
            raise Conflict(
                f"scanning device {device.code} is retired; name an active device (`dangan device list`)",
                Conflict.DEVICE_RETIRED,
                {"code": device.code},
            )
        stored["device"], stored["calibration"] = _device_facts(device), _calibration(device)
        batch.scan_device = device.code
        warnings = device_warnings(device_view(device))
    for name in ("dpi", "colour_mode", "bit_depth", "file_format"):
        if getattr(wanted, name) is not None:
            settings[name] = getattr(wanted, name)
    stored["settings"] = settings
    for name in ("scan_started", "scan_ended"):
        if getattr(wanted, name) is not None:
            stored[name] = _moment(name, str(getattr(wanted, name)))
    if stored.get("scan_started") and stored.get("scan_ended") and stored["scan_ended"] < stored["scan_started"]:
        raise InvalidInput("the scan cannot end before it started (--scan-start, --scan-end)")
    stored["operator"] = (wanted.operator or "").strip() or stored.get("operator") or actor.username
    stored["declared_by"], stored["declared_at"] = actor.username, utcnow().isoformat()
    batch.process = stored
    return warnings


def check_device_in_use(session: Session, batch: Batch) -> None:
    """Refuse new scans for a batch whose device was retired since it named it: name the device really used."""
    if not batch.scan_device:
        return
    device = session.scalars(select(ScannerDevice).where(ScannerDevice.code == batch.scan_device)).first()
    if device is not None and device.status == RETIRED:
        raise Conflict(
            f"batch {batch.id} names scanning device {device.code}, which is retired; name the device in use "
            f"(`dangan batch process {batch.id} --device CODE`) before adding scans",
            Conflict.DEVICE_RETIRED,
            {"code": device.code},
        )


def batch_device_warnings(context: Context, batch_id: int) -> list[Coded]:
    """What the batch's scanning device's state says now (overdue, never calibrated), for an upload's answer."""
    with context.db.read() as session:
        batch = session.get(Batch, batch_id)
        view = process_view(session, batch) if batch is not None else None
    return [Coded(w.code, m, w.params) for w, m in zip(view.warning_codes, view.warnings, strict=True)] if view else []


def declared_scan(batch: Batch) -> DeclaredScan:
    """What a page's image is compared with."""
    stored = batch.process or {}
    settings, device = stored.get("settings") or {}, stored.get("device") or {}
    return DeclaredScan(
        dpi=settings.get("dpi"),
        colour_mode=settings.get("colour_mode"),
        make=device.get("make"),
        model=device.get("model"),
    )


def process_view(session: Session, batch: Batch) -> BatchProcessView | None:
    """The batch's declared process with the device's state now (overdue or retired since)."""
    warnings: list[Coded] = []
    if batch.scan_device:
        device = session.scalars(select(ScannerDevice).where(ScannerDevice.code == batch.scan_device)).first()
        if device is not None:
            warnings = coded_device_warnings(device_view(device))
    return BatchProcessView.of(batch.process, warnings)


class ProcessService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def change(
        self, actor: Principal, batch_id: int, wanted: ScanProcess, *, client: str | None = None
    ) -> BatchSummary:
        """Change what an open (or returned) batch declares of its scan; pages filed already keep theirs."""
        from api.ingest.batches import BatchService, visible_batch

        authorize(actor.roles, Action.INGEST)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)
            if batch.status not in CHANGEABLE:
                raise Conflict(
                    f"batch {batch_id} is {batch.status}; its process metadata changes only while it is open or "
                    "returned",
                    Conflict.BATCH_NOT_CHANGEABLE,
                    {"batch": batch_id, "status": str(batch.status)},
                )
            warnings = declare(session, batch, wanted, actor)
            record_declaration(session, batch, actor, client, warnings)
            session.flush()
            return BatchService.summary(session, batch)


def record_declaration(
    session: Session, batch: Batch, actor: Principal, client: str | None, warnings: list[str]
) -> None:
    audit.record(
        session,
        actor=actor.username,
        roles=actor.roles,
        action=AuditAction.BATCH_PROCESS,
        target=f"batch:{batch.id}",
        client=client,
        details={"device": batch.scan_device, "settings": (batch.process or {}).get("settings"), "warnings": warnings},
    )


def _check(wanted: ScanProcess) -> None:
    if wanted.dpi is not None and not 50 <= wanted.dpi <= 9600:
        _refuse("dpi", wanted.dpi, "a resolution between 50 and 9600 dpi")
    if wanted.colour_mode is not None and wanted.colour_mode not in COLOUR_MODES:
        _refuse("colour_mode", wanted.colour_mode, f"one of {', '.join(COLOUR_MODES)}")
    if wanted.bit_depth is not None and wanted.bit_depth not in BIT_DEPTHS:
        _refuse("bit_depth", wanted.bit_depth, f"one of {', '.join(map(str, BIT_DEPTHS))}")
    if wanted.file_format is not None and not 0 < len(wanted.file_format.strip()) <= 64:
        _refuse("file_format", wanted.file_format, "a format such as TIFF/LZW or JPEG (up to 64 characters)")
    if wanted.operator is not None and len(wanted.operator) > 128:
        _refuse("operator", wanted.operator[:20] + "…", "a name of up to 128 characters")


def _refuse(setting: str, value: object, expected: str) -> None:
    raise _refusal(setting, value, expected)


def _refusal(setting: str, value: object, expected: str) -> InvalidInput:
    return InvalidInput(
        f"scan setting {setting} {value!r} is not allowed; give {expected}",
        InvalidInput.SCAN_SETTING,
        {"setting": setting, "value": str(value)},
    )


def _moment(name: str, text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise _refusal(name, text, "a date and time such as 2026-12-01T09:30 (ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment > utcnow() + dt.timedelta(days=1):
        _refuse(name, text, "a moment that is not in the future")
    return moment.astimezone(dt.UTC).isoformat()


def _device_facts(device: ScannerDevice) -> dict[str, Any]:
    return {
        "code": device.code,
        "name": device.name,
        "make": device.make,
        "model": device.model,
        "serial_number": device.serial_number,
    }


def _calibration(device: ScannerDevice) -> dict[str, Any] | None:
    last = last_calibration(device)
    return maintenance_view(last).as_json() if last is not None else None


def page_captures(sources: list[Path], media_type: str, result: OcrResult) -> list[ImageCapture | None]:
    """What each page's image says of its capture (its source file's tags; a multi-page TIFF's frame's own)."""
    if media_type == "application/pdf":
        return [None] * len(result.pages)
    frames: Counter[int] = Counter()
    found: list[ImageCapture | None] = []
    for page in result.pages:
        frame, frames[page.source_index] = frames[page.source_index], frames[page.source_index] + 1
        path = sources[page.source_index] if page.source_index < len(sources) else None
        found.append(read_capture(path, frame) if path is not None else None)
    return found


def page_process(
    batch: Batch, submitted_by: str, received_at: dt.datetime, capture: ImageCapture | None
) -> dict[str, Any]:
    """A page's process metadata as the catalogue keeps it (Page.process)."""
    stored = batch.process or {}
    return {
        "image": capture.as_json() if capture is not None else None,
        "uploaded_by": submitted_by,
        "received_at": received_at.isoformat(),
        "device": batch.scan_device,
        "declared": dict(stored.get("settings") or {}),
        "operator": stored.get("operator"),
    }


def imaging_detail(batch: Batch, submitted_by: str, captures: list[ImageCapture | None]) -> dict[str, Any]:
    """The PREMIS imaging event's detail: the device, settings, operator and times the batch declares, the
    device's last calibration as copied, and what the images themselves say."""
    stored = batch.process or {}
    said = sorted(
        {" ".join(p for p in (c.make, c.model) if p) for c in captures if c is not None and (c.make or c.model)}
    )
    resolutions = sorted({round(c.x_dpi) for c in captures if c is not None and c.x_dpi})
    return {
        "batch": batch.id,
        "device": stored.get("device"),
        "settings": stored.get("settings") or {},
        "operator": stored.get("operator") or submitted_by,
        "scan_started": stored.get("scan_started"),
        "scan_ended": stored.get("scan_ended"),
        "calibration": stored.get("calibration"),
        "image_devices": said,
        "image_dpi": resolutions,
        "uploaded_by": submitted_by,
    }
