"""Verify the audit chain against itself and its signed checkpoints; prune old events and stay verifiable.

Verification streams events in id order (memory stays flat), reports every finding and never raises on one.
Finding kinds (all errors except `key_untrusted`, a warning):

- edited: an event's stored fields no longer hash to its stored hash.
- deleted: events are missing; the next event links to a hash no stored event has and ids have a gap there.
- inserted: an event is off the chain: its successor links past it to the event before it.
- reordered: an event's predecessor (by hash) sits at a higher id than the event itself.
- chain_broken: a link points at a hash nobody has, no ids are missing and no event fails its own hash: an
  event was altered and re-hashed (the culprit is named) or forged.
- truncated: a signed checkpoint names a head beyond the log's end (the tail was cut off).
- rewritten: the chain is self-consistent but the event a checkpoint signed now has another hash (or is gone).
- checkpoint_signature / checkpoint_invalid / checkpoint_missing: a checkpoint was altered or signed by
  another key / is malformed / a sequence number is absent.
- prune_unverified: the newest prune event's anchor is malformed or its signature does not verify.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, String, delete, func, select, type_coerce
from sqlalchemy.orm import Session

from archive.audit import log as audit
from archive.audit.checkpoints import (
    PRUNE_ACTION,
    Checkpoint,
    latest_valid_checkpoint,
    lock_chain,
    review_checkpoints,
    sign_anchor,
    trusted_prune_anchor,
    write_checkpoint,
)
from archive.audit.copies import lost_checkpoints
from archive.audit.findings import AuditFinding, AuditVerification
from archive.audit.keys import public_key_fingerprint, public_key_raw
from archive.errors import Conflict, InvalidInput
from archive.finding_codes import FindingCode
from archive.models import AuditEvent, utcnow
from archive.ports import BlobStore

__all__ = ["AuditFinding", "AuditVerification", "prune_before", "verify_audit_log"]

EDITED, DELETED, INSERTED, REORDERED = (
    FindingCode.EDITED,
    FindingCode.DELETED,
    FindingCode.INSERTED,
    FindingCode.REORDERED,
)
CHAIN_BROKEN, TRUNCATED, REWRITTEN = FindingCode.CHAIN_BROKEN, FindingCode.TRUNCATED, FindingCode.REWRITTEN
PRUNE_UNVERIFIED = FindingCode.PRUNE_UNVERIFIED
DEFAULT_RETENTION = dt.timedelta(days=183)
_MAX_LISTED = 10_000  # per list (edited events, chain breaks); beyond it findings are counted, not listed
_COLUMNS = [  # `at` and `details` as stored, so that garbage in them is reported rather than raised
    type_coerce(column, String).label(column.key) if column.key in ("at", "details") else column
    for column in AuditEvent.__table__.columns
]


@dataclass(frozen=True)
class _Start:
    event_id: int
    hash: str
    pruned_total: int


@dataclass(frozen=True)
class _Break:
    """An event whose prev_hash is not the stored hash of the event before it in id order."""

    event_id: int
    link: str
    prev_id: int
    after_start: bool
    event_edited: bool
    prev_edited: bool


@dataclass
class _Walk:
    prev_id: int
    prev_hash: str
    last_id: int
    prev_edited: bool = False
    count: int = 0
    findings: list[AuditFinding] = field(default_factory=list)
    breaks: list[_Break] = field(default_factory=list)
    unlisted: Counter[str] = field(default_factory=Counter)
    watch_ids: set[int] = field(default_factory=set)  # checkpointed event ids and hashes: where are they now?
    watch_hashes: set[str] = field(default_factory=set)
    observed: dict[int, str] = field(default_factory=dict)
    located: dict[str, int] = field(default_factory=dict)

    def step(self, row: Row[Any]) -> None:
        event_id, link, stored = row.id, row.prev_hash, row.hash
        recomputed = _recomputed_hash(row)
        edited = recomputed != stored
        if edited:
            variant = "unreadable" if recomputed is None else None
            self._add_finding(AuditFinding(EDITED, event_id, variant=variant))
        if link != self.prev_hash:
            after_start = self.count == 0
            brk = _Break(event_id, link, self.prev_id, after_start, edited, self.prev_edited)
            if len(self.breaks) < _MAX_LISTED:
                self.breaks.append(brk)
            else:
                self.unlisted[CHAIN_BROKEN] += 1
        if event_id in self.watch_ids:
            self.observed[event_id] = stored
        if stored in self.watch_hashes:
            self.located[stored] = event_id
        self.prev_id, self.prev_hash, self.prev_edited, self.last_id = event_id, stored, edited, event_id
        self.count += 1

    def _add_finding(self, finding: AuditFinding) -> None:
        if len(self.findings) < _MAX_LISTED:
            self.findings.append(finding)
        else:
            self.unlisted[finding.kind] += 1


def _recomputed_hash(row: Row[Any]) -> str | None:
    """The hash the row's stored fields give (via archive.audit.log), or None when they cannot be parsed."""
    fields = dict(row._mapping)
    try:
        at = fields["at"] if isinstance(fields["at"], dt.datetime) else dt.datetime.fromisoformat(str(fields["at"]))
        details = fields["details"] if isinstance(fields["details"], dict) else json.loads(fields["details"])
    except (ValueError, TypeError):
        return None
    if not isinstance(details, dict):
        return None
    fields.update(at=at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at, details=details)
    return audit.recompute_hash(AuditEvent(**fields))


def verify_audit_log(
    session: Session,
    store: BlobStore,
    *,
    trusted_public_key_raw: bytes | None,
    copies: Mapping[str, Callable[[], BlobStore]] | None = None,
) -> AuditVerification:
    """Check every event's hash and link and every checkpoint; report findings, never raise on one. `copies`:
    the backup targets by name, whose checkpoint copies stand in for any the store lost (archive.audit.copies)."""
    result = AuditVerification()
    review = review_checkpoints(store, trusted_public_key_raw)
    result.checkpoints_checked = review.files
    result.findings.extend(review.problems)
    recovered, lost = lost_checkpoints(review.present, copies or {}, review.reference_key)
    result.findings.extend(lost)
    checkpoints = [*review.valid, *recovered]
    start = _start(session, review.reference_key, result)
    result.anchor_event_id = start.event_id
    walk = _Walk(start.event_id, start.hash, start.event_id, watch_ids={c.last_event_id for c in checkpoints})
    walk.watch_hashes = {checkpoint.last_hash for checkpoint in checkpoints}
    for row in session.execute(select(*_COLUMNS).order_by(AuditEvent.id)).yield_per(1000):
        walk.step(row)
    result.events_checked, result.last_event_id = walk.count, walk.last_id
    result.sealed_through = max((c.last_event_id for c in checkpoints), default=None)
    result.findings.extend(walk.findings)
    shifted_down = any(walk.located.get(c.last_hash, c.last_event_id) < c.last_event_id for c in checkpoints)
    chain_findings, gaps = _classify_breaks(session, walk, shifted_down=shifted_down)
    result.findings.extend(chain_findings)
    result.findings.extend(_against_checkpoints(checkpoints, walk, start, gaps, explained=bool(chain_findings)))
    for kind, count in walk.unlisted.items():
        result.findings.append(AuditFinding(kind, None, {"count": count}, variant="unlisted"))
    result.findings.sort(key=lambda f: (f.event_id is None, f.event_id or 0, f.kind))
    return result


def _start(session: Session, reference_key: bytes | None, result: AuditVerification) -> _Start:
    """Where the chain must start: the signed anchor of the newest prune, else the genesis hash."""
    anchor, problem = trusted_prune_anchor(session, reference_key)
    if problem is not None:
        result.findings.append(AuditFinding(PRUNE_UNVERIFIED, problem[0], variant=problem[1]))
    if anchor is None:
        return _Start(0, audit.GENESIS_HASH, 0)
    return _Start(anchor.last_pruned_id, anchor.last_pruned_hash, anchor.pruned_total)


def _classify_breaks(
    session: Session, walk: _Walk, *, shifted_down: bool
) -> tuple[list[AuditFinding], list[tuple[int, int]]]:
    """Name each broken link (deleted, inserted, reordered, re-hashed) and return the id gaps found.

    `shifted_down`: a checkpointed event now sits under a lower id, so ids were renumbered after a deletion.
    """
    preds = [session.scalar(select(AuditEvent.id).where(AuditEvent.hash == brk.link)) for brk in walk.breaks]
    orphaned = {brk.prev_id for brk, pred in zip(walk.breaks, preds, strict=True) if pred is None}
    displaced: set[int] = set()
    findings: list[AuditFinding] = []
    gaps: list[tuple[int, int]] = []
    for brk, pred in zip(walk.breaks, preds, strict=True):
        finding: AuditFinding | None
        if pred is None:
            if brk.prev_id + 1 < brk.event_id:
                gaps.append((brk.prev_id + 1, brk.event_id - 1))
            finding = _missing_link(brk, relinked=brk.event_id in orphaned, shifted_down=shifted_down)
        elif pred == brk.event_id:
            finding = AuditFinding(CHAIN_BROKEN, brk.event_id, variant="self_link")
        elif pred > brk.event_id:
            displaced.update((brk.event_id, pred))
            finding = AuditFinding(REORDERED, brk.event_id, {"linked_id": pred})
        elif {brk.event_id, brk.prev_id, pred} & displaced:
            finding = None  # a consequence of a reordering already reported
        else:
            finding = _off_chain(session, brk, pred, walk.last_id)
        if finding is not None:
            findings.append(finding)
    return findings, gaps


def _missing_link(brk: _Break, *, relinked: bool, shifted_down: bool) -> AuditFinding | None:
    """A link to a hash no stored event has: deleted events, or an event re-hashed after an edit."""
    if brk.prev_id + 1 < brk.event_id:
        params = {"last_id": brk.event_id - 1, "next_id": brk.event_id}
        return AuditFinding(DELETED, brk.prev_id + 1, params)
    if brk.event_edited or brk.prev_edited:
        return None  # explained by the edit already reported
    if shifted_down:
        return AuditFinding(DELETED, brk.event_id, variant="renumbered")
    if relinked or brk.after_start:
        return AuditFinding(CHAIN_BROKEN, brk.event_id, variant="forged")
    return AuditFinding(CHAIN_BROKEN, brk.prev_id, {"next_id": brk.event_id})


def _off_chain(session: Session, brk: _Break, pred: int, last_id: int) -> AuditFinding:
    """The event links past its id-order predecessor(s) to an earlier event: the skipped ones were inserted."""
    first = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.id > pred)) or brk.prev_id
    if first == brk.prev_id:
        return AuditFinding(INSERTED, first, {"next_id": brk.event_id, "linked_id": pred})
    if brk.event_id == last_id:
        return AuditFinding(INSERTED, brk.event_id, {"linked_id": pred}, variant="forked")
    params = {"last_id": brk.prev_id, "next_id": brk.event_id, "linked_id": pred}
    return AuditFinding(INSERTED, first, params, variant="several")


def _against_checkpoints(
    checkpoints: list[Checkpoint], walk: _Walk, start: _Start, gaps: list[tuple[int, int]], *, explained: bool
) -> list[AuditFinding]:
    """Compare each signed head with the event now under its id (`explained`: the chain is broken anyway)."""
    findings: list[AuditFinding] = []
    last_good, mismatching = start.event_id, False
    for cp in sorted(checkpoints, key=lambda c: (c.last_event_id, c.sequence)):
        signed: dict[str, str | int | None] = {"sequence": cp.sequence}
        if cp.last_event_id <= start.event_id:
            if 0 < cp.last_event_id == start.event_id and cp.last_hash != start.hash:
                findings.append(AuditFinding(REWRITTEN, cp.last_event_id, signed, variant="anchor"))
            continue
        seen, moved_to = walk.observed.get(cp.last_event_id), walk.located.get(cp.last_hash)
        if seen == cp.last_hash:
            last_good, mismatching = cp.last_event_id, False
        elif moved_to is not None and explained:
            continue
        elif seen is None and cp.last_event_id > walk.last_id:
            continue  # beyond the end: truncation, below
        elif seen is None and any(a <= cp.last_event_id <= b for a, b in gaps):
            continue  # already reported as deleted
        elif not mismatching:
            mismatching = True
            params = {**signed, "first_id": last_good + 1, "moved_id": moved_to}
            params.update(stored_hash=seen[:12] if seen else None, signed_hash=cp.last_hash[:12])
            variant = "renumbered" if moved_to is not None else "gone" if seen is None else None
            findings.append(AuditFinding(REWRITTEN, cp.last_event_id, params, variant=variant))
    newest = max(checkpoints, key=lambda c: c.last_event_id, default=None)
    if newest is not None and newest.last_event_id > walk.last_id and newest.last_hash not in walk.located:
        params = {"sequence": newest.sequence, "signed_id": newest.last_event_id, "event_count": newest.event_count}
        params.update(last_id=walk.last_id, total=start.pruned_total + walk.count)
        findings.append(AuditFinding(TRUNCATED, walk.last_id + 1, params))
    return findings


def prune_before(
    session: Session,
    store: BlobStore,
    key: Ed25519PrivateKey,
    *,
    before: dt.datetime,
    actor: str,
    min_retention: dt.timedelta = DEFAULT_RETENTION,
) -> int:
    """Delete the oldest events (those before `before`), log it, checkpoint; return how many were deleted.

    Refuses (changing nothing) when `before` is inside the retention period, when the log fails
    verification (pruning would destroy the evidence) or when a pruned event is not yet covered by a
    signed checkpoint. COMMITS the session: the checkpoint written afterwards must name committed events.
    """
    if before.tzinfo is None:
        raise InvalidInput("give the prune cut-off as a timezone-aware time (UTC)")
    if before > utcnow() - min_retention:
        raise InvalidInput(f"audit events are kept at least {min_retention.days} days; choose an earlier cut-off")
    lock_chain(session)
    last_pruned = _prefix_end(session, before)
    if last_pruned is None:
        return 0
    trusted = public_key_raw(key)
    covering = latest_valid_checkpoint(store, trusted)
    if covering is None or covering.last_event_id < last_pruned:
        covered = covering.last_event_id if covering is not None else 0
        raise Conflict(
            f"events up to {last_pruned} would be pruned but signed checkpoints cover only up to {covered}; "
            "write a checkpoint first, then prune"
        )
    report = verify_audit_log(session, store, trusted_public_key_raw=trusted)
    if not report.ok:
        raise Conflict(
            f"the audit log fails verification ({', '.join(sorted({f.kind for f in report.findings}))}); "
            "pruning would destroy evidence: investigate with `dangan audit verify` first"
        )
    count = _delete_and_record(session, key, last_pruned=last_pruned, before=before, actor=actor, covering=covering)
    session.commit()
    write_checkpoint(session, store, key)
    return count


def _delete_and_record(
    session: Session,
    key: Ed25519PrivateKey,
    *,
    last_pruned: int,
    before: dt.datetime,
    actor: str,
    covering: Checkpoint,
) -> int:
    """Delete events up to `last_pruned` and record the prune event carrying the signed anchor."""
    anchor = trusted_prune_anchor(session, public_key_raw(key))[0]
    earlier = anchor.pruned_total if anchor is not None else 0
    last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_pruned)) or ""
    count = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= last_pruned)) or 0
    session.execute(delete(AuditEvent).where(AuditEvent.id <= last_pruned).execution_options(synchronize_session=False))
    total = earlier + count
    signature = sign_anchor(key, last_pruned_id=last_pruned, last_pruned_hash=last_hash, pruned_total=total)
    details: dict[str, Any] = {
        "last_pruned_id": last_pruned,
        "last_pruned_hash": last_hash,
        "pruned_count": count,
        "pruned_total": total,
        "before": before.astimezone(dt.UTC).isoformat(),
        "checkpoint_sequence": covering.sequence,
        "key_fingerprint": public_key_fingerprint(key),
        "anchor_signature": signature,
    }
    audit.record(session, actor=actor, action=PRUNE_ACTION, target="audit_event", details=details)
    return count


def _prefix_end(session: Session, before: dt.datetime) -> int | None:
    """The last id of the longest run of events, from the oldest, all written before `before`."""
    first_kept = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= before))
    query = select(func.max(AuditEvent.id))
    if first_kept is not None:
        query = query.where(AuditEvent.id < first_kept)
    return session.scalar(query)
