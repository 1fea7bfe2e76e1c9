"""The operator's view of ingest jobs: list the ones that need attention (stuck, failed, retrying) with their
reasons, put them back in the queue, and run the queued ones in this process (`dangan jobs ...`, /api/v1/jobs).

A listing's access scope is part of its query (`archive.visibility.job_scope`): pages and counts hold only jobs
the caller may see, and a job they may not see answers exactly like a missing one. Retrying only queues: a
running `dangan serve` picks the job up from the catalogue, or `dangan jobs run` runs it here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.ingest.filing import recover_orphans
from api.ingest.intake import Intake, Progress, RunnerFactory
from api.views.ingest import reason_of
from api.views.jobs import (
    NEEDING_ATTENTION,
    SHOWN_STATES,
    STUCK,
    JobList,
    JobRetry,
    JobRow,
    JobRunOutcome,
    RetryRefusal,
)
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.claims import NEUTRAL_DUPLICATE, duplicate_of
from archive.catalogue.numbering import allocate_reference, reference_in_use
from archive.errors import Conflict, DanganError, InvalidInput, NotFound
from archive.events import AuditAction
from archive.jobs import stuck
from archive.models import Batch, IngestJob, ManifestItem, utcnow
from archive.permissions import Action, authorize
from archive.values import JobState
from archive.visibility import batch_visible, job_scope
from archive.workflow import check_batch_changeable

MAX_LIMIT = 1000


class JobsService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.db = context.db

    # -- listing -----------------------------------------------------------------------------------
    def list_jobs(
        self,
        actor: Principal,
        *,
        states: Sequence[str] = (),
        every: bool = False,
        batch_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> JobList:
        """Jobs the caller may see: by default the ones needing attention; `every` for all; or these `states`."""
        authorize(actor.roles, Action.READ_WORK)
        wanted = _states(states, every=every)
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise InvalidInput(f"limit must be 1 to {MAX_LIMIT} and offset at least 0")
        now = utcnow()
        shown = case((stuck(now), STUCK), else_=IngestJob.state)
        with self.db.read() as session:
            scope = self._scope(session, actor, batch_id)
            matching = [scope, _in_states(wanted, now)] if wanted else [scope]
            total = session.scalar(select(func.count()).select_from(IngestJob).where(*matching)) or 0
            query = select(IngestJob).where(*matching).order_by(IngestJob.id).offset(offset).limit(limit)
            rows = [JobRow.of(job, now=now) for job in session.scalars(query)]
            counted = session.execute(select(shown, func.count()).where(scope).group_by(shown))
            counts = {str(state): int(number) for state, number in counted}
        ordered = {state: counts[state] for state in SHOWN_STATES if state in counts}
        return JobList(
            jobs=rows, states=wanted, batch_id=batch_id, total=total, offset=offset, limit=limit, counts=ordered
        )

    def _scope(self, session: Session, actor: Principal, batch_id: int | None) -> ColumnElement[bool]:
        scope = job_scope(actor, session.get_bind().dialect.name)
        if batch_id is None:
            return scope
        batch = session.get(Batch, batch_id)
        if batch is None or not batch_visible(actor, batch):
            raise NotFound(f"batch {batch_id} does not exist; `dangan batch list` shows the batches you may see")
        return scope & (IngestJob.batch_id == batch_id)

    # -- retrying ----------------------------------------------------------------------------------
    def retry(self, actor: Principal, job_id: int, *, client: str | None = None) -> JobRetry:
        """Put one failed, retrying or stuck job back in the queue (an audit event); refusals raise."""
        authorize(actor.roles, Action.RETRY_JOBS)
        return JobRetry(queued=[self._retry_one(actor, job_id, client=client)], refused=[])

    def retry_failed(self, actor: Principal, *, batch_id: int | None = None, client: str | None = None) -> JobRetry:
        """Every failed job the caller may see (of one batch, with `batch_id`) back in the queue; a job that
        cannot run again (its file gone, or the file archived since) is refused with its reason, the others go."""
        authorize(actor.roles, Action.RETRY_JOBS)
        with self.db.read() as session:
            scope = self._scope(session, actor, batch_id)
            query = select(IngestJob.id, IngestJob.source_name).where(scope, IngestJob.state == JobState.FAILED)
            failed = list(session.execute(query.order_by(IngestJob.id)))
        queued: list[JobRow] = []
        refused: list[RetryRefusal] = []
        for job_id, name in failed:
            try:
                queued.append(self._retry_one(actor, job_id, client=client))
            except DanganError as exc:
                said: dict[str, Any] = {"error": exc.code, "message": exc.message, "exit_code": exc.exit_code}
                said |= reason_of(exc)
                refused.append(RetryRefusal(job=job_id, item=name, **said))
        return JobRetry(queued=queued, refused=refused)

    def _retry_one(self, actor: Principal, job_id: int, *, client: str | None) -> JobRow:
        now = utcnow()
        with self.db.write() as session:
            job = session.scalars(
                select(IngestJob).where(IngestJob.id == job_id, job_scope(actor, session.get_bind().dialect.name))
            ).first()
            if job is None:
                raise NotFound(f"job {job_id} does not exist")
            before = JobRow.of(job, now=now)
            if job.state == JobState.FAILED:
                self._requeue_failed(session, actor, job)
            elif job.state == JobState.RETRYING:
                job.not_before = None  # due now
            elif before.state == STUCK:
                if job.options.get("pending_keys"):
                    recover_orphans(session, self.context.store, job)  # what its lost worker half-wrote
                job.state = JobState.QUEUED
            else:
                raise _not_retryable(before)
            job.lease_owner, job.lease_expires_at = None, None
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.INGEST_RETRY,
                target=f"job:{job.id}",
                client=client,
                details={
                    "item": job.source_name,
                    "batch": job.batch_id,
                    "reference_code": job.reference_code,
                    "was": before.state,
                    "reason": before.reason,
                },
            )
            session.flush()
            return JobRow.of(job, now=now)

    def _requeue_failed(self, session: Session, actor: Principal, job: IngestJob) -> None:
        """Back to queued with its file and its claim on the file's SHA-256 (given up when it failed)."""
        spooled = [Path(job.spool_path or "") / str(name) for name in job.options.get("spooled") or []]  # type: ignore[attr-defined]
        if not job.spool_path or not spooled or not all(path.is_file() for path in spooled):
            raise Conflict(
                f"the file of job {job.id} is gone; submit it again", Conflict.JOB_FILE_GONE, {"job": job.id}
            )
        batch = session.get(Batch, job.batch_id) if job.batch_id is not None else None
        if batch is not None:
            try:
                check_batch_changeable(batch.id, batch.status)  # no new item in a batch sampled or filed since
            except Conflict as exc:  # the cause's reason: what the page says is why
                raise Conflict(f"job {job.id} cannot run again: {exc.message}", exc.reason, exc.params) from None
        sha256 = str(job.options.get("sha256") or "")
        held = duplicate_of(session, sha256, job.source_name, actor) if sha256 else None
        if held is not None:  # archived or queued again since it failed: it must not be filed twice
            raise Conflict(f"job {job.id} cannot run again: {held.message}", held.reason, held.params)
        job.claim_sha256 = sha256 or None
        try:
            session.flush()  # the claim is unique: a simultaneous submission of the same file loses here, or wins
        except IntegrityError:
            raise Conflict(f"job {job.id} cannot run again: {NEUTRAL_DUPLICATE}", Conflict.DUPLICATE_FILE) from None
        if job.reference_code and reference_in_use(session, job.reference_code) is not None and batch is not None:
            manifest = session.get(ManifestItem, job.manifest_item_id) if job.manifest_item_id else None
            try:  # its number was given out again when it failed: it takes the next free one
                job.reference_code, job.item_number = allocate_reference(session, batch, manifest)
            except Conflict as exc:
                raise Conflict(f"job {job.id} cannot run again: {exc.message}", exc.reason, exc.params) from None
        kept = {name: value for name, value in job.options.items() if name != "failure"}  # said by previous_error
        job.options = {**kept, "previous_error": job.error}
        job.state, job.error, job.not_before = JobState.QUEUED, None, None
        job.finished_at, job.seconds = None, None

    # -- running -----------------------------------------------------------------------------------
    def run(self, actor: Principal, *, runner: RunnerFactory, progress: Progress | None = None) -> JobRunOutcome:
        """Run every runnable job of the installation in this process until none is left; how each ended."""
        authorize(actor.roles, Action.RUN_JOBS)
        started = time.perf_counter()
        ran = sorted(Intake(self.context).drive_pending(runner=runner, progress=progress).awaited)
        now = utcnow()
        with self.db.read() as session:
            scope = job_scope(actor, session.get_bind().dialect.name)
            query = select(IngestJob).where(scope, IngestJob.id.in_(ran)).order_by(IngestJob.id)
            rows = [JobRow.of(job, now=now) for job in session.scalars(query)]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        ordered = {state: counts[state] for state in SHOWN_STATES if state in counts}
        seconds = round(time.perf_counter() - started, 3)
        return JobRunOutcome(jobs=rows, hidden=len(ran) - len(rows), counts=ordered, wall_seconds=seconds)


def _states(states: Sequence[str], *, every: bool) -> list[str]:
    if every:
        return []
    if not states:
        return [state for state in SHOWN_STATES if state in NEEDING_ATTENTION]
    unknown = [state for state in states if state not in SHOWN_STATES]
    if unknown:
        raise InvalidInput(f"unknown job state {unknown[0]!r}; use one of: {', '.join(SHOWN_STATES)}")
    return [state for state in SHOWN_STATES if state in states]


def _in_states(wanted: Sequence[str], now: dt.datetime) -> ColumnElement[bool]:
    """Jobs in the shown states, on the indexed state column (`stuck`: processing with no live lease)."""
    stored = [state for state in wanted if state not in (STUCK, JobState.PROCESSING)]
    parts: list[ColumnElement[bool]] = [IngestJob.state.in_(stored)] if stored else []
    if STUCK in wanted:
        parts.append(stuck(now))
    if JobState.PROCESSING in wanted:
        parts.append(and_(IngestJob.state == JobState.PROCESSING, not_(stuck(now))))
    return or_(*parts)


def _not_retryable(row: JobRow) -> Conflict:
    if row.state == JobState.PROCESSING:
        holder = f" by {row.lease_owner}" if row.lease_owner else ""
        return Conflict(
            f"job {row.id} is running{holder} (its lease runs until {row.lease_expires_at}); wait for it to end",
            Conflict.JOB_RUNNING,
            {"job": row.id},
        )
    if row.state == JobState.QUEUED:
        return Conflict(f"job {row.id} is queued already; {HOW}", Conflict.JOB_QUEUED, {"job": row.id})
    return Conflict(
        f"job {row.id} is {row.state.replace('_', ' ')}: only failed, retrying or stuck jobs can be retried",
        Conflict.JOB_NOT_RETRYABLE,
        {"job": row.id, "state": str(row.state)},
    )


HOW = "a running `dangan serve` picks it up; or run `dangan jobs run`"
