"""Typed results of the operator's job use cases (api/ingest/jobs.py): a listing of jobs with their reasons,
what a retry queued or refused, and what a `jobs run` ended with."""

from __future__ import annotations

import datetime as dt

from api.views.base import View
from api.views.ingest import JobFailure, JobLinks
from api.views.urls import document_url, job_url
from archive.errors import ExitCode, ParamValue, ProcessingFailed, StorageUnavailable
from archive.models import IngestJob
from archive.values import JobState

STUCK = "stuck"  # a `processing` job without a live lease, as listings show it
SHOWN_STATES = (
    JobState.QUEUED.value,
    JobState.PROCESSING.value,
    STUCK,
    JobState.RETRYING.value,
    JobState.FAILED.value,
    JobState.NEEDS_REVIEW.value,
    JobState.DONE.value,
)
NEEDING_ATTENTION = (STUCK, JobState.FAILED.value, JobState.RETRYING.value)
HOW_QUEUED_JOBS_RUN = "a running `dangan serve` picks them up; or run `dangan jobs run`"


class JobRow(View):
    """One job as the operator sees it: where it stands, how often it ran, why it stopped, who holds it."""

    id: int
    batch_id: int | None
    item: str
    state: str  # the job's state; `stuck` for one `processing` whose worker holds no live lease
    attempts: int
    reason: str | None  # the job's error in full; for a stuck job, what is known about its lost worker
    failure: JobFailure | None  # failed with a refusal's reason: its code, reason and params (the page's words)
    previous_error: str | None  # why it failed before someone retried it
    lease_owner: str | None
    lease_expires_at: str | None
    not_before: str | None
    wait_seconds: float | None  # a retrying job: seconds until its next try (0: due now)
    age_seconds: int  # since it was submitted
    submitted_by: str
    created_at: str
    document_id: int | None
    links: JobLinks

    @classmethod
    def of(cls, job: IngestJob, *, now: dt.datetime) -> JobRow:
        is_stuck = job.state == JobState.PROCESSING and (job.lease_expires_at is None or job.lease_expires_at < now)
        wait = None
        if job.state == JobState.RETRYING:
            wait = max(0.0, (job.not_before - now).total_seconds()) if job.not_before else 0.0
        previous = job.options.get("previous_error") if isinstance(job.options, dict) else None
        error = job.error
        if job.state in (JobState.DONE, JobState.NEEDS_REVIEW):  # filed: an error kept from a passing fault is past
            error, previous = None, previous or job.error
        reason = _readable(job, error) or (_lost_worker(job) if is_stuck else None)
        return cls(
            id=job.id,
            batch_id=job.batch_id,
            item=job.source_name,
            state=STUCK if is_stuck else job.state,
            attempts=job.attempts,
            reason=reason,
            failure=JobFailure.of(job, reason),
            previous_error=_readable(job, str(previous)) if previous else None,
            lease_owner=job.lease_owner,
            lease_expires_at=_iso(job.lease_expires_at),
            not_before=_iso(job.not_before),
            wait_seconds=round(wait, 1) if wait is not None else None,
            age_seconds=max(0, int((now - job.created_at).total_seconds())),
            submitted_by=job.submitted_by,
            created_at=job.created_at.isoformat(),
            document_id=job.document_id,
            links=JobLinks(self=job_url(job.id), document=document_url(job.document_id) if job.document_id else None),
        )


def _readable(job: IngestJob, reason: str | None) -> str | None:
    """A reason names the item as its submitter knows it, not by its spooled copy's name (`00001.png`)."""
    if not reason:
        return reason
    spooled = job.options.get("spooled") if isinstance(job.options, dict) else None
    names = [str(name) for name in spooled] if isinstance(spooled, list) else []
    for number, name in enumerate(names, start=1):
        reason = reason.replace(name, job.source_name if len(names) == 1 else f"{job.source_name} (file {number})")
    return reason


def _lost_worker(job: IngestJob) -> str:
    if job.lease_expires_at is None:
        return "no worker holds it (no lease): the process that ran it stopped"
    owner = f" of {job.lease_owner}" if job.lease_owner else ""
    return f"its worker stopped renewing the lease{owner} (expired {_iso(job.lease_expires_at)})"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class JobList(View):
    """A page of the jobs the caller may see, the filter it answers, and counts per state of all of them."""

    jobs: list[JobRow]
    states: list[str]  # the states listed (empty: all)
    batch_id: int | None
    total: int  # jobs matching the filter (this page holds `len(jobs)` of them from `offset`)
    offset: int
    limit: int
    counts: dict[str, int]  # every job the caller may see (of the batch, with --batch), per state


class RetryRefusal(View):
    """A job that could not be put back in the queue, and why."""

    job: int
    item: str
    error: str
    message: str
    exit_code: int
    reason: str | None = None  # the finer cause, as in an error answer (the page translates it with params)
    params: dict[str, ParamValue] | None = None


class JobRetry(View):
    """What a retry did: the jobs queued again, the ones refused, and how queued jobs run."""

    queued: list[JobRow]
    refused: list[RetryRefusal]
    next_step: str = HOW_QUEUED_JOBS_RUN

    def exit_code(self) -> int:
        return max((refusal.exit_code for refusal in self.refused), default=int(ExitCode.OK))


class JobRunOutcome(View):
    """What `dangan jobs run` ran in its own process, and how each job ended."""

    jobs: list[JobRow]  # the jobs it ran that the caller may see, as they ended
    hidden: int  # jobs it ran that the caller may not see (counted, not shown)
    counts: dict[str, int]
    wall_seconds: float

    def exit_code(self) -> int:
        """The worst outcome's code: a failed job (7) over one waiting after a passing fault (8)."""
        states = {job.state for job in self.jobs}
        if JobState.FAILED in states:
            return int(ProcessingFailed.exit_code)
        if JobState.RETRYING in states:
            return int(StorageUnavailable.exit_code)
        return int(ExitCode.OK)
