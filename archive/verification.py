"""Fixity verification: re-read every catalogued object, recompute its SHA-256, collect findings.

Verification reports; it does not raise on a finding. Memory stays constant: objects are streamed in chunks.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import NotFound
from archive.hashing import CHUNK
from archive.models import Document, StoredObject
from archive.ports import BlobStore

MISSING = "missing"
SIZE_CHANGED = "size_changed"
CONTENT_CHANGED = "content_changed"


@dataclass(frozen=True)
class Finding:
    category: str
    severity: str
    document_id: int
    reference_code: str
    role: str
    key: str
    expected_sha256: str
    actual_sha256: str | None
    expected_size: int
    actual_size: int | None


@dataclass
class VerificationReport:
    store: str
    objects_checked: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        counted = Counter(finding.category for finding in self.findings)
        return {category: counted.get(category, 0) for category in (MISSING, SIZE_CHANGED, CONTENT_CHANGED)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "clean": self.clean,
            "objects_checked": self.objects_checked,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "findings": [asdict(finding) for finding in self.findings],
        }


def catalogued_objects(session: Session) -> list[tuple[StoredObject, int, str]]:
    rows = session.execute(
        select(StoredObject, Document.id, Document.reference_code)
        .join(Document, StoredObject.document_id == Document.id)
        .order_by(StoredObject.key)
    )
    return [(row[0], row[1], row[2]) for row in rows]


def verify_objects(
    session: Session, store: BlobStore, *, progress: Callable[[int, int], None] | None = None
) -> VerificationReport:
    """Check every catalogued object; each distinct key is read once even if several rows share it."""
    started = time.perf_counter()
    report = VerificationReport(store=store.name)
    rows = catalogued_objects(session)
    measured: dict[str, tuple[str | None, int | None]] = {}
    for position, (stored, document_id, reference_code) in enumerate(rows, start=1):
        if stored.key not in measured:
            measured[stored.key] = _measure(store, stored.key)
            report.objects_checked += 1
            report.bytes_read += measured[stored.key][1] or 0
        actual_sha, actual_size = measured[stored.key]
        category = _category(stored, actual_sha, actual_size)
        if category is not None:
            report.findings.append(
                Finding(
                    category=category,
                    severity="error",
                    document_id=document_id,
                    reference_code=reference_code,
                    role=stored.role,
                    key=stored.key,
                    expected_sha256=stored.sha256,
                    actual_sha256=actual_sha,
                    expected_size=stored.size,
                    actual_size=actual_size,
                )
            )
        if progress is not None:
            progress(position, len(rows))
    report.seconds = time.perf_counter() - started
    return report


def _measure(store: BlobStore, key: str) -> tuple[str | None, int | None]:
    try:
        stream = store.open_read(key)
    except NotFound:
        return None, None
    digest = hashlib.sha256()
    size = 0
    with stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _category(stored: StoredObject, actual_sha: str | None, actual_size: int | None) -> str | None:
    if actual_sha is None:
        return MISSING
    if actual_size != stored.size:
        return SIZE_CHANGED
    if actual_sha != stored.sha256:
        return CONTENT_CHANGED
    return None
