"""Ingest use cases: accept a file (validate, spool, queue), process a job, and file the result.

A job's spooled copy stays until the job ends, so a crash at any point is resumed by running the job again:
objects are content-addressed (writing them twice is harmless) and the catalogue rows, the job's `done` state
and the audit event are one transaction, so an item is filed exactly once.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from api.services.views import job_view
from api.wiring import Context
from archive import audit
from archive.errors import Conflict, DanganError, InvalidInput, NotFound, UnsupportedFile
from archive.hashing import sha256_bytes, sha256_file
from archive.models import Document, Fonds, IngestJob, Page, StoredObject, utcnow
from archive.ports import BlobInfo, content_key
from archive.values import AccessLevel, DocumentStatus, JobState, ObjectRole
from ingest.kinds import SUPPORTED_SUFFIXES, validate
from ingest.results import OcrRequest, OcrResult
from ingest.tesseract import check_languages
from search.types import IndexedDocument, PageText

log = logging.getLogger(__name__)
OcrCall = Callable[[OcrRequest], OcrResult]


@dataclass(frozen=True)
class IngestOptions:
    languages: str
    level: str
    fonds: str
    title: str | None = None

    def checked(self) -> IngestOptions:
        AccessLevel.parse(self.level)
        if not re.fullmatch(r"[a-z_]{3,}(\+[a-z_]{3,})*", self.languages):
            raise InvalidInput(f"OCR languages {self.languages!r} must look like chi_sim+eng")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.fonds):
            raise InvalidInput(f"fonds code {self.fonds!r} must be letters, digits, '.', '_' or '-'")
        check_languages(self.languages)
        return self


def natural_key(path: Path) -> list[object]:
    """Sort page-2 before page-10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def collect_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every supported file under the given folders, in natural order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    (
                        p
                        for p in path.rglob("*")
                        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
                    ),
                    key=natural_key,
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise InvalidInput(f"{path} does not exist")
    return found


class IngestService:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.db = context.db

    # -- accepting ---------------------------------------------------------------------------------
    def submit(
        self, path: Path, *, display_name: str, options: IngestOptions, actor: str, client: str | None = None
    ) -> dict[str, Any]:
        """Validate and queue one file; nothing is written when it is refused."""
        options = options.checked()
        checked = validate(path, display_name=display_name)
        sha256, size = sha256_file(path)
        existing = self._document_by_sha(sha256)
        if existing is not None:
            raise Conflict(f"{display_name} is already archived as {existing[1]} (document {existing[0]})")
        spooled = self._spool(path, display_name)
        try:
            with self.db.write() as session:
                job = IngestJob(
                    state=JobState.QUEUED,
                    source_name=display_name,
                    spool_path=str(spooled),
                    options=asdict(options) | {"sha256": sha256, "size": size, "media_type": checked.media_type},
                    submitted_by=actor,
                )
                session.add(job)
                session.flush()
                audit.record(
                    session,
                    actor=actor,
                    action="ingest.submit",
                    target=f"job:{job.id}",
                    client=client,
                    details={"file": display_name, "sha256": sha256, "size": size},
                )
                return job_view(job)
        except BaseException:
            spooled.unlink(missing_ok=True)
            raise

    def _spool(self, path: Path, display_name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(display_name).name)[-120:]
        target = self.context.settings.spool_dir / f"{uuid.uuid4().hex}-{safe}"
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(path, partial)
        partial.replace(target)
        return target

    def _document_by_sha(self, sha256: str) -> tuple[int, str] | None:
        with self.db.session() as session:
            row = session.execute(
                select(Document.id, Document.reference_code).where(Document.original_sha256 == sha256)
            ).first()
            return (row[0], row[1]) if row else None

    def job(self, job_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            job = session.get(IngestJob, job_id)
            if job is None:
                raise NotFound(f"job {job_id} does not exist")
            return job_view(job)

    def pending_job_ids(self) -> list[int]:
        """Jobs a crash or shutdown left unfinished; they are run again from their spooled copy."""
        with self.db.write() as session:
            session.execute(
                update(IngestJob).where(IngestJob.state == JobState.PROCESSING).values(state=JobState.QUEUED)
            )
            return list(session.scalars(select(IngestJob.id).where(IngestJob.state == JobState.QUEUED)))

    # -- processing --------------------------------------------------------------------------------
    def process_job(self, job_id: int, ocr: OcrCall) -> None:
        """Run one queued job to done or failed. Never raises for a job's own failure: the job records it."""
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
            if not spool.exists():
                raise UnsupportedFile(f"the spooled copy of job {job_id} is gone; submit the file again")
            request = OcrRequest(
                source=spool,
                media_type=str(options["media_type"]),
                languages=str(options["languages"]),
                workdir=workdir,
                assumed_dpi=self.context.settings.assumed_dpi,
                page_timeout_seconds=self.context.settings.ocr_page_timeout_seconds,
            )
            result = ocr(request)
            self._file(job_id, spool, options, result, seconds=time.perf_counter() - started)
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
                .values(state=JobState.PROCESSING, started_at=utcnow())
            )
            return bool(claimed.rowcount)  # type: ignore[attr-defined]

    def _fail(self, job_id: int, reason: str, *, seconds: float) -> None:
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            job.state, job.error, job.finished_at, job.seconds = JobState.FAILED, reason, utcnow(), round(seconds, 3)
            audit.record(
                session,
                actor=job.submitted_by,
                action="ingest.process",
                target=f"job:{job_id}",
                outcome="failure",
                details={"file": job.source_name, "reason": reason},
            )
            spool = job.spool_path
        if spool:
            Path(spool).unlink(missing_ok=True)

    def _file(self, job_id: int, spool: Path, options: dict[str, Any], result: OcrResult, *, seconds: float) -> None:
        """Store the objects, then catalogue them with the job's completion and an audit event in one go."""
        store = self.context.store
        sha256 = str(options["sha256"])
        original = store.put_file(content_key(sha256), spool, expected_sha256=sha256)
        pdfa_sha, _ = sha256_file(result.pdfa_path)
        pdfa = store.put_file(content_key(pdfa_sha), result.pdfa_path, expected_sha256=pdfa_sha)
        text_bytes = "\f".join(page.text for page in result.pages).encode("utf-8")
        text = store.put_bytes(content_key(sha256_bytes(text_bytes)), text_bytes)
        with self.db.write() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            if job.state != JobState.PROCESSING:
                return  # another process filed it first
            document = _new_document(session, job, options, result)
            for role, info, media_type in (
                (ObjectRole.ORIGINAL, original, str(options["media_type"])),
                (ObjectRole.PDFA, pdfa, "application/pdf"),
                (ObjectRole.TEXT, text, "text/plain; charset=utf-8"),
            ):
                document.objects.append(_object_row(role, info, media_type))
            session.flush()
            job.state, job.document_id, job.finished_at = JobState.DONE, document.id, utcnow()
            job.seconds = round(seconds, 3)
            audit.record(
                session,
                actor=job.submitted_by,
                action="ingest.process",
                target=f"document:{document.id}",
                details={
                    "file": job.source_name,
                    "pages": len(result.pages),
                    "job": job_id,
                    "reference_code": document.reference_code,
                },
            )
            indexed = indexed_document(document)
        spool.unlink(missing_ok=True)
        try:
            self.context.index.upsert([indexed])
        except DanganError as exc:  # the item is filed; the index is derived data and can be rebuilt
            log.warning("job %s: filed, but not indexed: %s", job_id, exc.message)
            with self.db.write() as session:
                job = session.get(IngestJob, job_id)
                assert job is not None
                job.error = f"filed, but the search index was not updated ({exc.message})"


def _object_row(role: ObjectRole, info: BlobInfo, media_type: str) -> StoredObject:
    assert info.sha256 is not None
    return StoredObject(key=info.key, sha256=info.sha256, size=info.size, media_type=media_type, role=role)


def _new_document(session: Any, job: IngestJob, options: dict[str, Any], result: OcrResult) -> Document:
    fonds = session.scalars(select(Fonds).where(Fonds.code == options["fonds"])).first()
    if fonds is None:
        fonds = Fonds(code=options["fonds"], name=options["fonds"])
        session.add(fonds)
        session.flush()
    sequence = session.scalar(select(func.count(Document.id)).where(Document.fonds_id == fonds.id)) + 1
    title = options.get("title") or re.sub(r"[-_]+", " ", Path(job.source_name).stem).strip() or job.source_name
    document = Document(
        fonds=fonds,
        reference_code=f"{fonds.code}-{sequence:05d}",
        title=title,
        date=None,
        access_level=int(AccessLevel.parse(str(options["level"]))),
        departments=[],
        language=str(options["languages"]),
        status=DocumentStatus.READY,
        original_filename=job.source_name,
        original_sha256=str(options["sha256"]),
        page_count=len(result.pages),
        created_at=utcnow(),
    )
    for page in result.pages:
        document.pages.append(
            Page(
                number=page.number,
                width_px=page.width_px,
                height_px=page.height_px,
                dpi=page.dpi,
                text=page.text,
                ocr_confidence=page.confidence,
                text_source=page.text_source,
            )
        )
    session.add(document)
    session.flush()
    return document


def indexed_document(document: Document) -> IndexedDocument:
    return IndexedDocument(
        document_id=document.id,
        reference_code=document.reference_code,
        title=document.title,
        fonds=document.fonds.code,
        level=document.access_level,
        departments=tuple(document.departments),
        pages=tuple(PageText(page.number, page.text) for page in document.pages),
    )
