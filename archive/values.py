"""Value types shared by every package: access levels, roles, states, object roles."""

from __future__ import annotations

import enum

from archive.errors import InvalidInput


class AccessLevel(enum.IntEnum):
    """Classification levels, ordered: a caller sees a record only up to their clearance."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> AccessLevel:
        """Accept `internal`, `INTERNAL`, `top-secret` or the number; say what is allowed otherwise."""
        cleaned = text.strip().lower().replace("-", "_")
        for level in cls:
            if cleaned in (level.label, str(level.value)):
                return level
        allowed = ", ".join(level.label for level in cls)
        raise InvalidInput(
            f"unknown access level {text!r}; use one of: {allowed}", InvalidInput.LEVEL_UNKNOWN, {"level": text}
        )


class Role(enum.StrEnum):
    """What a user may do (levels and scopes say what they may see)."""

    ARCHIVIST = "archivist"
    STAFF = "staff"
    COMPLIANCE = "compliance"  # the security auditor (安全审计员)
    SYSADMIN = "sysadmin"  # the system administrator (系统管理员): storage, backups, verification, reindex
    SECADMIN = "secadmin"  # the security administrator (安全保密管理员): users, roles, clearances, departments


class DocumentStatus(enum.StrEnum):
    READY = "ready"
    NEEDS_REVIEW = "needs_review"  # a page failed a quality check and waits for the archivist
    FILED = "filed"  # its batch was accepted and filed
    WITHDRAWN = "withdrawn"  # taken out of use (disposal, mistaken ingest): kept, audited, out of search
    DISPOSED = "disposed"  # destroyed by an approved disposition: a tombstone (objects, pages and text gone)
    TRANSFERRED = "transferred"  # handed over to another archive by an approved disposition: out of use


class DispositionAction(enum.StrEnum):
    """What an approved disposition does to its records (archive/workflow.py for its states)."""

    DESTROY = "destroy"
    TRANSFER = "transfer"


class AppraisalDecision(enum.StrEnum):
    """An archivist's decision on a record that is due: keep it (a new period), destroy it, transfer it."""

    KEEP = "keep"
    DESTROY = "destroy"
    TRANSFER = "transfer"


class DispositionStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waits for a second person's approval
    APPROVED = "approved"  # approved by someone other than the proposer: may be executed
    EXECUTED = "executed"  # done: records destroyed or transferred, certificate written
    CANCELLED = "cancelled"  # refused by the approver or withdrawn by the proposer


class PageReview(enum.StrEnum):
    """Where one page version stands with the archivist (see archive.workflow for the allowed moves)."""

    OK = "ok"  # passed the quality gate
    HELD = "held"  # a check failed: waits for accept, reject or replace
    ACCEPTED = "accepted"  # held, then accepted as it is
    REJECTED = "rejected"  # a rescan is requested (the reason kept)
    REPLACED = "replaced"  # superseded by a rescan (a newer version is current)


class BatchStatus(enum.StrEnum):
    OPEN = "open"  # accepting files
    SAMPLING = "sampling"  # an acceptance sample is being reviewed
    ACCEPTED = "accepted"
    RETURNED = "returned"  # sampling failed: back to the archivist
    FILED = "filed"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"  # held by a live worker's lease (IngestJob.lease_owner / lease_expires_at)
    RETRYING = "retrying"  # met a passing fault (store down, disk full, catalogue busy): runs again after not_before
    NEEDS_REVIEW = "needs_review"  # filed, with pages held by the quality gate
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.NEEDS_REVIEW, JobState.FAILED)


class ObjectRole(enum.StrEnum):
    """Why an object is stored: the original scan, the PDF/A access copy, the text, a thumbnail."""

    ORIGINAL = "original"
    PDFA = "pdfa"
    TEXT = "text"
    THUMBNAIL = "thumbnail"  # derived: a page's small image (archive.keys.derived_key)
    PAGE_IMAGE = "page_image"  # derived: a page's display image, long side ~1600 px
