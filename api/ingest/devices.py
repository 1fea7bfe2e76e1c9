"""The scanning-devices register (扫描设备): register a device, list and show them with their maintenance log,
log a calibration, service, repair or check, retire a device. The archivist and the system administrator manage
it; every change is an audit event. A device whose next calibration day has passed is overdue: its list, `dangan
status` and every batch naming it say so."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.views.devices import DeviceList, DeviceView, MaintenanceView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.coded import DEVICE_WARNINGS, Coded
from archive.errors import Conflict, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import DeviceMaintenance, ScannerDevice, utcnow
from archive.permissions import Action, authorize

KINDS = ("calibration", "service", "repair", "check")
RESULTS = ("pass", "fail", "adjusted")
ACTIVE, RETIRED = "active", "retired"
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class DeviceService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def add(
        self,
        actor: Principal,
        *,
        code: str,
        name: str,
        make: str | None = None,
        model: str | None = None,
        serial_number: str | None = None,
        location: str | None = None,
        notes: str | None = None,
        client: str | None = None,
    ) -> DeviceView:
        authorize(actor.roles, Action.MANAGE_DEVICES)
        if not CODE.fullmatch(code):
            raise InvalidInput(
                f"device code {code!r} must be letters, digits, '.', '_' or '-' (up to 64)",
                InvalidInput.DEVICE_CODE,
                {"code": code},
            )
        if not name.strip():
            raise InvalidInput("a device needs a name, e.g. 'Fujitsu fi-7160 in room 203'")
        with self.context.db.write() as session:
            if session.scalars(select(ScannerDevice).where(ScannerDevice.code == code)).first() is not None:
                raise Conflict(f"device {code} is registered already", Conflict.DEVICE_EXISTS, {"code": code})
            device = ScannerDevice(
                code=code,
                name=name.strip(),
                make=_clean(make),
                model=_clean(model),
                serial_number=_clean(serial_number),
                location=_clean(location),
                notes=_clean(notes),
                status=ACTIVE,
                created_by=actor.username,
                created_at=utcnow(),
            )
            device.maintenance = []
            session.add(device)
            session.flush()
            details = {"name": device.name, "make": device.make, "model": device.model, "serial": device.serial_number}
            _audit(session, actor, AuditAction.DEVICE_ADD, code, client, details)
            return device_view(device)

    def all(self, actor: Principal, *, today: dt.date | None = None) -> DeviceList:
        authorize(actor.roles, Action.READ_DEVICES)
        with self.context.db.read() as session:
            devices = list(session.scalars(select(ScannerDevice).order_by(ScannerDevice.code)))
            views = [device_view(device, today=today) for device in devices]
        return DeviceList(devices=views, warnings=[w for view in views for w in device_warnings(view)])

    def show(self, actor: Principal, code: str) -> DeviceView:
        authorize(actor.roles, Action.READ_DEVICES)
        with self.context.db.read() as session:
            return device_view(find_device(session, code), with_log=True)

    def log_maintenance(
        self,
        actor: Principal,
        code: str,
        *,
        kind: str = "calibration",
        result: str = "pass",
        next_due: dt.date | None = None,
        done_at: dt.datetime | None = None,
        notes: str | None = None,
        client: str | None = None,
    ) -> DeviceView:
        """One entry of the device's maintenance log (by the caller, now unless `done_at` says when)."""
        authorize(actor.roles, Action.MANAGE_DEVICES)
        _one_of("kind", kind, KINDS)
        _one_of("result", result, RESULTS)
        done = done_at or utcnow()
        if done.tzinfo is None:
            done = done.replace(tzinfo=dt.UTC)
        if done > utcnow() + dt.timedelta(minutes=5):
            raise InvalidInput("maintenance cannot be logged as done in the future")
        if next_due is not None and next_due <= done.date():
            raise InvalidInput(f"the next due day {next_due} must come after the day it was done ({done.date()})")
        with self.context.db.write() as session:
            device = find_device(session, code)
            if device.status == RETIRED:
                raise Conflict(f"device {code} is retired", Conflict.DEVICE_RETIRED, {"code": code})
            entry = DeviceMaintenance(
                kind=kind, result=result, next_due=next_due, done_at=done, done_by=actor.username, notes=_clean(notes)
            )
            device.maintenance.append(entry)
            session.flush()
            details = {"kind": kind, "result": result, "next_due": next_due.isoformat() if next_due else None}
            _audit(session, actor, AuditAction.DEVICE_MAINTENANCE, code, client, details)
            return device_view(device, with_log=True)

    def retire(self, actor: Principal, code: str, *, notes: str | None = None, client: str | None = None) -> DeviceView:
        """Out of use from now on: no new batch may name it; batches that named it keep what they recorded."""
        authorize(actor.roles, Action.MANAGE_DEVICES)
        with self.context.db.write() as session:
            device = find_device(session, code)
            if device.status == RETIRED:
                raise Conflict(f"device {code} is retired already", Conflict.DEVICE_RETIRED, {"code": code})
            device.status, device.retired_at = RETIRED, utcnow()
            if notes and notes.strip():
                device.notes = "\n".join(part for part in (device.notes, f"retired: {notes.strip()}") if part)
            _audit(session, actor, AuditAction.DEVICE_RETIRE, code, client, {"notes": _clean(notes)})
            return device_view(device, with_log=True)


def find_device(session: Session, code: str) -> ScannerDevice:
    device = session.scalars(select(ScannerDevice).where(ScannerDevice.code == code)).first()
    if device is None:
        raise NotFound(f"scanning device {code!r} does not exist; `dangan device list` shows the register")
    return device


def last_calibration(device: ScannerDevice) -> DeviceMaintenance | None:
    return device.last_calibration()


def maintenance_view(entry: DeviceMaintenance) -> MaintenanceView:
    return MaintenanceView(
        kind=entry.kind,
        done_at=entry.done_at.isoformat(),
        done_by=entry.done_by,
        result=entry.result,
        next_due=entry.next_due.isoformat() if entry.next_due else None,
        notes=entry.notes,
    )


def device_view(device: ScannerDevice, *, with_log: bool = False, today: dt.date | None = None) -> DeviceView:
    last, next_due = device.last_calibration(), device.calibration_due()
    overdue = device.calibration_overdue(today or dt.date.today())
    return DeviceView(
        code=device.code,
        name=device.name,
        make=device.make,
        model=device.model,
        serial_number=device.serial_number,
        location=device.location,
        status=device.status,
        notes=device.notes,
        created_by=device.created_by,
        created_at=device.created_at.isoformat(),
        retired_at=device.retired_at.isoformat() if device.retired_at else None,
        last_calibration=maintenance_view(last) if last is not None else None,
        next_due=next_due.isoformat() if next_due else None,
        calibration_overdue=overdue,
        maintenance=[maintenance_view(entry) for entry in device.maintenance] if with_log else [],
        links={"self": f"/api/v1/devices/{device.code}", "maintenance": f"/api/v1/devices/{device.code}/maintenance"},
    )


def device_warnings(view: DeviceView) -> list[str]:
    """What an archivist must know before scanning with the device (English)."""
    return [line.message for line in coded_device_warnings(view)]


def coded_device_warnings(view: DeviceView) -> list[Coded]:
    """The same as coded lines (archive/coded.py DEVICE_WARNINGS), for the page to say in its language."""
    if view.status == RETIRED:
        return [DEVICE_WARNINGS.line("retired", f"device {view.code} is retired", device=view.code)]
    if view.calibration_overdue:
        message = f"device {view.code}: calibration overdue (was due {view.next_due}); calibrate it and log it"
        return [DEVICE_WARNINGS.line("calibration_overdue", message, device=view.code, due=str(view.next_due))]
    if view.last_calibration is None:
        message = f"device {view.code}: no calibration logged yet (`dangan device calibrate {view.code}`)"
        return [DEVICE_WARNINGS.line("never_calibrated", message, device=view.code)]
    return []


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(
            f"{name} {value!r} is not one of: {', '.join(allowed)}",
            InvalidInput.SCAN_SETTING,
            {"setting": name, "value": value},
        )


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _audit(
    session: Session,
    actor: Principal,
    action: AuditAction,
    code: str,
    client: str | None,
    details: Mapping[str, object],
) -> None:
    audit.record(
        session,
        actor=actor.username,
        roles=actor.roles,
        action=action,
        target=f"device:{code}",
        client=client,
        details=dict(details),
    )
