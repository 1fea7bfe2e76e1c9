"""Scanning devices (扫描设备) and their maintenance log: the written rules ask that the devices that digitise
records be registered, managed and maintained (calibrated, serviced, repaired, checked), and DA/T 31 asks that a
batch's process metadata name the device and its last calibration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models.base import Base, utcnow


class ScannerDevice(Base):
    __tablename__ = "scanner_device"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # the register's own number, e.g. SCN-01
    name: Mapped[str] = mapped_column(String(255))
    make: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(128))
    serial_number: Mapped[str | None] = mapped_column(String(128))
    location: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | retired
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]
    maintenance: Mapped[list[DeviceMaintenance]] = relationship(
        back_populates="device", order_by="(DeviceMaintenance.done_at, DeviceMaintenance.id)"
    )

    def last_calibration(self) -> DeviceMaintenance | None:
        calibrations = [entry for entry in self.maintenance if entry.kind == "calibration"]
        return max(calibrations, key=lambda entry: (entry.done_at, entry.id)) if calibrations else None

    def calibration_due(self) -> dt.date | None:
        last = self.last_calibration()
        return last.next_due if last is not None else None

    def calibration_overdue(self, today: dt.date) -> bool:
        """An active device whose last calibration's next due day has passed."""
        due = self.calibration_due()
        return self.status == "active" and due is not None and due < today


class DeviceMaintenance(Base):
    """One entry of a device's maintenance log: a calibration, service, repair or check, and when it is due next."""

    __tablename__ = "device_maintenance"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("scanner_device.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # calibration | service | repair | check
    done_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_by: Mapped[str] = mapped_column(String(128))
    result: Mapped[str] = mapped_column(String(16))  # pass | fail | adjusted
    next_due: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    device: Mapped[ScannerDevice] = relationship(back_populates="maintenance")
