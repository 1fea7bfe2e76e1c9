"""Graded fixity verification of the primary store: structure, sample or full.

- ``structure``: every catalogued object exists with its recorded size; nothing is hashed.
- ``sample``: the structure check, plus a re-hash of P% of the distinct keys (at least one), drawn with a
  seed that is always recorded so the draw can be repeated.
- ``full``: every catalogued object is re-hashed.

Every level also lists untracked objects: keys under ``sha256/`` that no catalogue row names (other
prefixes, e.g. ``audit/checkpoints/``, are not catalogue objects and are ignored).

Verification reports; it does not raise on a finding. Objects are streamed in 1 MiB chunks, so memory stays
constant whatever the object sizes.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import DanganError, InvalidInput, KeyUnavailable, NotFound
from archive.finding_codes import FindingCode, Note
from archive.hashing import sha256_stream
from archive.keys import OBJECT_PREFIX
from archive.models import Document, StoredObject
from archive.ports import BlobStore
from archive.reports import Finding as GradedFinding
from archive.reports import Report, Severity

STRUCTURE, SAMPLE, FULL = "structure", "sample", "full"
LEVELS = (STRUCTURE, SAMPLE, FULL)

MISSING, SIZE_CHANGED = FindingCode.MISSING, FindingCode.SIZE_CHANGED
CONTENT_CHANGED, SWAPPED, UNTRACKED = FindingCode.CONTENT_CHANGED, FindingCode.SWAPPED, FindingCode.UNTRACKED
NOT_BACKED_UP = FindingCode.NOT_BACKED_UP  # a backup target's: the catalogue names it, the backup lacks it yet
PLAINTEXT_UNCHECKED = FindingCode.PLAINTEXT_UNCHECKED  # stored bytes intact, master key missing: not decrypted
CATEGORIES: tuple[str, ...] = (MISSING, SIZE_CHANGED, CONTENT_CHANGED, SWAPPED, UNTRACKED)

STRUCTURE_NOTE = Note("structure")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Finding:
    """One problem with one object; a swapped pair is one finding naming both keys."""

    category: str
    severity: Severity
    key: str
    document_id: int | None = None
    reference_code: str | None = None
    role: str | None = None
    page_id: int | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    expected_size: int | None = None
    actual_size: int | None = None
    partner_key: str | None = None
    partner_document_id: int | None = None
    partner_reference_code: str | None = None
    partner_role: str | None = None

    def graded(self) -> GradedFinding:
        """This finding in the one graded-report shape; its own fields stay beside code, subject and message."""
        fields = asdict(self)
        del fields["severity"]
        return GradedFinding(self.severity, self.category, subject=self.key, details=fields)


@dataclass
class VerificationReport:
    store: str
    level: str = FULL
    percent: float | None = None
    seed: int | None = None
    objects_checked: int = 0
    objects_hashed: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    noted: list[Note] = field(default_factory=list)
    # each hashed key: whether it matched, and the records naming it (their history gets a fixity-check event)
    hashed: dict[str, tuple[bool, tuple[int, ...]]] = field(default_factory=dict, repr=False)

    categories: tuple[str, ...] = CATEGORIES

    @property
    def notes(self) -> list[str]:
        """How the verification checked, for a person (English); `noted` has their codes and values."""
        return [note.message for note in self.noted]

    def graded(self) -> Report:
        """The findings graded by the one contract (archive.reports): the worst severity is the grade."""
        return Report(tuple(finding.graded() for finding in self.findings), codes=self.categories)

    def counts(self) -> dict[str, int]:
        return self.graded().counts()

    @property
    def status(self) -> str:
        """The grade (clean, warnings, errors), under the name the stored runs have always used."""
        return self.graded().grade.value

    @property
    def exit_code(self) -> int:
        return int(self.graded().exit_code)

    @property
    def clean(self) -> bool:
        return self.graded().clean

    def as_dict(self) -> dict[str, Any]:
        graded = self.graded()
        return {
            "store": self.store,
            "level": self.level,
            "percent": self.percent,
            "seed": self.seed,
            "status": graded.grade.value,
            "clean": graded.clean,
            "objects_checked": self.objects_checked,
            "objects_hashed": self.objects_hashed,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "counts": graded.counts(),
            "notes": self.notes,
            "note_codes": [note.as_dict() for note in self.noted],
            **graded.as_dict(),
        }


@dataclass(frozen=True)
class Row:
    """One catalogue row naming an object, with the document it belongs to."""

    key: str
    sha256: str
    size: int
    role: str
    document_id: int
    reference_code: str
    page_id: int | None
    plain_sha256: str | None = None  # an encrypted object's plaintext hash (full level decrypts and checks it)


@dataclass
class Measured:
    """What the store holds under one key: absent, a size, and (when hashed) a SHA-256."""

    exists: bool
    size: int | None = None
    sha256: str | None = None


def catalogued_rows(session: Session) -> list[Row]:
    query = (
        select(StoredObject, Document.reference_code)
        .join(Document, StoredObject.document_id == Document.id)
        .order_by(StoredObject.key, StoredObject.id)
    )
    return [
        Row(obj.key, obj.sha256, obj.size, obj.role, obj.document_id, reference, obj.page_id, obj.plain_sha256)
        for obj, reference in session.execute(query)
    ]


def choose_sample(keys: Iterable[str], *, percent: float, seed: int) -> set[str]:
    """P% of the distinct keys (rounded up, at least one), the same for the same keys and seed."""
    population = sorted(set(keys))
    if not population:
        return set()
    size = min(len(population), max(1, math.ceil(len(population) * percent / 100)))
    return set(random.Random(seed).sample(population, size))


def check_options(level: str, percent: float) -> None:
    if level not in LEVELS:
        raise InvalidInput(f"verification level {level!r} is not one of {', '.join(LEVELS)}")
    if not 0 < percent <= 100:
        raise InvalidInput(f"sample percent must be above 0 and at most 100, got {percent}")


def verify_objects(
    session: Session,
    store: BlobStore,
    *,
    level: str = FULL,
    percent: float = 5.0,
    seed: int | None = None,
    progress: Progress | None = None,
    plain: BlobStore | None = None,
) -> VerificationReport:
    """Check the catalogued objects at the given level and list untracked ones; never raises on a finding.
    At the full level, `plain` (the store that decrypts) also opens each encrypted object whose stored bytes
    were intact and checks its plaintext against the catalogue's plaintext hash (GCM tags, then the hash)."""
    check_options(level, percent)
    started = time.perf_counter()
    report = VerificationReport(store=store.name, level=level)
    rows = catalogued_rows(session)
    expected = {row.key: row for row in rows}  # rows sharing a key share its sha256 and size
    to_hash = set(expected) if level == FULL else set()
    if level == SAMPLE:
        report.percent = percent
        report.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        to_hash = choose_sample(expected, percent=percent, seed=report.seed)
    measured: dict[str, Measured] = {}
    total = len(expected)
    for position, key in enumerate(sorted(expected), start=1):
        measured[key] = measure(store, key, report, hashing=key in to_hash)
        report.objects_checked += 1
        if progress is not None:
            progress(position, total)
    _confirm_swap_partners(store, expected, measured, report)
    report.findings.extend(_findings(rows, expected, measured))
    if level == FULL and plain is not None:
        report.findings.extend(_plaintext_findings(plain, expected, report))
    report.hashed = _hashed_outcomes(rows, to_hash, report.findings)
    report.findings.extend(_untracked(store, set(expected)))
    report.noted.extend(_notes(report, hashed=len(to_hash), total=total))
    report.seconds = time.perf_counter() - started
    return report


def _plaintext_findings(plain: BlobStore, expected: dict[str, Row], report: VerificationReport) -> list[Finding]:
    failed_keys = {finding.key for finding in report.findings}
    findings: list[Finding] = []
    checked = 0
    for key in sorted(expected):
        row = expected[key]
        if row.plain_sha256 is None or key in failed_keys:
            continue
        checked += 1
        try:
            with plain.open_read(key) as stream:
                sha, _size = sha256_stream(stream)
        except KeyUnavailable:  # nothing is wrong with the object: its key is missing (a warning, not a change)
            findings.append(_plaintext_finding(PLAINTEXT_UNCHECKED, Severity.WARNING, row, None))
            continue
        except DanganError as exc:
            if exc.transient:
                raise
            sha = None
        if sha != row.plain_sha256:
            findings.append(_plaintext_finding(CONTENT_CHANGED, Severity.ERROR, row, sha))
    if checked:
        failed = sum(1 for f in findings if f.category == CONTENT_CHANGED)
        report.noted.append(Note("plaintext", {"checked": checked - (len(findings) - failed), "failed": failed}))
    return findings


def _plaintext_finding(category: str, severity: Severity, row: Row, actual: str | None) -> Finding:
    return Finding(
        category=category,
        severity=severity,
        key=row.key,
        document_id=row.document_id,
        reference_code=row.reference_code,
        role=row.role,
        page_id=row.page_id,
        expected_sha256=row.plain_sha256,
        actual_sha256=actual,
    )


def _hashed_outcomes(
    rows: list[Row], hashed: set[str], findings: list[Finding]
) -> dict[str, tuple[bool, tuple[int, ...]]]:
    failed = {f.key for f in findings if f.category != PLAINTEXT_UNCHECKED} | {f.partner_key for f in findings}
    documents: dict[str, set[int]] = {}
    for row in rows:
        if row.key in hashed:
            documents.setdefault(row.key, set()).add(row.document_id)
    return {key: (key not in failed, tuple(sorted(ids))) for key, ids in documents.items()}


def measure(store: BlobStore, key: str, report: VerificationReport, *, hashing: bool) -> Measured:
    """Stat, or stream and hash, one object; counts what it read into the report."""
    if not hashing:
        info = store.stat(key)
        return Measured(exists=False) if info is None else Measured(exists=True, size=info.size)
    try:
        stream = store.open_read(key)
    except NotFound:
        return Measured(exists=False)
    with stream:
        sha, size = sha256_stream(stream)
    report.objects_hashed += 1
    report.bytes_read += size
    return Measured(exists=True, size=size, sha256=sha)


def _confirm_swap_partners(
    store: BlobStore, expected: dict[str, Row], measured: dict[str, Measured], report: VerificationReport
) -> None:
    """In a sample, a changed object holding another catalogued object's bytes gets that partner hashed too."""
    by_sha = {row.sha256: key for key, row in expected.items()}
    for key in sorted(measured):
        sha = measured[key].sha256
        partner = by_sha.get(sha) if sha is not None and sha != expected[key].sha256 else None
        if partner is not None and partner != key and measured[partner].exists and measured[partner].sha256 is None:
            measured[partner] = measure(store, partner, report, hashing=True)


def _swapped_pairs(expected: dict[str, Row], measured: dict[str, Measured]) -> dict[str, str]:
    """key → partner for every pair whose bytes were exchanged (A holds B's content and B holds A's)."""
    by_sha = {row.sha256: key for key, row in expected.items()}
    pairs: dict[str, str] = {}
    for key, found in measured.items():
        partner = by_sha.get(found.sha256) if found.sha256 is not None else None
        if partner is None or partner == key:
            continue
        if measured[partner].sha256 == expected[key].sha256:
            pairs[key] = partner
    return pairs


def _category(row: Row, found: Measured) -> str | None:
    if not found.exists:
        return MISSING
    if found.size != row.size:
        return SIZE_CHANGED
    if found.sha256 is not None and found.sha256 != row.sha256:
        return CONTENT_CHANGED
    return None


def _findings(rows: list[Row], expected: dict[str, Row], measured: dict[str, Measured]) -> list[Finding]:
    swapped = _swapped_pairs(expected, measured)
    findings: list[Finding] = []
    for row in rows:
        found = measured[row.key]
        if row.key in swapped:
            partner = expected[swapped[row.key]]
            if row.key < partner.key and row is expected[row.key]:  # one finding per pair
                findings.append(_swap_finding(row, partner, found))
            continue
        category = _category(row, found)
        if category is not None:
            findings.append(
                Finding(
                    category=category,
                    severity=Severity.ERROR,
                    key=row.key,
                    document_id=row.document_id,
                    reference_code=row.reference_code,
                    role=row.role,
                    page_id=row.page_id,
                    expected_sha256=row.sha256,
                    actual_sha256=found.sha256,
                    expected_size=row.size,
                    actual_size=found.size,
                )
            )
    return findings


def _swap_finding(row: Row, partner: Row, found: Measured) -> Finding:
    return Finding(
        category=SWAPPED,
        severity=Severity.ERROR,
        key=row.key,
        document_id=row.document_id,
        reference_code=row.reference_code,
        role=row.role,
        page_id=row.page_id,
        expected_sha256=row.sha256,
        actual_sha256=found.sha256,
        expected_size=row.size,
        actual_size=found.size,
        partner_key=partner.key,
        partner_document_id=partner.document_id,
        partner_reference_code=partner.reference_code,
        partner_role=partner.role,
    )


def _untracked(store: BlobStore, catalogued: set[str]) -> list[Finding]:
    findings = []
    for key in sorted(k for k in store.iter_keys(OBJECT_PREFIX) if k not in catalogued):
        info = store.stat(key)
        findings.append(
            Finding(category=UNTRACKED, severity=Severity.WARNING, key=key, actual_size=info.size if info else None)
        )
    return findings


def _notes(report: VerificationReport, *, hashed: int, total: int) -> list[Note]:
    if report.level == STRUCTURE:
        return [STRUCTURE_NOTE]
    if report.level == SAMPLE:
        seed = str(report.seed)  # a seed is copied, not read as a quantity: no digit grouping on the page
        return [Note("sample", {"hashed": hashed, "total": total, "seed": seed, "percent": report.percent})]
    return []
