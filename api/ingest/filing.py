"""Filing a processed item: objects into the store, then catalogue rows, findings, job state and the audit
event in one transaction, then the search index.

Crash safety: the keys about to be written are recorded on the job first (an intent), so a crash between the
writes and the catalogue transaction leaves objects that `recover_orphans` can remove: no object without a
row, no row without an object.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ingest.process import declared_scan, imaging_detail, page_process
from api.sealing import apply_seal, seal_content
from archive import history
from archive.audit import log as audit
from archive.catalogue.metadata import TEXT_FIELDS
from archive.dates import PartialDate
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.hashing import sha256_bytes, sha256_file
from archive.models import Batch, Document, IngestJob, ManifestItem, Page, QualityFinding, StoredObject, utcnow
from archive.ports import BlobInfo, BlobStore, content_key
from archive.values import DocumentStatus, JobState, ObjectRole
from ingest.capture import ImageCapture, capture_findings
from ingest.results import OcrResult, WordBox
from storage_config.encryption import Envelope, Sealed


def stored_boxes(boxes: tuple[WordBox, ...]) -> list[list[Any]]:
    """A page's boxes as the catalogue keeps them: [text, left, top, right, bottom] each (fractions)."""
    return [[box.text, *box.box] for box in boxes]


def planned_objects(
    spooled: list[Path], options: dict[str, Any], result: OcrResult
) -> list[tuple[str, Path | bytes, str, str]]:
    """(role, content, sha256, media type) for every object this item will store."""
    planned: list[tuple[str, Path | bytes, str, str]] = []
    for path, sha in zip(spooled, options["source_sha256"], strict=True):
        planned.append((ObjectRole.ORIGINAL, path, sha, str(options["media_type"])))
    planned.append((ObjectRole.PDFA, result.pdfa_path, sha256_file(result.pdfa_path)[0], "application/pdf"))
    text = "\f".join(page.text for page in result.pages).encode("utf-8")
    planned.append((ObjectRole.TEXT, text, sha256_bytes(text), "text/plain; charset=utf-8"))
    return planned


def seal_planned(
    envelope: Envelope, planned: list[tuple[str, Path | bytes, str, str]], folder: Path
) -> tuple[list[tuple[str, Path | bytes, str, str]], list[Sealed | None]]:
    """The plan with each object replaced by its sealed file (and the stored bytes' hash): an encrypted record's."""
    sealed = [seal_content(envelope, content, sha, folder) for _role, content, sha, _media in planned]
    resealed: list[tuple[str, Path | bytes, str, str]] = [
        (role, done.path, done.sha256, media) for (role, _c, _s, media), done in zip(planned, sealed, strict=True)
    ]
    return resealed, list(sealed)


def discard_sealed(seals: list[Sealed | None]) -> None:
    for sealed in seals:
        if sealed is not None:
            sealed.path.unlink(missing_ok=True)


def store_objects(store: BlobStore, planned: list[tuple[str, Path | bytes, str, str]]) -> list[BlobInfo]:
    infos: list[BlobInfo] = []
    for _role, content, sha, _media in planned:
        key = content_key(sha)
        if isinstance(content, Path):
            infos.append(store.put_file(key, content, expected_sha256=sha))
        else:
            infos.append(store.put_bytes(key, content))
        failpoint("filing.object_stored")  # under the job's intent, before the catalogue knows it
    return infos


def new_document(
    session: Session, job: IngestJob, batch: Batch, result: OcrResult, captures: list[ImageCapture | None] | None = None
) -> Document:
    """The record and its pages; `captures` (what each page's image says of its capture) become each page's
    process metadata, and a mismatch with what the batch declares a finding (warn)."""
    options = job.options
    captures = captures or [None] * len(result.pages)
    declared = declared_scan(batch)
    date = PartialDate.parse_optional(str(options.get("date") or ""))  # kept at the manifest's precision
    status = DocumentStatus.NEEDS_REVIEW if any(page.held for page in result.pages) else DocumentStatus.READY
    document = Document(
        fonds_id=batch.fonds_id,
        batch_id=batch.id,
        manifest_item_id=job.manifest_item_id,
        item_number=job.item_number,
        reference_code=str(job.reference_code),
        title=str(options.get("title") or job.source_name),
        date=date.start() if date else None,
        date_precision=date.stored_precision if date else None,
        access_level=job.access_level,
        departments=sorted(set(job.departments or [])),
        language=str(options["languages"]),
        status=status,
        original_filename=job.source_name,
        original_sha256=str(options["sha256"]),
        page_count=len(result.pages),
        created_at=utcnow(),
    )
    _describe(session, document, job, batch)
    for page, capture in zip(result.pages, captures, strict=True):
        row = Page(
            number=page.number,
            version=1,
            current=True,
            width_px=page.width_px,
            height_px=page.height_px,
            dpi=page.dpi,
            text=page.text,
            ocr_confidence=page.confidence,
            text_source=page.text_source,
            measurements=page.measurements | {"rotated_degrees": page.rotated_degrees, "ocr_engine": page.engine},
            boxes=stored_boxes(page.boxes),
            review="held" if page.held else "ok",
            process=page_process(batch, job.submitted_by, job.created_at, capture),
        )
        found = [*page.findings, *capture_findings(capture, declared)]
        row.findings = [QualityFinding(**asdict(finding)) for finding in found]
        document.all_pages.append(row)
    session.add(document)
    session.flush()
    return document


def _describe(session: Session, document: Document, job: IngestJob, batch: Batch) -> None:
    """The manifest row's descriptive metadata onto the record (checked when the batch was created); 归档年度
    defaults to the batch's year, 保管期限 to the series' (the batch's: the record keeps None)."""
    manifest = session.get(ManifestItem, job.manifest_item_id) if job.manifest_item_id else None
    given = dict(manifest.descriptive or {}) if manifest is not None else {}
    document.archival_year = batch.year
    document.keywords = []
    document.custom_fields = {}
    for name in (*TEXT_FIELDS, "archival_year", "keywords", "custom_fields"):
        if given.get(name) not in (None, "", [], {}):
            setattr(document, name, given[name])
    retention = given.get("retention")
    if retention and retention != batch.retention:
        document.retention = str(retention)


def attach_objects(
    document: Document,
    planned: list[tuple[str, Path | bytes, str, str]],
    infos: list[BlobInfo],
    *,
    per_page: bool,
    seals: list[Sealed | None] | None = None,
) -> None:
    """Record the stored objects; originals of a folder item belong to their page."""
    pages = document.all_pages
    originals = 0
    seals = seals or [None] * len(planned)
    for (role, _content, sha, media_type), info, sealed in zip(planned, infos, seals, strict=True):
        page_id = None
        if role == ObjectRole.ORIGINAL and per_page:
            page_id = pages[originals].id
            originals += 1
        row = StoredObject(
            key=info.key, sha256=sha, size=info.size, media_type=media_type, role=role, page_id=page_id, current=True
        )
        apply_seal(row, sealed)
        document.objects.append(row)


def file_item(
    session: Session,
    job: IngestJob,
    result: OcrResult,
    planned: list[Any],
    infos: list[BlobInfo],
    *,
    seconds: float,
    captures: list[ImageCapture | None] | None = None,
    seals: list[Sealed | None] | None = None,
) -> Document:
    batch = session.get(Batch, job.batch_id)
    assert batch is not None
    document = new_document(session, job, batch, result, captures)
    per_page = len(list(job.options["source_sha256"])) > 1  # type: ignore[call-overload]
    attach_objects(document, planned, infos, per_page=per_page, seals=seals)
    held = sum(1 for page in result.pages if page.held)
    imaging = imaging_detail(batch, job.submitted_by, captures or [])
    history.record_many(session, ingest_events(document, job, pages=len(result.pages), imaging=imaging))
    job.state = JobState.NEEDS_REVIEW if held else JobState.DONE
    job.document_id, job.finished_at, job.seconds = document.id, utcnow(), round(seconds, 3)
    timing = {"ocr_seconds": result.ocr_seconds, "quality_seconds": result.quality_seconds}
    job.options = {key: value for key, value in job.options.items() if key != "pending_keys"} | {"timing": timing}
    audit.record(
        session,
        actor=job.submitted_by,
        action=AuditAction.INGEST_PROCESS,
        target=f"document:{document.id}",
        details={
            "file": job.source_name,
            "pages": len(result.pages),
            "job": job.id,
            "held_pages": held,
            "reference_code": document.reference_code,
            "batch": batch.id,
        },
    )
    failpoint("filing.before_commit")  # everything of the filing transaction written, nothing committed
    return document


def ingest_events(
    document: Document, job: IngestJob, *, pages: int, imaging: dict[str, Any] | None = None
) -> list[history.Event]:
    """The record's first history: its digitisation (imaging: device, settings, operator, times), made from the
    submitted file, and the digest of each object as it was stored."""
    agent = job.submitted_by
    made = {"job": job.id, "batch": job.batch_id, "file": job.source_name, "pages": pages}
    events = []
    if imaging is not None:
        events.append(history.Event(document.id, history.EventType.IMAGING, agent, detail=imaging))
    events.append(history.Event(document.id, history.EventType.INGESTION, agent, detail=made))
    events.extend(history.digest_events(document.id, document.objects, agent))
    events.extend(encryption_events(document.id, document.objects, agent))
    return events


def encryption_events(document_id: int, objects: list[StoredObject], agent: str) -> list[history.Event]:
    """An encryption event for each object stored encrypted (its master key, the plaintext's hash and size)."""
    return [
        history.Event(
            document_id,
            history.EventType.ENCRYPTION,
            agent,
            obj.key,
            detail={
                "cipher": "AES-256-GCM",
                "envelope": "dangan-envelope/1",
                "key_id": obj.key_id,
                "plain_sha256": obj.plain_sha256,
                "plain_size": obj.plain_size,
                "role": obj.role,
            },
        )
        for obj in objects
        if obj.key_id is not None
    ]


def recover_orphans(session: Session, store: BlobStore, job: IngestJob) -> int:
    """Delete objects an interrupted filing wrote but never catalogued; returns how many were removed."""
    pending = [str(key) for key in job.options.get("pending_keys", [])]  # type: ignore[attr-defined]
    removed = 0
    for key in pending:
        if session.scalars(select(StoredObject.id).where(StoredObject.key == key).limit(1)).first() is None:
            store.delete(key)
            removed += 1
    job.options = {k: v for k, v in job.options.items() if k != "pending_keys"}
    return removed
