"""Running ingest jobs: claim a queued job, OCR it, file the result in one transaction, or record why it failed;
and recovery of what a crash left behind. Mixed into IngestService (api/ingest/service.py).

A job's spooled copy stays until the job ends, so a crash at any point is resumed by running the job again.
Objects are content-addressed, the keys about to be written are recorded first, and the catalogue rows, the
job's end state and the audit event are one transaction: every item is filed exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api.ingest.filing import file_item, planned_objects, recover_orphans, store_objects
from api.search.rows import index_current, indexed_document
from api.wiring import Context
from archive.audit import log as audit
from archive.catalogue.claims import release_claim
from archive.db import Database
from archive.errors import DanganError, UnsupportedFile
from archive.events import AuditAction
from archive.jobs import retry_wait, runnable
from archive.keys import content_key
from archive.models import Document, IngestJob, utcnow
from archive.redact import hide_paths
from archive.values import DocumentStatus, JobState
from ingest.quality.profiles import get_profile
from ingest.results import OcrRequest, OcrResult

log = logging.getLogger(__name__)
OcrCall = Callable[[OcrRequest], OcrResult]


class JobProcessing:
    """What a runner calls: `process_job`; and what a (re)start calls: `pending_job_ids`."""

    context: Context
    db: Database

    def pending_job_ids(self, *, batch_id: int | None = None) -> list[int]:
        """Jobs a crash or shutdown left unfinished, made ready to run again (their half-written objects removed)."""
        with self.db.write() as session:
            query = select(IngestJob).where(
                IngestJob.state.in_([JobState.QUEUED, JobState.PROCESSING, JobState.RETRYING])
            )
            if batch_id is not None:
                query = query.where(IngestJob.batch_id == batch_id)
            jobs = list(session.scalars(query.order_by(IngestJob.id)))
            for job in jobs:
                if job.options.get("pending_keys"):
                    recover_orphans(session, self.context.store, job)
                job.state = JobState.QUEUED
            ids = [job.id for job in jobs]
        self.index_unindexed()
        return ids

    def queued_job_ids(self) -> list[int]:
        """Jobs waiting for a runner, oldest first (queued by any process of the installation), and retrying
        jobs whose wait is over."""
        with self.db.read() as session:
            query = select(IngestJob.id).where(runnable(utcnow())).order_by(IngestJob.id)
            return list(session.scalars(query))

    def index_unindexed(self) -> int:
        """Documents filed before a crash stopped their indexing."""
        with self.db.read() as session:
            unindexed = Document.indexed_at.is_(None) & (Document.status != DocumentStatus.WITHDRAWN)
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
    def process_job(self, job_id: int, ocr: OcrCall) -> None:
        """Run one queued job to its end state. Never raises for a job's own failure: the job records it."""
        if not self._claim(job_id):
            return
        with self.db.read() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            spool, options = Path(job.spool_path or ""), dict(job.options)
        workdir = self.context.settings.home_dir / "work" / f"job-{job_id}"
        shutil.rmtree(workdir, ignore_errors=True)
        started = time.perf_counter()
        try:
            sources = tuple(spool / str(name) for name in options["spooled"])  # type: ignore[attr-defined]
            if not all(path.exists() for path in sources):
                raise UnsupportedFile(f"the spooled copy of job {job_id} is gone; submit the file again")
            request = OcrRequest(
                sources=sources,
                media_type=str(options["media_type"]),
                languages=str(options["languages"]),
                workdir=workdir,
                assumed_dpi=self.context.settings.assumed_dpi,
                page_timeout_seconds=self.context.settings.ocr_page_timeout_seconds,
                profile=get_profile(str(options["profile"]), options.get("profile_overrides")),  # type: ignore[arg-type]
                engine=self.context.settings.ocr_engine,
            )
            result = ocr(request)
            self._file(job_id, list(sources), options, result, seconds=time.perf_counter() - started)
        except DanganError as exc:
            if exc.transient:  # a passing fault: the job waits and runs again, it does not fail
                self._retry_later(job_id, exc)
            else:
                self._fail(job_id, exc.message, seconds=time.perf_counter() - started)
        except Exception as exc:  # a bug or an engine crash must still end the job, with the reason kept
            log.exception("job %s crashed", job_id)
            self._fail(
                job_id, f"internal error: {exc.__class__.__name__}: {exc}", seconds=time.perf_counter() - started
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _claim(self, job_id: int) -> bool:
        with self.db.write() as session:
            claimed = session.execute(
                update(IngestJob)
                .where(IngestJob.id == job_id, runnable(utcnow()))
                .values(state=JobState.PROCESSING, started_at=utcnow(), attempts=IngestJob.attempts + 1)
            )
            return bool(claimed.rowcount)  # type: ignore[attr-defined]

    def _retry_later(self, job_id: int, exc: DanganError) -> None:
        """Back to waiting after a passing fault, with the reason kept and a growing, jittered wait."""
        faults = self.context.settings.faults
        reason = hide_paths(exc.message, self.context.settings.private_paths)
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.options.get("pending_keys"):
                try:
                    recover_orphans(session, self.context.store, job)
                except DanganError:  # the store is what failed: the next try cleans up
                    log.warning("job %s: could not remove its unfiled objects yet", job_id)
            wait = retry_wait(job.attempts, first=faults.retry_first_seconds, maximum=faults.retry_max_seconds)
            job.state, job.error = JobState.RETRYING, reason
            job.options = {**job.options, "fault": {"code": exc.code, "exit_code": int(exc.exit_code)}}
            job.not_before = utcnow() + dt.timedelta(seconds=wait)
        log.warning("job %s waits %.0f s before its next try: %s", job_id, wait, reason)

    def _fail(self, job_id: int, reason: str, *, seconds: float) -> None:
        reason = hide_paths(reason, self.context.settings.private_paths)  # job errors are shown to users
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.options.get("pending_keys"):
                recover_orphans(session, self.context.store, job)
            job.state, job.error, job.finished_at, job.seconds = JobState.FAILED, reason, utcnow(), round(seconds, 3)
            release_claim(job)
            audit.record(
                session,
                actor=job.submitted_by,
                action=AuditAction.INGEST_PROCESS,
                target=f"job:{job_id}",
                outcome="failure",
                details={"item": job.source_name, "reason": reason},
            )
            spool = job.spool_path
        if spool:
            shutil.rmtree(spool, ignore_errors=True)

    def _file(
        self, job_id: int, sources: list[Path], options: dict[str, Any], result: OcrResult, *, seconds: float
    ) -> None:
        planned = planned_objects(sources, options, result)
        with self.db.write() as session:  # the intent: these keys may exist without rows until filed
            job = session.get(IngestJob, job_id)
            assert job is not None
            job.options = {**job.options, "pending_keys": [content_key(sha) for _, _, sha, _ in planned]}
        infos = store_objects(self.context.store, planned)
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.state != JobState.PROCESSING:
                return  # another process filed it first
            document_id = file_item(session, job, result, planned, infos, seconds=seconds).id
            spool = job.spool_path
        if spool:
            shutil.rmtree(spool, ignore_errors=True)
        try:
            index_current(self.context, [document_id])  # its committed state, ordered with any edit since
            self._mark_indexed([document_id])
        except DanganError as exc:  # the item is filed; the index is derived data and can be rebuilt
            log.warning("job %s: filed, but not indexed: %s", job_id, exc.message)
