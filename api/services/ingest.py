"""Ingest use cases: accept an item (validate, spool, number, queue), process its job, file the result.

A job's spooled copy stays until the job ends, so a crash at any point is resumed by running the job again.
Objects are content-addressed, the keys about to be written are recorded first, and the catalogue rows, the
job's end state and the audit event are one transaction: every item is filed exactly once.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.services.filing import file_item, indexed_document, planned_objects, recover_orphans, store_objects
from api.services.numbering import allocate_reference
from api.services.views import job_view
from api.wiring import Context
from archive import audit
from archive.dates import stored_text
from archive.errors import Conflict, DanganError, NotFound, UnsupportedFile
from archive.hashing import sha256_bytes, sha256_file
from archive.models import Batch, Document, IngestJob, ManifestItem, utcnow
from archive.redact import hide_paths
from archive.values import BatchStatus, DocumentStatus, JobState
from ingest.grouping import PlannedItem
from ingest.kinds import validate
from ingest.quality import get_profile
from ingest.results import OcrRequest, OcrResult

log = logging.getLogger(__name__)
OcrCall = Callable[[OcrRequest], OcrResult]


class IngestService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.db = context.db

    # -- accepting ---------------------------------------------------------------------------------
    def submit_item(
        self, batch_id: int, item: PlannedItem, *, actor: str, client: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        """Validate every file of the item and queue it; nothing is written when it is refused."""
        checked = [validate(path, display_name=_display_name(item, path)) for path in item.sources]
        media_types = {c.media_type for c in checked}
        if len(checked) > 1 and (len(media_types) > 1 or "application/pdf" in media_types):
            raise UnsupportedFile(f"{item.name}: a multi-file item must be page images of one type")
        hashes = [sha256_file(path)[0] for path in item.sources]
        item_sha = hashes[0] if len(hashes) == 1 else sha256_bytes("".join(hashes).encode())
        existing = self._document_by_sha(item_sha)
        if existing is not None:
            raise Conflict(f"{item.name} is already archived as {existing[1]} (document {existing[0]})")
        spool = self._spool(item)
        try:
            with self.db.write() as session:
                batch = self._open_batch(session, batch_id)
                manifest = self._manifest_row(session, batch, item.manifest_row)
                reference, number = allocate_reference(session, batch, manifest)
                job = IngestJob(
                    batch_id=batch.id,
                    state=JobState.QUEUED,
                    source_name=item.name,
                    spool_path=str(spool),
                    submitted_by=actor,
                    options={
                        "languages": batch.languages,
                        "level": batch.level,
                        "fonds": batch.fonds.code,
                        "profile": batch.profile,
                        "profile_overrides": dict(batch.profile_overrides),
                        "title": title or (manifest.title if manifest and manifest.title else _title(item.name)),
                        "date": stored_text(manifest.date, manifest.date_precision) if manifest else None,
                        "manifest_item_id": manifest.id if manifest else None,
                        "item_number": number,
                        "reference_code": reference,
                        "media_type": checked[0].media_type,
                        "sha256": item_sha,
                        "source_sha256": hashes,
                        "spooled": [p.name for p in sorted(spool.iterdir())],
                    },
                )
                session.add(job)
                session.flush()
                audit.record(
                    session,
                    actor=actor,
                    action="ingest.submit",
                    target=f"job:{job.id}",
                    client=client,
                    details={
                        "item": item.name,
                        "files": len(item.sources),
                        "sha256": item_sha,
                        "batch": batch.id,
                        "reference_code": reference,
                    },
                )
                return job_view(job)
        except BaseException:
            shutil.rmtree(spool, ignore_errors=True)
            raise

    def upload_batch(self, actor: str, *, fonds: str | None = None) -> int:
        """The open batch a user's loose uploads go to (one per user and fonds, made on first use)."""
        fonds = fonds or self.context.settings.default_fonds
        label = f"web uploads of {actor}"
        with self.db.session() as session:
            found = session.scalars(
                select(Batch.id)
                .join(Batch.fonds)
                .where(
                    Batch.label == label,
                    Batch.status == BatchStatus.OPEN,
                    Batch.created_by == actor,
                    Batch.fonds.has(code=fonds),
                )
            ).first()
        if found is not None:
            return found
        from api.services.batches import BatchService

        return int(BatchService(self.context).create(actor=actor, fonds=fonds, label=label)["id"])

    def ensure_open(self, batch_id: int) -> None:
        """Refuse files for a batch that is sampled, accepted or filed, before any upload is received."""
        with self.db.session() as session:
            self._open_batch(session, batch_id)

    def _open_batch(self, session: Session, batch_id: int) -> Batch:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise NotFound(f"batch {batch_id} does not exist; create one with `dangan batch create`")
        if batch.status not in (BatchStatus.OPEN, BatchStatus.RETURNED):
            raise Conflict(f"batch {batch_id} is {batch.status}; files can only be added to an open batch")
        return batch

    @staticmethod
    def _manifest_row(session: Session, batch: Batch, row_number: int | None) -> ManifestItem | None:
        if row_number is None:
            return None
        return session.scalars(
            select(ManifestItem).where(ManifestItem.batch_id == batch.id, ManifestItem.row_number == row_number)
        ).first()

    def _spool(self, item: PlannedItem) -> Path:
        """Copy the item's files into a private folder: the job's durable input until it ends."""
        folder = self.context.settings.spool_dir / uuid.uuid4().hex
        partial = folder.with_name(folder.name + ".part")
        partial.mkdir(parents=True)
        for index, path in enumerate(item.sources, start=1):
            shutil.copyfile(path, partial / f"{index:05d}{path.suffix.lower()}")
        partial.replace(folder)
        return folder

    def _document_by_sha(self, sha256: str) -> tuple[int, str] | None:
        with self.db.session() as session:
            row = session.execute(
                select(Document.id, Document.reference_code).where(Document.original_sha256 == sha256)
            ).first()
            if row is not None:
                return (row[0], row[1])
            for job in session.scalars(
                select(IngestJob).where(IngestJob.state.in_([JobState.QUEUED, JobState.PROCESSING]))
            ):
                if job.options.get("sha256") == sha256:
                    return (0, f"queued job {job.id}")
        return None

    def job(self, job_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            job = session.get(IngestJob, job_id)
            if job is None:
                raise NotFound(f"job {job_id} does not exist")
            return job_view(job)

    def pending_job_ids(self, *, batch_id: int | None = None) -> list[int]:
        """Jobs a crash or shutdown left unfinished, made ready to run again (their half-written objects removed)."""
        with self.db.write() as session:
            query = select(IngestJob).where(IngestJob.state.in_([JobState.QUEUED, JobState.PROCESSING]))
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

    def index_unindexed(self) -> int:
        """Documents filed before a crash stopped their indexing."""
        with self.db.session() as session:
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
        with self.db.session() as session:
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
            )
            result = ocr(request)
            self._file(job_id, list(sources), options, result, seconds=time.perf_counter() - started)
        except DanganError as exc:
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
                .where(IngestJob.id == job_id, IngestJob.state == JobState.QUEUED)
                .values(state=JobState.PROCESSING, started_at=utcnow(), attempts=IngestJob.attempts + 1)
            )
            return bool(claimed.rowcount)  # type: ignore[attr-defined]

    def _fail(self, job_id: int, reason: str, *, seconds: float) -> None:
        reason = hide_paths(reason, self.context.settings.private_paths)  # job errors are shown to users
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.options.get("pending_keys"):
                recover_orphans(session, self.context.store, job)
            job.state, job.error, job.finished_at, job.seconds = JobState.FAILED, reason, utcnow(), round(seconds, 3)
            audit.record(
                session,
                actor=job.submitted_by,
                action="ingest.process",
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
            job.options = {**job.options, "pending_keys": [f"sha256/{sha[:2]}/{sha}" for _, _, sha, _ in planned]}
        infos = store_objects(self.context.store, planned)
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.state != JobState.PROCESSING:
                return  # another process filed it first
            document = file_item(session, job, result, planned, infos, seconds=seconds)
            indexed = indexed_document(document)
            spool = job.spool_path
        if spool:
            shutil.rmtree(spool, ignore_errors=True)
        try:
            self.context.index.upsert([indexed])
            self._mark_indexed([indexed.document_id])
        except DanganError as exc:  # the item is filed; the index is derived data and can be rebuilt
            log.warning("job %s: filed, but not indexed: %s", job_id, exc.message)


def _display_name(item: PlannedItem, path: Path) -> str:
    """The name a person recognises: the file's own, or folder/file for a page of a folder item."""
    if len(item.sources) == 1 and Path(item.name).suffix.lower() == path.suffix.lower():
        return item.name
    return f"{item.name}/{path.name}"


def _title(name: str) -> str:
    stem = Path(name.split("..", maxsplit=1)[0]).stem if "." in name else name
    return re.sub(r"[-_]+", " ", stem).strip() or name
