"""All catalogue tables (SQLAlchemy 2.x). Alembic migrations in archive/migrations mirror these."""

from archive.models.backup import BackupDrill, BackupRun, BackupTarget, ScheduleRun
from archive.models.base import Base, UTCDateTime, utcnow
from archive.models.catalogue import (
    DEFAULT_REF_TEMPLATE,
    Batch,
    Document,
    Fonds,
    ManifestItem,
    Page,
    QualityFinding,
    StoredObject,
)
from archive.models.devices import DeviceMaintenance, ScannerDevice
from archive.models.history import ObjectEvent
from archive.models.metadata import SeriesField
from archive.models.people import ApiToken, AuditEvent, User
from archive.models.retention import Appraisal, DestroyedObject, Disposition, DispositionItem, LegalHold
from archive.models.work import BatchSample, Dat70Run, IngestJob, SampleVerdict, VerificationRun

__all__ = [
    "DEFAULT_REF_TEMPLATE",
    "ApiToken",
    "Appraisal",
    "AuditEvent",
    "BackupDrill",
    "BackupRun",
    "BackupTarget",
    "Base",
    "Batch",
    "BatchSample",
    "Dat70Run",
    "DestroyedObject",
    "DeviceMaintenance",
    "Disposition",
    "DispositionItem",
    "Document",
    "Fonds",
    "IngestJob",
    "LegalHold",
    "ManifestItem",
    "ObjectEvent",
    "Page",
    "QualityFinding",
    "SampleVerdict",
    "ScannerDevice",
    "ScheduleRun",
    "SeriesField",
    "StoredObject",
    "UTCDateTime",
    "User",
    "VerificationRun",
    "utcnow",
]
