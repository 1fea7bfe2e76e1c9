"""Checkpoints the primary store lost but a backup target still holds.

A backup run copies every checkpoint to its target and never deletes one there. Whoever deletes the newest
events *and* the newest checkpoints from the primary leaves a log that verifies "intact" on its own; the copies
on the targets still name the cut-off head. So verification also lists each target's checkpoint keys and reads
those the primary lacks: each one signed by the trusted key is a finding (`checkpoint_missing.on_target`) and
joins the checkpoints the chain is compared with, so the cut shows as `truncated` too. Only the missing keys are
read, so a target with years of checkpoints costs one listing. A target that cannot be read is a warning
(`checkpoint_missing.unchecked`), never a failed verification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from archive.audit.checkpoints import CHECKPOINT_MISSING, Checkpoint, parse_checkpoint, verify_checkpoint_signature
from archive.audit.findings import AuditFinding
from archive.errors import DanganError
from archive.keys import CHECKPOINT_PATTERN, CHECKPOINT_PREFIX
from archive.ports import BlobStore
from archive.reports import Severity

_MAX_CHECKPOINT_BYTES = 64 * 1024


def lost_checkpoints(
    present: Iterable[int], copies: Mapping[str, Callable[[], BlobStore]], reference_key: bytes | None
) -> tuple[list[Checkpoint], list[AuditFinding]]:
    """The validly signed checkpoints the targets hold under sequences the primary lacks, and the findings.
    `copies`: each target's name and how to open its store (an error opening it is a warning, like one reading)."""
    have = set(present)
    found: dict[int, Checkpoint] = {}
    findings: list[AuditFinding] = []
    for target, opener in sorted(copies.items()):
        try:
            store = opener()
            for sequence, key in _missing_keys(store, have | set(found)):
                checkpoint = _read(store, key)
                if checkpoint is None or reference_key is None:
                    continue
                if verify_checkpoint_signature(checkpoint, reference_key):
                    found[sequence] = checkpoint
                    params: dict[str, str | int | None] = {"sequence": sequence, "target": target}
                    findings.append(AuditFinding(CHECKPOINT_MISSING, None, params, variant="on_target"))
        except (DanganError, OSError) as exc:
            reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            unchecked: dict[str, str | int | None] = {"target": target, "reason": reason}
            findings.append(AuditFinding(CHECKPOINT_MISSING, None, unchecked, Severity.WARNING, variant="unchecked"))
    return [found[s] for s in sorted(found)], findings


def _missing_keys(store: BlobStore, have: set[int]) -> list[tuple[int, str]]:
    keyed = ((m, key) for key in store.iter_keys(CHECKPOINT_PREFIX) if (m := CHECKPOINT_PATTERN.match(key)))
    return sorted((int(m.group(1)), key) for m, key in keyed if int(m.group(1)) not in have)


def _read(store: BlobStore, key: str) -> Checkpoint | None:
    with store.open_read(key) as stream:
        data = stream.read(_MAX_CHECKPOINT_BYTES + 1)
    parsed = parse_checkpoint(key, data) if len(data) <= _MAX_CHECKPOINT_BYTES else None
    return parsed if isinstance(parsed, Checkpoint) else None
