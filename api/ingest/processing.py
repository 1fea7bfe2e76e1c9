"""Running ingest jobs: claim a runnable job under a lease, OCR it, file the result in one transaction, or record
why it failed; and recovery of what a crash left behind. Mixed into IngestService (api/ingest/service.py).

A job's spooled copy stays until it is filed (a failed job keeps it, to be retried), so a crash at any point is
resumed by running the job again. Objects are content-addressed, the keys about to be written are recorded
first, and the catalogue rows, the job's end state and the audit event are one transaction: every item is
filed exactly once. Every write that ends a job is fenced by its lease (archive.jobs.held_by): a runner that
lost its lease (paused past expiry) leaves the job to the runner that holds it now.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.ingest.filing import discard_sealed, file_item, planned_objects, recover_orphans, seal_planned, store_objects
from api.ingest.leases import LeaseLost, hand_back_quietly, new_owner, remove_unfiled
from api.ingest.process import page_captures
from api.ingest.rescan import recover_rescans
from api.sealing import encrypts
from api.search.page_images import derive_after_filing
from api.search.rows import index_current, indexed_document
from api.wiring import Context, engine_options
from archive.audit import log as audit
from archive.catalogue.claims import release_claim
from archive.db import Database
from archive.errors import DanganError, UnsupportedFile
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.jobs import claim_values, failure_of, held_by, poison_reason, poisoned, retry_wait, runnable
from archive.keys import content_key
from archive.models import Document, IngestJob, utcnow
from archive.redact import hide_paths
from archive.values import JobState
from archive.workflow import OUT_OF_USE, transition_job
from ingest.capture import ImageCapture
from ingest.quality.profiles import get_profile
from ingest.results import OcrRequest, OcrResult
from storage_config.encryption import Sealed

log = logging.getLogger(__name__)
OcrCall = Callable[[OcrRequest], OcrResult]


@dataclass(frozen=True)
class _Claimed:
    job_id: int
    spool: Path
    options: dict[str, Any]
    lost_leases: int


class JobProcessing:
    """What a runner calls: `process_job`; and what a (re)start calls: `pending_job_ids`."""

    context: Context
    db: Database
    remove_stray_files: Callable[[], list[str]]  # IngestService's

    def pending_job_ids(self) -> list[int]:
        """What a (re)start runs: every runnable job of the installation, whatever batch or process queued it
        (expired leases included; live ones are left to their owner), after indexing what a crash left
        unindexed, removing what a killed rescan stored but never catalogued, and sweeping the folders dead
        processes left (IngestService.remove_stray_files)."""
        recover_rescans(self.context)
        self.remove_stray_files()
        self.index_unindexed()
        return self.runnable_job_ids()

    def runnable_job_ids(self) -> list[int]:
        """Jobs any runner may claim now, oldest first: queued, retrying and due, or held by an expired lease."""
        with self.db.read() as session:
            query = select(IngestJob.id).where(runnable(utcnow())).order_by(IngestJob.id)
            return list(session.scalars(query))

    queued_job_ids = runnable_job_ids

    def unfinished_job_ids(self, batch_id: int) -> list[int]:
        """The batch's jobs that have not ended (queued, retrying, or processing under anyone's lease)."""
        unfinished = (JobState.QUEUED, JobState.RETRYING, JobState.PROCESSING)
        with self.db.read() as session:
            query = select(IngestJob.id).where(IngestJob.batch_id == batch_id, IngestJob.state.in_(unfinished))
            return list(session.scalars(query.order_by(IngestJob.id)))

    def job_states(self, job_ids: list[int]) -> dict[int, tuple[str, str]]:
        """(state, item name) of each job, as the catalogue has it now (whichever process runs it)."""
        if not job_ids:
            return {}
        with self.db.read() as session:
            rows = session.execute(
                select(IngestJob.id, IngestJob.state, IngestJob.source_name).where(IngestJob.id.in_(job_ids))
            )
            return {int(job_id): (str(state), str(name)) for job_id, state, name in rows}

    def index_unindexed(self) -> int:
        """Documents filed before a crash stopped their indexing."""
        with self.db.read() as session:
            unindexed = Document.indexed_at.is_(None) & (Document.status.not_in(OUT_OF_USE))
            documents = list(session.scalars(select(Document).where(unindexed)))
            batch = [indexed_document(document) for document in documents]
        if batch:
            self.context.index.upsert(batch)
            self._mark_indexed([d.document_id for d in batch])
        return len(batch)

    def _mark_indexed(self, document_ids: list[int]) -> None:
        with self.db.write() as session:
            session.execute(update(Document).where(Document.id.in_(document_ids)).values(indexed_at=utcnow()))

    # -- processing --------------------------------------------------------------------------------
    def process_job(self, job_id: int, ocr: OcrCall, *, owner: str | None = None) -> None:
        """Claim the job for `owner` (a runner's lease owner; by default a one-off owner that renews nothing) and
        run it to its end state; nothing when another runner holds it. Never raises for a job's own failure: the
        job records it. A stop (a BaseException such as the runner's RunnerStopped, or Ctrl-C) hands the job back,
        queued, before it propagates."""
        owner = owner or new_owner()
        claimed = self._claim(job_id, owner)
        if claimed is None:
            return
        try:
            deaths = self.context.settings.faults.poison_deaths
            if poisoned(claimed.lost_leases, deaths):  # its runners keep dying on it: stop before the next death
                self._fail(job_id, owner, poison_reason(job_id, claimed.lost_leases), seconds=0.0)
                return
            failpoint("job.claimed")
            self._run(claimed, ocr, owner)
        except LeaseLost:
            log.warning("job %s: its lease was taken over by another runner; this one leaves it", job_id)
        except BaseException:
            hand_back_quietly(self.db, self.context.store, owner, [job_id])
            raise

    def _run(self, claimed: _Claimed, ocr: OcrCall, owner: str) -> None:
        job_id, options = claimed.job_id, claimed.options
        workdir = self.context.settings.home_dir / "work" / f"job-{job_id}-{owner.rsplit(':', 1)[-1]}"
        shutil.rmtree(workdir, ignore_errors=True)
        started = time.perf_counter()
        try:
            if options.get("pending_keys"):  # taken over from a runner that died while filing it
                self._recover(job_id, owner)
            sources = tuple(claimed.spool / str(name) for name in options["spooled"])
            if not all(path.exists() for path in sources):
                raise UnsupportedFile(
                    f"the spooled copy of job {job_id} is gone; submit the file again",
                    UnsupportedFile.SPOOLED_COPY_GONE,
                    {"job": job_id},
                )
            request = OcrRequest(
                sources=sources,
                media_type=str(options["media_type"]),
                languages=str(options["languages"]),
                workdir=workdir,
                assumed_dpi=self.context.settings.assumed_dpi,
                page_timeout_seconds=self.context.settings.ocr_page_timeout_seconds,
                profile=get_profile(str(options["profile"]), options.get("profile_overrides")),
                engine=str(options.get("engine") or self.context.settings.ocr_engine),
                engine_options=engine_options(self.context.settings),
            )
            result = ocr(request)
            failpoint("job.ocr_done")
            self._file(job_id, owner, list(sources), options, result, seconds=time.perf_counter() - started)
        except DanganError as exc:
            if exc.transient:  # a passing fault: the job waits and runs again, it does not fail
                self._retry_later(job_id, owner, exc)
            else:
                self._fail(job_id, owner, exc.message, seconds=time.perf_counter() - started, error=exc)
        except LeaseLost:  # not the job's failure: another runner holds it now
            raise
        except Exception as exc:  # a bug or an engine crash must still end the job, with the reason kept
            log.exception("job %s crashed", job_id)
            reason = f"internal error: {exc.__class__.__name__}: {exc}"
            self._fail(job_id, owner, reason, seconds=time.perf_counter() - started)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _claim(self, job_id: int, owner: str) -> _Claimed | None:
        """One UPDATE ... WHERE runnable: of any number of runners asking at once, one gets the job."""
        lease = self.context.settings.faults.job_lease_seconds
        with self.db.write() as session:
            now = utcnow()
            claimed = session.execute(
                update(IngestJob)
                .where(IngestJob.id == job_id, runnable(now))
                .values(claim_values(owner, now, lease))
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return None
            job = session.get(IngestJob, job_id)
            assert job is not None
            return _Claimed(job_id, Path(job.spool_path or ""), dict(job.options), int(job.lost_leases))

    @staticmethod
    def _held(session: Session, job_id: int, owner: str) -> IngestJob:
        """The job, locked, if `owner` still holds it; LeaseLost if not (the fence)."""
        query = select(IngestJob).where(IngestJob.id == job_id, held_by(owner)).with_for_update()
        job = session.scalars(query).first()
        if job is None:
            raise LeaseLost(job_id)
        return job

    def _recover(self, job_id: int, owner: str) -> None:
        with self.db.write() as session:
            recover_orphans(session, self.context.store, self._held(session, job_id, owner))

    def _retry_later(self, job_id: int, owner: str, exc: DanganError) -> None:
        """Back to waiting after a passing fault, with the reason (and its exit code) kept and a growing,
        jittered wait."""
        faults = self.context.settings.faults
        reason = hide_paths(exc.message, self.context.settings.private_paths)
        with self.db.write() as session:
            job = self._held(session, job_id, owner)
            if job.options.get("pending_keys"):
                try:
                    recover_orphans(session, self.context.store, job)
                except DanganError:  # the store is what failed: the next try cleans up
                    log.warning("job %s: could not remove its unfiled objects yet", job_id)
            wait = retry_wait(job.attempts, first=faults.retry_first_seconds, maximum=faults.retry_max_seconds)
            wait = max(wait, float(exc.retry_after or 0))  # not before the part says it may be back (the breaker)
            job.state, job.error = transition_job(job_id, job.state, JobState.RETRYING), reason
            job.options = {**job.options, "fault": {"code": exc.code, "exit_code": int(exc.exit_code)}}
            job.lease_expires_at = None  # lease_owner stays: the runner that ended it
            job.not_before = utcnow() + dt.timedelta(seconds=wait)
        log.warning("job %s waits %.0f s before its next try: %s", job_id, wait, reason)

    def _fail(self, job_id: int, owner: str, reason: str, *, seconds: float, error: DanganError | None = None) -> None:
        """The job ends failed with its reason. Its spooled copy stays, so that it can be retried once fixed
        (`dangan jobs retry`); its claim on the item's SHA-256 is released, so the file can be submitted again.
        A refusal that names its reason keeps its code, reason and params too (`failure`), for the page to say it
        in its language; a crash keeps only its English (it is a bug report)."""
        hidden = self.context.settings.private_paths
        reason = hide_paths(reason, hidden)  # job errors are shown to users
        with self.db.write() as session:
            job = self._held(session, job_id, owner)
            if job.options.get("pending_keys"):
                recover_orphans(session, self.context.store, job)
            job.state, job.error = transition_job(job_id, job.state, JobState.FAILED), reason
            if error is not None and error.reason is not None:
                job.options = {**job.options, "failure": failure_of(error, hidden)}
            job.finished_at, job.seconds = utcnow(), round(seconds, 3)
            job.lease_expires_at = None  # lease_owner stays: the runner that ended it
            release_claim(job)
            audit.record(
                session,
                actor=job.submitted_by,
                action=AuditAction.INGEST_PROCESS,
                target=f"job:{job_id}",
                outcome="failure",
                details={"item": job.source_name, "reason": reason},
            )

    def _file(
        self,
        job_id: int,
        owner: str,
        sources: list[Path],
        options: dict[str, Any],
        result: OcrResult,
        *,
        seconds: float,
    ) -> None:
        planned = planned_objects(sources, options, result)
        captures = page_captures(sources, str(options["media_type"]), result)  # the images' own tags, before filing
        seals: list[Sealed | None] = [None] * len(planned)
        with self.db.read() as session:
            level = session.scalars(select(IngestJob.access_level).where(IngestJob.id == job_id)).first()
        if encrypts(self.context.settings, level):  # sealed into the spool first: the keys are the stored bytes'
            planned, seals = seal_planned(self.context.envelope, planned, self.context.settings.spool_dir / "seal")
        try:
            self._store_and_file(job_id, owner, planned, seals, result, captures, seconds=seconds)
        finally:
            discard_sealed(seals)

    def _store_and_file(
        self,
        job_id: int,
        owner: str,
        planned: list[tuple[str, Path | bytes, str, str]],
        seals: list[Sealed | None],
        result: OcrResult,
        captures: list[ImageCapture | None],
        *,
        seconds: float,
    ) -> None:
        keys = [content_key(sha) for _, _, sha, _ in planned]
        with self.db.write() as session:  # the intent: these keys may exist without rows until filed
            job = self._held(session, job_id, owner)
            job.options = {**job.options, "pending_keys": keys}
        failpoint("job.intent_recorded")
        infos = store_objects(self.context.store, planned)
        failpoint("job.stored")
        try:
            with self.db.write() as session:
                job = self._held(session, job_id, owner)
                transition_job(job_id, job.state, JobState.DONE)
                document_id = file_item(
                    session, job, result, planned, infos, seconds=seconds, captures=captures, seals=seals
                ).id
                job.lease_expires_at = None  # lease_owner stays: the runner that ended it
                spool = job.spool_path
        except LeaseLost:  # another runner holds the job now: what this one wrote must not stay unfiled
            remove_unfiled(self.db, self.context.store, keys, job_id)
            raise
        failpoint("job.filed")
        if spool:
            shutil.rmtree(spool, ignore_errors=True)
        try:
            index_current(self.context, [document_id])  # its committed state, ordered with any edit since
            failpoint("job.indexed")
            self._mark_indexed([document_id])
        except DanganError as exc:  # the item is filed; the index is derived data and can be rebuilt
            log.warning("job %s: filed, but not indexed: %s", job_id, exc.message)
        derive_after_filing(self.context, document_id, result.pdfa_path)  # derived too: never fails the job
