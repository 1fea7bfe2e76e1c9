"""Backup manifests (pure): build, serialise, read back; and graded verification of a backup target.

A manifest lists every key a backup holds (objects, catalogue snapshot, audit checkpoints) with its size and
SHA-256. Verifying a target compares three things: the target's bytes, the manifest, and the catalogue.
Verification reports; it does not raise on a finding.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from archive.errors import IntegrityFailure
from archive.hashing import sha256_bytes
from archive.keys import OBJECT_PREFIX
from archive.ports import BlobStore
from archive.preservation.fixity import (
    CATEGORIES,
    CONTENT_CHANGED,
    FULL,
    MISSING,
    NOT_BACKED_UP,
    SAMPLE,
    SIZE_CHANGED,
    STRUCTURE_NOTE,
    SWAPPED,
    UNTRACKED,
    Finding,
    Measured,
    Progress,
    Row,
    VerificationReport,
    choose_sample,
    measure,
)
from archive.reports import Severity

FORMAT = "dangan-backup-manifest/1"
BACKUP_CATEGORIES = (*CATEGORIES, NOT_BACKED_UP)


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    sha256: str


@dataclass
class Manifest:
    run_id: int
    target: str
    created_at: str
    objects: list[Entry] = field(default_factory=list)
    checkpoints: list[Entry] = field(default_factory=list)
    snapshot: Entry | None = None
    escrow: Entry | None = None  # the run's key escrow (absent when no escrow secret was set)

    def entries(self) -> list[Entry]:
        extra = [entry for entry in (self.snapshot, self.escrow) if entry is not None]
        return [*self.objects, *self.checkpoints, *extra]

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT,
            "run_id": self.run_id,
            "target": self.target,
            "created_at": self.created_at,
            "objects": [_entry_dict(e) for e in sorted(self.objects, key=lambda e: e.key)],
            "checkpoints": [_entry_dict(e) for e in sorted(self.checkpoints, key=lambda e: e.key)],
            "snapshot": _entry_dict(self.snapshot) if self.snapshot else None,
            "escrow": _entry_dict(self.escrow) if self.escrow else None,
        }
        return json.dumps(document, sort_keys=True, indent=1).encode("utf-8")


def _entry_dict(entry: Entry) -> dict[str, Any]:
    return {"key": entry.key, "size": entry.size, "sha256": entry.sha256}


def parse_manifest(data: bytes, *, expected_sha256: str | None) -> Manifest:
    """Read a manifest back; IntegrityFailure when it does not hash to what the catalogue recorded."""
    actual = sha256_bytes(data)
    if expected_sha256 is not None and actual != expected_sha256:
        raise IntegrityFailure(f"backup manifest hashes to {actual}, the catalogue recorded {expected_sha256}")
    try:
        raw = json.loads(data)
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}")
        snapshot, escrow = raw.get("snapshot"), raw.get("escrow")
        return Manifest(
            run_id=int(raw["run_id"]),
            target=str(raw["target"]),
            created_at=str(raw["created_at"]),
            objects=[Entry(e["key"], int(e["size"]), e["sha256"]) for e in raw["objects"]],
            checkpoints=[Entry(e["key"], int(e["size"]), e["sha256"]) for e in raw["checkpoints"]],
            snapshot=Entry(snapshot["key"], int(snapshot["size"]), snapshot["sha256"]) if snapshot else None,
            escrow=Entry(escrow["key"], int(escrow["size"]), escrow["sha256"]) if escrow else None,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityFailure(f"backup manifest cannot be read ({exc}); run a new backup") from exc


@dataclass
class BackupReport(VerificationReport):
    """A verification report of a backup target; catalogue objects not yet backed up are warnings."""

    target: str = ""
    backup_run_id: int | None = None
    manifest_key: str | None = None
    categories: tuple[str, ...] = BACKUP_CATEGORIES

    def as_dict(self) -> dict[str, Any]:
        result = super().as_dict()
        result.update(target=self.target, backup_run_id=self.backup_run_id, manifest_key=self.manifest_key)
        return result


def verify_backup(
    target: BlobStore,
    manifest: Manifest,
    catalogue: list[Row],
    report: BackupReport,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> BackupReport:
    """Target vs manifest vs catalogue at the report's level (structure, sample or full)."""
    started = time.perf_counter()
    expected = {entry.key: entry for entry in manifest.entries()}
    to_hash = set(expected) if report.level == FULL else set()
    if report.level == SAMPLE:
        report.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        to_hash = choose_sample(expected, percent=report.percent or 5.0, seed=report.seed)
    measured: dict[str, Measured] = {}
    for position, key in enumerate(sorted(expected), start=1):
        measured[key] = measure(target, key, report, hashing=key in to_hash)
        report.objects_checked += 1
        if progress is not None:
            progress(position, len(expected))
    rows = {row.key: row for row in catalogue}
    report.findings.extend(_target_findings(expected, measured, rows))
    report.findings.extend(
        Finding(
            category=NOT_BACKED_UP,
            severity=Severity.WARNING,
            key=key,
            document_id=row.document_id,
            reference_code=row.reference_code,
            role=row.role,
            expected_sha256=row.sha256,
            expected_size=row.size,
        )
        for key, row in sorted(rows.items())
        if key not in expected
    )
    for key in sorted(k for k in target.iter_keys(OBJECT_PREFIX) if k not in expected):
        info = target.stat(key)
        report.findings.append(
            Finding(category=UNTRACKED, severity=Severity.WARNING, key=key, actual_size=info.size if info else None)
        )
    if report.level == "structure":
        report.noted.append(STRUCTURE_NOTE)
    report.seconds = time.perf_counter() - started
    return report


def _target_findings(expected: dict[str, Entry], measured: dict[str, Measured], rows: dict[str, Row]) -> list[Finding]:
    by_sha = {entry.sha256: key for key, entry in expected.items()}
    findings: list[Finding] = []
    for key, entry in sorted(expected.items()):
        found = measured[key]
        partner = by_sha.get(found.sha256) if found.sha256 and found.sha256 != entry.sha256 else None
        if partner is not None and measured[partner].sha256 == entry.sha256:
            if key < partner:
                findings.append(_finding(SWAPPED, entry, found, rows.get(key), partner_key=partner))
            continue
        category = (
            MISSING
            if not found.exists
            else SIZE_CHANGED
            if found.size != entry.size
            else CONTENT_CHANGED
            if found.sha256 is not None and found.sha256 != entry.sha256
            else None
        )
        if category is not None:
            findings.append(_finding(category, entry, found, rows.get(key)))
    return findings


def _finding(
    category: str, entry: Entry, found: Measured, row: Row | None, *, partner_key: str | None = None
) -> Finding:
    return Finding(
        category=category,
        severity=Severity.ERROR,
        key=entry.key,
        document_id=row.document_id if row else None,
        reference_code=row.reference_code if row else None,
        role=row.role if row else None,
        page_id=row.page_id if row else None,
        expected_sha256=entry.sha256,
        actual_sha256=found.sha256,
        expected_size=entry.size,
        actual_size=found.size,
        partner_key=partner_key,
    )
