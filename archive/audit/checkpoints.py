"""Signed checkpoints of the audit chain, kept in the object store (outside the database they vouch for).

A checkpoint names the chain head at one moment: its event id and hash and how many events the chain held
(pruned ones included). It is signed with Ed25519 over the canonical JSON of its other fields, so whoever
can write the database but not the key cannot rewrite history before it unnoticed. Prune anchors (the last
pruned event, recorded in the `audit.prune` event) are signed the same way.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import String, func, select, text, type_coerce
from sqlalchemy.orm import Session

from archive.audit.findings import AuditFinding
from archive.audit.keys import public_key_raw
from archive.audit.log import GENESIS_HASH
from archive.audit.sealing import due_after
from archive.errors import Conflict, NotFound
from archive.events import AuditAction
from archive.finding_codes import FindingCode
from archive.keys import CHECKPOINT_PATTERN, CHECKPOINT_PREFIX, checkpoint_key
from archive.models import AuditEvent
from archive.ports import BlobStore
from archive.reports import Severity

CHECKPOINT_SIGNATURE, CHECKPOINT_INVALID = FindingCode.CHECKPOINT_SIGNATURE, FindingCode.CHECKPOINT_INVALID
CHECKPOINT_MISSING, KEY_UNTRUSTED = FindingCode.CHECKPOINT_MISSING, FindingCode.KEY_UNTRUSTED
PRUNE_ACTION = AuditAction.AUDIT_PRUNE
ANCHOR_PURPOSE = "dangan-audit-prune-anchor"
_KEY_PATTERN = CHECKPOINT_PATTERN
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MAX_CHECKPOINT_BYTES = 64 * 1024
_SIGNED_FIELDS = ("sequence", "last_event_id", "last_hash", "event_count", "created_at", "public_key")


def canonical_json(value: dict[str, Any]) -> bytes:
    """The one byte form that is hashed and signed (the same style archive.audit.log hashes events in)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    last_event_id: int
    last_hash: str
    event_count: int
    created_at: str
    public_key: str  # base64 of the 32 raw bytes
    signature: str  # base64 over canonical_json(signed_fields())

    @property
    def key(self) -> str:
        return checkpoint_key(self.sequence)

    @property
    def public_key_raw(self) -> bytes:
        return base64.b64decode(self.public_key)

    def signed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SIGNED_FIELDS}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return canonical_json(self.as_dict())


@dataclass(frozen=True)
class UnreadableCheckpoint:
    """A file under the checkpoint prefix that is not a well-formed checkpoint (reported, never trusted)."""

    key: str
    sequence: int | None
    reason: str


@dataclass(frozen=True)
class PruneAnchor:
    """Where the chain starts after pruning: the last deleted event's id and hash, signed by the checkpoint key."""

    prune_event_id: int
    last_pruned_id: int
    last_pruned_hash: str
    pruned_total: int
    signature: str


def verify_checkpoint_signature(checkpoint: Checkpoint, trusted_public_key_raw: bytes) -> bool:
    """True when the checkpoint names the trusted key and its signature covers exactly its fields."""
    try:
        if checkpoint.public_key_raw != trusted_public_key_raw:
            return False
        public = Ed25519PublicKey.from_public_bytes(trusted_public_key_raw)
        public.verify(base64.b64decode(checkpoint.signature), canonical_json(checkpoint.signed_fields()))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def parse_checkpoint(key: str, data: bytes) -> Checkpoint | UnreadableCheckpoint:
    """A checkpoint from stored bytes; anything malformed comes back as UnreadableCheckpoint with the reason."""
    match = _KEY_PATTERN.match(key)
    sequence = int(match.group(1)) if match else None
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return UnreadableCheckpoint(key, sequence, f"not JSON: {exc}")
    problem = _shape_problem(fields)
    if problem is None and fields["sequence"] != sequence:
        problem = f"its sequence {fields['sequence']} does not match its name"
    if problem is not None:
        return UnreadableCheckpoint(key, sequence, problem)
    return Checkpoint(**fields)


def _shape_problem(fields: object) -> str | None:
    if not isinstance(fields, dict):
        return "not a JSON object"
    expected = {*_SIGNED_FIELDS, "signature"}
    if set(fields) != expected:
        return f"fields {sorted(fields)} are not {sorted(expected)}"
    for name in ("sequence", "last_event_id", "event_count"):
        if type(fields[name]) is not int or fields[name] < 0:
            return f"{name} is not a non-negative integer"
    for name in ("last_hash", "created_at", "public_key", "signature"):
        if not isinstance(fields[name], str):
            return f"{name} is not a string"
    if not _HEX64.match(fields["last_hash"]):
        return "last_hash is not a lowercase hex SHA-256"
    try:
        if len(base64.b64decode(fields["public_key"], validate=True)) != 32:
            return "public_key is not 32 bytes"
        if len(base64.b64decode(fields["signature"], validate=True)) != 64:
            return "signature is not 64 bytes"
    except binascii.Error:
        return "public_key or signature is not base64"
    return None


def scan_checkpoints(store: BlobStore) -> tuple[list[Checkpoint], list[UnreadableCheckpoint]]:
    """Every stored checkpoint, sorted by sequence, and every file there that is not one."""
    readable: list[Checkpoint] = []
    unreadable: list[UnreadableCheckpoint] = []
    for key in sorted(store.iter_keys(CHECKPOINT_PREFIX)):
        parsed = _read_checkpoint(store, key)
        if isinstance(parsed, Checkpoint):
            readable.append(parsed)
        else:
            unreadable.append(parsed)
    readable.sort(key=lambda checkpoint: checkpoint.sequence)
    return readable, unreadable


def load_checkpoints(store: BlobStore) -> list[Checkpoint]:
    """The well-formed checkpoints, sorted by sequence (signatures are not checked here)."""
    return scan_checkpoints(store)[0]


def _read_checkpoint(store: BlobStore, key: str) -> Checkpoint | UnreadableCheckpoint:
    try:
        with store.open_read(key) as stream:
            data = stream.read(_MAX_CHECKPOINT_BYTES + 1)
    except NotFound:
        return UnreadableCheckpoint(key, None, "vanished while being read")
    if len(data) > _MAX_CHECKPOINT_BYTES:
        return UnreadableCheckpoint(key, None, "too large to be a checkpoint")
    return parse_checkpoint(key, data)


@dataclass
class CheckpointReview:
    """What the stored checkpoints say before any event is read."""

    files: int = 0
    valid: list[Checkpoint] = field(default_factory=list)  # signatures verified, sorted by sequence
    reference_key: bytes | None = None  # the key they were verified with
    problems: list[AuditFinding] = field(default_factory=list)
    present: set[int] = field(default_factory=set)  # the sequences stored, readable or not


def review_checkpoints(store: BlobStore, trusted_public_key_raw: bytes | None) -> CheckpointReview:
    """Read every checkpoint; keep those signed by the trusted key; report malformed, forged and absent ones.

    Without a trusted key the first checkpoint's own key is used, with a `key_untrusted` warning.
    """
    readable, unreadable = scan_checkpoints(store)
    review = CheckpointReview(files=len(readable) + len(unreadable), reference_key=trusted_public_key_raw)
    review.problems.extend(
        AuditFinding(CHECKPOINT_INVALID, None, {"key": bad.key, "reason": bad.reason}) for bad in unreadable
    )
    present = {c.sequence for c in readable} | {u.sequence for u in unreadable if u.sequence is not None}
    review.present = present
    review.problems.extend(_sequence_gaps(present))
    if review.reference_key is None and readable:
        review.reference_key = readable[0].public_key_raw
        fingerprint = hashlib.sha256(review.reference_key).hexdigest()
        params: dict[str, str | int | None] = {"sequence": readable[0].sequence, "fingerprint": fingerprint}
        review.problems.append(AuditFinding(KEY_UNTRUSTED, None, params, Severity.WARNING))
    for checkpoint in readable:
        if review.reference_key is not None and verify_checkpoint_signature(checkpoint, review.reference_key):
            review.valid.append(checkpoint)
            continue
        same_key = checkpoint.public_key_raw == review.reference_key
        variant = None if same_key else "other_key"
        signed: dict[str, str | int | None] = {"sequence": checkpoint.sequence}
        review.problems.append(AuditFinding(CHECKPOINT_SIGNATURE, None, signed, variant=variant))
    return review


def _sequence_gaps(present: set[int]) -> list[AuditFinding]:
    runs: list[list[int]] = []
    for sequence in range(1, max(present, default=0) + 1):
        if sequence in present:
            continue
        if runs and runs[-1][1] == sequence - 1:
            runs[-1][1] = sequence
        else:
            runs.append([sequence, sequence])
    return [AuditFinding(CHECKPOINT_MISSING, None, {"first": a, "last": b}) for a, b in runs]


def _sequenced_keys(store: BlobStore) -> list[tuple[int, str]]:
    found = ((m, key) for key in store.iter_keys(CHECKPOINT_PREFIX) if (m := _KEY_PATTERN.match(key)))
    return sorted((int(m.group(1)), key) for m, key in found)


def latest_valid_checkpoint(store: BlobStore, trusted_public_key_raw: bytes) -> Checkpoint | None:
    """The highest-sequence checkpoint whose signature verifies under the trusted key (reads newest first)."""
    for _, key in reversed(_sequenced_keys(store)):
        parsed = _read_checkpoint(store, key)
        if isinstance(parsed, Checkpoint) and verify_checkpoint_signature(parsed, trusted_public_key_raw):
            return parsed
    return None


def lock_chain(session: Session) -> None:
    """Serialise with archive.audit.log.record on PostgreSQL (SQLite serialises through Database.write())."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7263)"))  # the lock record() takes


def write_checkpoint(session: Session, store: BlobStore, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the current chain head and store it as the next checkpoint.

    Call it in its own write unit (`Database.write()`), after the events it should cover have committed:
    a checkpoint naming an event that is later rolled back would read as a truncated log.
    """
    lock_chain(session)
    head = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, last_hash = (head[0], head[1]) if head is not None else (0, GENESIS_HASH)
    anchor = trusted_prune_anchor(session, public_key_raw(key))[0]
    pruned_total = anchor.pruned_total if anchor is not None else 0
    remaining = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= last_id)) or 0
    sequence = max((seq for seq, _ in _sequenced_keys(store)), default=0) + 1
    if store.stat(checkpoint_key(sequence)) is not None:
        raise Conflict(f"checkpoint {sequence} already exists; another writer is checkpointing, retry")
    fields: dict[str, Any] = {
        "sequence": sequence,
        "last_event_id": last_id,
        "last_hash": last_hash,
        "event_count": pruned_total + remaining,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "public_key": base64.b64encode(public_key_raw(key)).decode("ascii"),
    }
    signature = base64.b64encode(key.sign(canonical_json(fields))).decode("ascii")
    checkpoint = Checkpoint(**fields, signature=signature)
    store.put_bytes(checkpoint.key, checkpoint.to_bytes())
    return checkpoint


def maybe_checkpoint(
    session: Session, store: BlobStore, key: Ed25519PrivateKey, *, every: int, max_age: float | None = None
) -> Checkpoint | None:
    """Write a checkpoint when at least `every` events were appended since the last valid one, or (with
    `max_age`) when the oldest event no checkpoint seals is at least `max_age` seconds old."""
    due = checkpoint_due(session, store, key, every=every, max_age=max_age)
    return write_checkpoint(session, store, key) if due else None


def checkpoint_due(
    session: Session, store: BlobStore, key: Ed25519PrivateKey, *, every: int, max_age: float | None = None
) -> bool:
    """Whether a checkpoint is due by count or by age since the last valid one (a read: no lock needed)."""
    return due_after(session, sealed_through(store, key), every=every, max_age=max_age)


def sealed_through(store: BlobStore, key: Ed25519PrivateKey) -> int:
    """The last event id the newest valid checkpoint seals (0 before the first one): reads the store."""
    latest = latest_valid_checkpoint(store, public_key_raw(key))
    return latest.last_event_id if latest is not None else 0


def _anchor_payload(last_pruned_id: int, last_pruned_hash: str, pruned_total: int) -> bytes:
    return canonical_json(
        {
            "purpose": ANCHOR_PURPOSE,
            "last_pruned_id": last_pruned_id,
            "last_pruned_hash": last_pruned_hash,
            "pruned_total": pruned_total,
        }
    )


def sign_anchor(key: Ed25519PrivateKey, *, last_pruned_id: int, last_pruned_hash: str, pruned_total: int) -> str:
    payload = _anchor_payload(last_pruned_id, last_pruned_hash, pruned_total)
    return base64.b64encode(key.sign(payload)).decode("ascii")


def verify_anchor_signature(anchor: PruneAnchor, trusted_public_key_raw: bytes) -> bool:
    payload = _anchor_payload(anchor.last_pruned_id, anchor.last_pruned_hash, anchor.pruned_total)
    try:
        public = Ed25519PublicKey.from_public_bytes(trusted_public_key_raw)
        public.verify(base64.b64decode(anchor.signature, validate=True), payload)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def read_latest_prune(session: Session) -> tuple[int, PruneAnchor | None] | None:
    """The newest `audit.prune` event's id and its anchor (None when its details are malformed)."""
    row = session.execute(
        select(AuditEvent.id, type_coerce(AuditEvent.details, String))
        .where(AuditEvent.action == PRUNE_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    event_id, raw = row[0], row[1]
    try:
        details = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except (json.JSONDecodeError, UnicodeDecodeError):
        return event_id, None
    return event_id, _anchor_from_details(event_id, details)


def _anchor_from_details(event_id: int, details: object) -> PruneAnchor | None:
    if not isinstance(details, dict):
        return None
    last_id, last_hash = details.get("last_pruned_id"), details.get("last_pruned_hash")
    total, signature = details.get("pruned_total"), details.get("anchor_signature")
    if type(last_id) is not int or type(total) is not int or not 0 < last_id < event_id or total < 1:
        return None
    if not isinstance(last_hash, str) or not _HEX64.match(last_hash) or not isinstance(signature, str):
        return None
    return PruneAnchor(event_id, last_id, last_hash, total, signature)


def trusted_prune_anchor(
    session: Session, trusted_public_key_raw: bytes | None
) -> tuple[PruneAnchor | None, tuple[int, str] | None]:
    """The newest prune's anchor when its signature verifies; else None and (prune event id, what is wrong: the
    variant of the prune_unverified finding, archive.finding_codes)."""
    latest = read_latest_prune(session)
    if latest is None:
        return None, None
    prune_id, anchor = latest
    if anchor is None:
        problem = "malformed"
    elif trusted_public_key_raw is None:
        problem = "no_key"
    elif not verify_anchor_signature(anchor, trusted_public_key_raw):
        problem = "bad_signature"
    else:
        return anchor, None
    return None, (prune_id, problem)
