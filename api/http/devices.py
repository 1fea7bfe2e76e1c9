"""HTTP routes for the scanning-devices register and its maintenance log, and for a batch's digitisation process
metadata (same services as `dangan device ...` and `dangan batch process`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field

from api.http.common import Caller, Id, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.ingest.devices import DeviceService
from api.ingest.process import ProcessService, ScanProcess
from api.views.devices import DeviceList, DeviceView
from api.views.ingest import BatchSummary

router = APIRouter(prefix="/api/v1", tags=["devices"])
Code = Annotated[str, Path(min_length=1, max_length=64, description="The device's code in the register")]
Text = Annotated[str | None, Field(default=None, max_length=255)]


class DeviceIn(Strict):
    code: str = Field(max_length=64, description="The register's code, e.g. SCN-01")
    name: str = Field(max_length=255)
    make: Text = None
    model: Text = None
    serial_number: Text = None
    location: Text = None
    notes: str | None = Field(default=None, max_length=4000)


class MaintenanceIn(Strict):
    kind: Literal["calibration", "service", "repair", "check"] = "calibration"
    result: Literal["pass", "fail", "adjusted"] = "pass"
    next_due: dt.date | None = Field(default=None, description="When the next one is due (YYYY-MM-DD)")
    done_at: dt.datetime | None = Field(default=None, description="When it was done (default: now)")
    notes: str | None = Field(default=None, max_length=4000)


class RetireIn(Strict):
    notes: str | None = Field(default=None, max_length=4000)


class ScanProcessIn(Strict):
    """What a batch declares of its digitisation; a field left out stays as it was."""

    device: str | None = Field(default=None, max_length=64, description="Scanning device code")
    scan_dpi: int | None = Field(default=None, ge=50, le=9600)
    colour_mode: Literal["bitonal", "grey", "colour"] | None = None
    bit_depth: int | None = Field(default=None, ge=1, le=64)
    file_format: str | None = Field(default=None, max_length=64, description="e.g. TIFF/LZW")
    operator: str | None = Field(default=None, max_length=128, description="扫描人 (default: the caller)")
    scan_started: str | None = Field(default=None, max_length=64, description="ISO 8601")
    scan_ended: str | None = Field(default=None, max_length=64, description="ISO 8601")

    def wanted(self) -> ScanProcess:
        return ScanProcess(
            self.device,
            self.scan_dpi,
            self.colour_mode,
            self.bit_depth,
            self.file_format,
            self.operator,
            self.scan_started,
            self.scan_ended,
        )


@router.get("/devices", responses=error_responses(403))
def list_devices(request: Request, caller: Caller) -> DeviceList:
    """Every scanning device with its next calibration due; `warnings` names the overdue ones."""
    return DeviceService(context_of(request)).all(caller)


@router.post("/devices", status_code=201, responses=error_responses(403, 409))
def add_device(request: Request, caller: Caller, body: DeviceIn) -> DeviceView:
    return DeviceService(context_of(request)).add(
        caller,
        code=body.code,
        name=body.name,
        make=body.make,
        model=body.model,
        serial_number=body.serial_number,
        location=body.location,
        notes=body.notes,
        client=client_of(request),
    )


@router.get("/devices/{code}", responses=error_responses(403, 404))
def show_device(request: Request, caller: Caller, code: Code) -> DeviceView:
    """One device with its whole maintenance log."""
    return DeviceService(context_of(request)).show(caller, code)


@router.post("/devices/{code}/maintenance", status_code=201, responses=error_responses(403, 404, 409))
def log_maintenance(request: Request, caller: Caller, code: Code, body: MaintenanceIn) -> DeviceView:
    """Log a calibration, service, repair or check (by the caller)."""
    return DeviceService(context_of(request)).log_maintenance(
        caller,
        code,
        kind=body.kind,
        result=body.result,
        next_due=body.next_due,
        done_at=body.done_at,
        notes=body.notes,
        client=client_of(request),
    )


@router.post("/devices/{code}/retire", responses=error_responses(403, 404, 409))
def retire_device(request: Request, caller: Caller, code: Code, body: RetireIn | None = None) -> DeviceView:
    return DeviceService(context_of(request)).retire(
        caller, code, notes=body.notes if body else None, client=client_of(request)
    )


@router.put("/batches/{batch_id}/process", responses=error_responses(403, 404, 409))
def change_process(request: Request, caller: Caller, batch_id: Id, body: ScanProcessIn) -> BatchSummary:
    """Change what an open (or returned) batch declares of its digitisation: device, settings, operator, times."""
    return ProcessService(context_of(request)).change(caller, batch_id, body.wanted(), client=client_of(request))
