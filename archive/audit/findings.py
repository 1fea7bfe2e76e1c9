"""What an audit-log verification found, graded by the one contract (archive.reports).

Chain findings (archive.audit.verify) are errors, except `key_untrusted`. Two warnings say what no signature
covers yet — nothing is wrong, but a cut at the end of the log would not show:

- no_checkpoint: there are events and no signed checkpoint at all;
- unsealed: events were written after the newest signed checkpoint.

Write a checkpoint (`dangan audit checkpoint`) once the log verifies, and both go away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.finding_codes import FindingCode, english
from archive.reports import Finding, Report, Severity

NO_CHECKPOINT, UNSEALED = FindingCode.NO_CHECKPOINT, FindingCode.UNSEALED


@dataclass(frozen=True)
class AuditFinding:
    """One finding about the chain or a checkpoint: `params` (and `variant`) fill its registered sentence."""

    kind: str
    event_id: int | None
    params: Mapping[str, str | int | None] = field(default_factory=dict)
    severity: Severity = Severity.ERROR
    variant: str | None = None

    @property
    def subject(self) -> str | None:
        return f"event {self.event_id}" if self.event_id is not None else None

    @property
    def detail(self) -> str:
        """The sentence for a person (the old name of the graded finding's message)."""
        return english(self.kind, self.variant, {"subject": self.subject, "event_id": self.event_id, **self.params})

    def graded(self) -> Finding:
        details = {"kind": self.kind, "event_id": self.event_id, "detail": self.detail}
        kind = "event" if self.event_id is not None else None
        return Finding(
            self.severity,
            self.kind,
            details=details,
            params=self.params,
            variant=self.variant,
            subject_kind=kind,
            subject_id=self.event_id,
        )


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
        if self.sealed_through is None:
            return [AuditFinding(NO_CHECKPOINT, None, {"last_id": self.last_event_id}, Severity.WARNING)]
        if self.sealed_through < self.last_event_id:
            first = max(self.sealed_through, self.anchor_event_id) + 1
            params = {"last_id": self.last_event_id, "sealed_through": self.sealed_through}
            return [AuditFinding(UNSEALED, first, params, Severity.WARNING)]
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
