"""What an audit-log verification found, graded by the one contract (archive.reports).

Chain findings (archive.audit.verify) are errors, except `key_untrusted`. Two warnings say what no signature
covers yet — nothing is wrong, but a cut at the end of the log would not show:

- no_checkpoint: there are events and no signed checkpoint at all;
- unsealed: events were written after the newest signed checkpoint.

Write a checkpoint (`dangan audit checkpoint`) once the log verifies, and both go away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archive.reports import Finding, Report, Severity

NO_CHECKPOINT, UNSEALED = "no_checkpoint", "unsealed"


@dataclass(frozen=True)
class AuditFinding:
    kind: str
    event_id: int | None
    detail: str
    severity: Severity = Severity.ERROR

    def graded(self) -> Finding:
        fields = asdict(self)
        del fields["severity"]
        subject = f"event {self.event_id}" if self.event_id is not None else None
        return Finding(self.severity, self.kind, self.detail, subject=subject, details=fields)


@dataclass
class AuditVerification:
    events_checked: int = 0
    checkpoints_checked: int = 0
    anchor_event_id: int = 0  # the last pruned event (0: the chain starts at the genesis hash)
    last_event_id: int = 0  # the newest event read (the anchor when none was)
    sealed_through: int | None = None  # the newest event a valid signed checkpoint names (None: no checkpoint)
    findings: list[AuditFinding] = field(default_factory=list)  # what the chain and the checkpoints say

    @property
    def ok(self) -> bool:
        """No error: the chain and its checkpoints are intact (warnings may remain)."""
        return not any(finding.severity == Severity.ERROR for finding in self.findings)

    @property
    def first_bad_event_id(self) -> int | None:
        ids = [f.event_id for f in self.findings if f.event_id is not None and f.severity == Severity.ERROR]
        return min(ids, default=None)

    def unsealed(self) -> list[AuditFinding]:
        """Warnings for the events no signed checkpoint covers yet."""
        if self.last_event_id <= self.anchor_event_id:
            return []
        advice = "a cut at the end of the log would not show; write a checkpoint with `dangan audit checkpoint`"
        if self.sealed_through is None:
            detail = f"no signed checkpoint yet: events up to {self.last_event_id} are not sealed; {advice}"
            return [AuditFinding(NO_CHECKPOINT, None, detail, Severity.WARNING)]
        if self.sealed_through < self.last_event_id:
            first = max(self.sealed_through, self.anchor_event_id) + 1
            detail = (
                f"events {first}..{self.last_event_id} came after the newest checkpoint (event "
                f"{self.sealed_through}) and are not sealed yet; {advice}"
            )
            return [AuditFinding(UNSEALED, first, detail, Severity.WARNING)]
        return []

    def graded(self) -> Report:
        """The chain findings and the sealing warnings, graded: tampering is errors, unsealed events warnings."""
        return Report(tuple(finding.graded() for finding in [*self.findings, *self.unsealed()]))

    def counts(self) -> dict[str, int]:
        return self.graded().counts()

    def as_dict(self) -> dict[str, Any]:
        graded = self.graded()
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "anchor_event_id": self.anchor_event_id,
            "last_event_id": self.last_event_id,
            "sealed_through": self.sealed_through,
            "first_bad_event_id": self.first_bad_event_id,
            "counts": graded.counts(),
            **graded.as_dict(),
        }
