"""The one state machine for batches, items (documents) and pages: the allowed transitions in one table each.

A batch:  open ─sample→ sampling ─decide→ accepted ─file→ filed ─reopen (reasoned, logged)→ open
                                  └decide→ returned ─resample (after rescans)→ sampling
An item:  ready ⇄ needs_review (held pages resolved or not) ─file→ filed ─reopen→ ready; any → withdrawn;
          filed | withdrawn ─(an executed disposition)→ disposed | transferred (final)
A disposition: proposed ─approve (another person)→ approved ─execute→ executed; proposed | approved ─cancel→
          cancelled. A legal hold on any of its records blocks proposing, approving and executing.
A page:   ok | held ─accept→ accepted, ─reject→ rejected, ─replace→ replaced (superseded by a new version)
A job:    queued | retrying ─claim→ processing ─→ done | needs_review | failed | retrying | queued (handed back);
          processing ─(lease expired)→ processing (taken over); failed ─retry (a person)→ queued.
          Who may claim, and when: archive/jobs.py.

Staff see an item only once it is filed. Every change of state goes through `transition`, which refuses a move
the table does not hold with a Conflict that says what is possible instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from archive.errors import Conflict
from archive.values import BatchStatus, DispositionStatus, DocumentStatus, JobState, PageReview

BATCH_TRANSITIONS: Mapping[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.OPEN: frozenset({BatchStatus.SAMPLING}),
    BatchStatus.SAMPLING: frozenset({BatchStatus.ACCEPTED, BatchStatus.RETURNED}),
    BatchStatus.RETURNED: frozenset({BatchStatus.SAMPLING}),  # a resample, only after rescans
    BatchStatus.ACCEPTED: frozenset({BatchStatus.FILED}),
    BatchStatus.FILED: frozenset({BatchStatus.OPEN}),  # a reopen, with a reason in the log
}

DOCUMENT_TRANSITIONS: Mapping[DocumentStatus, frozenset[DocumentStatus]] = {
    DocumentStatus.READY: frozenset({DocumentStatus.NEEDS_REVIEW, DocumentStatus.FILED, DocumentStatus.WITHDRAWN}),
    DocumentStatus.NEEDS_REVIEW: frozenset({DocumentStatus.READY, DocumentStatus.WITHDRAWN}),
    DocumentStatus.FILED: frozenset(
        {DocumentStatus.READY, DocumentStatus.WITHDRAWN, DocumentStatus.DISPOSED, DocumentStatus.TRANSFERRED}
    ),
    DocumentStatus.WITHDRAWN: frozenset({DocumentStatus.DISPOSED, DocumentStatus.TRANSFERRED}),
    DocumentStatus.DISPOSED: frozenset(),
    DocumentStatus.TRANSFERRED: frozenset(),
}

DISPOSITION_TRANSITIONS: Mapping[DispositionStatus, frozenset[DispositionStatus]] = {
    DispositionStatus.PROPOSED: frozenset({DispositionStatus.APPROVED, DispositionStatus.CANCELLED}),
    DispositionStatus.APPROVED: frozenset({DispositionStatus.EXECUTED, DispositionStatus.CANCELLED}),
    DispositionStatus.EXECUTED: frozenset(),
    DispositionStatus.CANCELLED: frozenset(),
}

# Records taken out of use: out of search, seen only by those who may see withdrawn records.
OUT_OF_USE = frozenset({DocumentStatus.WITHDRAWN, DocumentStatus.DISPOSED, DocumentStatus.TRANSFERRED})
# Records an appraisal and a disposition may name.
DISPOSABLE = frozenset({DocumentStatus.FILED, DocumentStatus.WITHDRAWN})

PAGE_TRANSITIONS: Mapping[PageReview, frozenset[PageReview]] = {
    PageReview.OK: frozenset({PageReview.REJECTED, PageReview.REPLACED}),
    PageReview.HELD: frozenset({PageReview.ACCEPTED, PageReview.REJECTED, PageReview.REPLACED}),
    PageReview.ACCEPTED: frozenset({PageReview.REJECTED, PageReview.REPLACED}),
    PageReview.REJECTED: frozenset({PageReview.ACCEPTED, PageReview.REPLACED}),
    PageReview.REPLACED: frozenset(),
}

JOB_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.PROCESSING}),
    JobState.RETRYING: frozenset({JobState.PROCESSING}),
    JobState.PROCESSING: frozenset(
        {JobState.DONE, JobState.NEEDS_REVIEW, JobState.FAILED, JobState.RETRYING, JobState.QUEUED, JobState.PROCESSING}
    ),
    JobState.FAILED: frozenset({JobState.QUEUED}),  # `dangan jobs retry`, once the cause is fixed
    JobState.DONE: frozenset(),
    JobState.NEEDS_REVIEW: frozenset(),
}

# Batches whose items and pages may change: files added, pages reviewed or replaced.
BATCH_CHANGEABLE = frozenset({BatchStatus.OPEN, BatchStatus.RETURNED})
S = TypeVar("S", BatchStatus, DocumentStatus, PageReview, JobState, DispositionStatus)
UNRESOLVED_PAGES = frozenset({PageReview.HELD, PageReview.REJECTED})


def transition_batch(batch_id: int, current: str, target: BatchStatus) -> BatchStatus:
    return _transition("batch", batch_id, BatchStatus(current), target, BATCH_TRANSITIONS)


def transition_document(document_id: int, current: str, target: DocumentStatus) -> DocumentStatus:
    return _transition("document", document_id, DocumentStatus(current), target, DOCUMENT_TRANSITIONS)


def transition_page(page_id: int, current: str, target: PageReview) -> PageReview:
    return _transition("page", page_id, PageReview(current), target, PAGE_TRANSITIONS)


def transition_job(job_id: int, current: str, target: JobState) -> JobState:
    return _transition("job", job_id, JobState(current), target, JOB_TRANSITIONS)


def transition_disposition(disposition_id: int, current: str, target: DispositionStatus) -> DispositionStatus:
    return _transition("disposition", disposition_id, DispositionStatus(current), target, DISPOSITION_TRANSITIONS)


_STATE_REASONS = {
    "disposition": Conflict.DISPOSITION_STATE,
    "batch": Conflict.BATCH_STATE,
    "document": Conflict.DOCUMENT_STATE,
    "page": Conflict.PAGE_STATE,
    "job": Conflict.JOB_STATE,
}


def _transition(kind: str, key: int, current: S, target: S, table: Mapping[S, frozenset[S]]) -> S:
    if target not in table[current]:
        possible = ", ".join(sorted(state.value for state in table[current])) or "nothing (it is final)"
        raise Conflict(
            f"{kind} {key} is {current.value}; it cannot become {target.value} (from here: {possible})",
            _STATE_REASONS[kind],
            {kind: key, "current": current.value, "target": target.value},
        )
    return target


def check_batch_changeable(batch_id: int, status: str) -> None:
    """Files, page reviews and rescans only while a batch is open or returned; a filed batch is closed."""
    if BatchStatus(status) in BATCH_CHANGEABLE:
        return
    if status == BatchStatus.FILED:
        raise Conflict(
            f"batch {batch_id} is filed and closed; reopen it first with a reason "
            f"(`dangan batch reopen {batch_id} --reason ...`)",
            Conflict.BATCH_FILED,
            {"batch": batch_id},
        )
    raise Conflict(
        f"batch {batch_id} is {status}; its items and pages can change only while it is open or returned",
        Conflict.BATCH_NOT_CHANGEABLE,
        {"batch": batch_id, "status": status},
    )


def is_filed(status: str) -> bool:
    return status == DocumentStatus.FILED


def is_withdrawn(status: str) -> bool:
    return status == DocumentStatus.WITHDRAWN


def is_out_of_use(status: str) -> bool:
    """Withdrawn, destroyed (a tombstone) or transferred: out of search, seen only by administrators."""
    return status in OUT_OF_USE
