"""Typed results of the scanning-devices register and of a batch's digitisation process metadata."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.views.base import CodedView, View
from archive.coded import Coded


class MaintenanceView(View):
    """One entry of a device's maintenance log."""

    kind: str = Field(description="calibration, service, repair or check")
    done_at: str
    done_by: str
    result: str = Field(description="pass, fail or adjusted")
    next_due: str | None = Field(description="The day the next one is due (YYYY-MM-DD); null: not set")
    notes: str | None


class DeviceView(View):
    """A scanning device (扫描设备) of the register, with its last calibration and when the next is due."""

    code: str
    name: str
    make: str | None
    model: str | None
    serial_number: str | None
    location: str | None
    status: str = Field(description="active or retired")
    notes: str | None
    created_by: str
    created_at: str
    retired_at: str | None
    last_calibration: MaintenanceView | None
    next_due: str | None = Field(description="When its next calibration is due (from the last calibration)")
    calibration_overdue: bool = Field(description="The next calibration's day has passed (an active device)")
    maintenance: list[MaintenanceView] = Field(default_factory=list, description="The log, oldest first (show)")
    links: dict[str, str]


class DeviceList(View):
    devices: list[DeviceView]
    warnings: list[str] = Field(description="Active devices whose calibration is overdue or never logged")


class ScanSettingsView(View):
    dpi: int | None = None
    colour_mode: str | None = Field(default=None, description="bitonal, grey or colour")
    bit_depth: int | None = None
    file_format: str | None = Field(default=None, description="File format and compression, e.g. TIFF/LZW")


class BatchProcessView(View):
    """What a batch declares of its digitisation (DA/T 31 process metadata), with the device's last calibration as
    it was when the batch named the device (a later calibration does not rewrite it)."""

    device: str | None
    device_name: str | None = None
    device_make: str | None = None
    device_model: str | None = None
    device_serial_number: str | None = None
    settings: ScanSettingsView
    operator: str | None = Field(description="扫描人: who scanned (default: who declared it)")
    scan_started: str | None
    scan_ended: str | None
    calibration: MaintenanceView | None
    declared_by: str | None = None
    declared_at: str | None = None
    warnings: list[str] = Field(default_factory=list, description="The device's state now: overdue, retired")
    warning_codes: list[CodedView] = Field(default_factory=list, description="The same, coded for the page")

    @classmethod
    def of(cls, stored: dict[str, Any] | None, warnings: list[Coded]) -> BatchProcessView | None:
        if not stored:
            return None
        device = stored.get("device") or {}
        calibration = stored.get("calibration")
        return cls(
            device=device.get("code"),
            device_name=device.get("name"),
            device_make=device.get("make"),
            device_model=device.get("model"),
            device_serial_number=device.get("serial_number"),
            settings=ScanSettingsView.model_validate(stored.get("settings") or {}),
            operator=stored.get("operator"),
            scan_started=stored.get("scan_started"),
            scan_ended=stored.get("scan_ended"),
            calibration=MaintenanceView.model_validate(calibration) if calibration else None,
            declared_by=stored.get("declared_by"),
            declared_at=stored.get("declared_at"),
            warnings=[w.message for w in warnings],
            warning_codes=[CodedView(code=w.code, params=dict(w.params)) for w in warnings],
        )


class ImageCaptureView(View):
    """What a page's image says of its own capture (EXIF / TIFF tags); null where the file does not say."""

    format: str | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    taken_at: str | None = Field(default=None, description="EXIF DateTime as written (YYYY:MM:DD HH:MM:SS)")
    x_dpi: float | None = None
    y_dpi: float | None = None
    bits_per_sample: int | None = None
    colour_mode: str | None = Field(default=None, description="bitonal, grey or colour")
    photometric: int | None = Field(default=None, description="TIFF PhotometricInterpretation")


class PageProcessView(View):
    """A page's digitisation process metadata: its image's capture tags, who uploaded it and when it was
    received, and what its batch declared (device code, settings, operator) when it was filed."""

    image: ImageCaptureView | None
    uploaded_by: str | None = None
    received_at: str | None = None
    device: str | None = None
    declared: ScanSettingsView = Field(default_factory=ScanSettingsView)
    operator: str | None = None

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> PageProcessView | None:
        if not stored:
            return None
        image = stored.get("image")
        return cls(
            image=ImageCaptureView.model_validate(image) if image else None,
            uploaded_by=stored.get("uploaded_by"),
            received_at=stored.get("received_at"),
            device=stored.get("device"),
            declared=ScanSettingsView.model_validate(stored.get("declared") or {}),
            operator=stored.get("operator"),
        )
