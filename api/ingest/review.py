"""The archivist's review of pages the quality gate held: accept, reject (rescan requested), or replace with a
rescan (a new page version; the old one is kept, the page images of the access copy it superseded are pruned)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ingest.filing import stored_boxes
from api.ingest.process import declared_scan, page_process
from api.ingest.rescan import RescanObjects, mark_indexed, rescan_intent, store_rescan
from api.search.page_images import prune_superseded, source_of
from api.search.rows import index_current
from api.search.sealing import seal_if_due
from api.views.review import PageReviewView, page_review_view
from api.wiring import Context, engine_options
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import Conflict, DanganError, InvalidInput, NotFound
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.hashing import sha256_bytes, sha256_file
from archive.models import Batch, Document, IngestJob, Page, QualityFinding, StoredObject, utcnow
from archive.permissions import Action, authorize
from archive.ports import BlobInfo
from archive.scratch import owned_name
from archive.values import DocumentStatus, JobState, ObjectRole, PageReview
from archive.visibility import page_visible
from archive.workflow import UNRESOLVED_PAGES, check_batch_changeable, transition_document, transition_page
from ingest.capture import ImageCapture, capture_findings, read_capture
from ingest.kinds import validate
from ingest.pdfa import replace_page
from ingest.quality.profiles import get_profile
from ingest.results import OcrRequest, OcrResult, PageResult

OcrCall = Callable[[OcrRequest], OcrResult]
log = logging.getLogger(__name__)


class ReviewService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def accept(self, page_id: int, *, actor: Principal, note: str | None = None) -> PageReviewView:
        return self._decide(page_id, PageReview.ACCEPTED, actor=actor, note=note)

    def reject(self, page_id: int, *, actor: Principal, reason: str) -> PageReviewView:
        return self._decide(page_id, PageReview.REJECTED, actor=actor, note=reason)

    def _decide(self, page_id: int, review: PageReview, *, actor: Principal, note: str | None) -> PageReviewView:
        authorize(actor.roles, Action.REVIEW_PAGE)
        with self.context.db.write() as session:
            page = _current_page(session, page_id, actor)
            if review == PageReview.REJECTED and not (note or "").strip():
                raise InvalidInput(
                    "say why the page is rejected (the reason goes to the rescan request)",
                    InvalidInput.REJECT_NOTE_MISSING,
                )
            page.review = transition_page(page_id, page.review, review)
            page.review_note, page.reviewed_by, page.reviewed_at = note, actor.username, utcnow()
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.PAGE_ACCEPT if review == PageReview.ACCEPTED else AuditAction.PAGE_REJECT,
                target=f"page:{page_id}",
                details={"document": page.document_id, "page": page.number, "note": note},
            )
            _settle_document(session, page.document)
            document_id, view = page.document_id, page_review_view(page)
        index_current(self.context, [document_id])  # a rejected page's text leaves the index; an accepted one returns
        return view

    def replace(
        self, page_id: int, rescan: Path, *, actor: Principal, ocr: OcrCall, display_name: str | None = None
    ) -> PageReviewView:
        """OCR the rescan, splice it into the access copy, and make it the page's current version."""
        authorize(actor.roles, Action.REVIEW_PAGE)
        with self.context.db.read() as session:
            _current_page(session, page_id, actor)  # hidden, superseded or closed: refused before any work
        checked = validate(rescan, display_name=display_name)
        if checked.is_pdf or checked.page_count != 1:
            raise InvalidInput(
                "a rescan replaces one page: give one single-page image (TIFF, PNG or JPEG)",
                InvalidInput.RESCAN_ONE_PAGE,
            )
        with self.context.db.read() as session:
            page = _current_page(session, page_id, actor)
            document = page.document
            batch = session.get(Batch, document.batch_id) if document.batch_id else None
            profile = get_profile(batch.profile, batch.profile_overrides) if batch else get_profile("dat31")
            pdfa_row = next(o for o in document.objects if o.role == ObjectRole.PDFA and o.current)
            number, languages = page.number, document.language
            engine = (batch.ocr_engine if batch else None) or self.context.settings.ocr_engine
        workdir = self.context.settings.home_dir / "work" / owned_name("rescan")  # swept once its owner is gone
        try:
            result = ocr(
                OcrRequest(
                    sources=(rescan,),
                    media_type=checked.media_type,
                    languages=languages,
                    workdir=workdir,
                    profile=profile,
                    page_timeout_seconds=self.context.settings.ocr_page_timeout_seconds,
                    engine=engine,
                    engine_options=engine_options(self.context.settings),
                )
            )
            current_pdf = workdir / "current.pdf"
            with self.context.plain.open_read(pdfa_row.key) as stream, current_pdf.open("wb") as out:
                shutil.copyfileobj(stream, out)
            spliced = workdir / "spliced.pdf"
            replace_page(current_pdf, result.pdfa_path, number, spliced)
            return self._file_rescan(page_id, rescan, spliced, result, actor=actor, media_type=checked.media_type)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _file_rescan(
        self, page_id: int, rescan: Path, spliced: Path, result: OcrResult, *, actor: Principal, media_type: str
    ) -> PageReviewView:
        """The intent, then the objects, then one transaction (api/ingest/rescan.py): a crash anywhere is recovered."""
        [new] = result.pages
        with self.context.db.read() as session:
            text = _document_text(_current_page(session, page_id, actor), new.text)
        capture = read_capture(rescan)  # what the rescan's image says of its capture (its process metadata)
        objects = RescanObjects(
            rescan, sha256_file(rescan)[0], spliced, sha256_file(spliced)[0], text, sha256_bytes(text)
        )
        with rescan_intent(self.context, objects.keys):
            infos = store_rescan(self.context, objects)
            with self.context.db.write() as session:
                old = _current_page(session, page_id, actor)
                if _document_text(old, new.text) != text:
                    raise Conflict(
                        f"page {page_id}'s item changed while the rescan was processed; replace it again",
                        Conflict.PAGE_ITEM_CHANGED,
                        {"page": page_id},
                    )
                superseded = source_of(old.document)  # its images go once this commits
                page = _new_version(old, new, capture, uploaded_by=actor.username)
                old.reviewed_by = actor.username
                old.document.all_pages.append(page)
                session.flush()
                known = {obj.key for obj in old.document.objects}
                _current_objects(old, page, infos, media_type)
                _rescan_events(session, old.document, page, known, agent=actor.username)
                audit.record(
                    session,
                    actor=actor.username,
                    roles=actor.roles,
                    action=AuditAction.PAGE_REPLACE,
                    target=f"page:{page_id}",
                    details={
                        "document": old.document_id,
                        "page": page.number,
                        "version": page.version,
                        "new_page_id": page.id,
                    },
                )
                _settle_document(session, old.document)
                old.document.indexed_at = None  # until the index has the new text (recovery re-indexes)
                document_id, view = old.document_id, page_review_view(page)
            failpoint("rescan.committed")
        try:
            index_current(self.context, [document_id])
            mark_indexed(self.context, document_id)
        except DanganError as exc:  # the rescan is filed; the index is derived and `index_unindexed` catches up
            log.warning("page %s: replaced, but not indexed yet: %s", page_id, exc.message)
        if superseded is not None:  # after the commit: a crash before this leaves a harmless leftover
            prune_superseded(self.context, superseded)
        seal_if_due(self.context, document_id, actor.username)  # an encrypted record's rescan: sealed at once
        return view


def _document_text(page: Page, new_text: str) -> bytes:
    """The item's full text once `page` is replaced by a version reading `new_text`."""
    current = sorted((p for p in page.document.all_pages if p.current), key=lambda p: p.number)
    return "\f".join(new_text if p.id == page.id else p.text for p in current).encode("utf-8")


def _new_version(old: Page, new: PageResult, capture: ImageCapture | None, *, uploaded_by: str) -> Page:
    """The rescan as the page's next version, with its process metadata and any mismatch with what the batch
    declares (a finding); the old one is kept, replaced."""
    batch = old.document.batch
    found = [*new.findings, *(capture_findings(capture, declared_scan(batch)) if batch is not None else [])]
    old.review = transition_page(old.id, old.review, PageReview.REPLACED)
    old.current, old.reviewed_at = False, utcnow()
    version = 1 + max(p.version for p in old.document.all_pages if p.number == old.number)
    return Page(
        number=old.number,
        version=version,
        current=True,
        width_px=new.width_px,
        height_px=new.height_px,
        dpi=new.dpi,
        text=new.text,
        ocr_confidence=new.confidence,
        text_source=new.text_source,
        measurements=new.measurements | {"ocr_engine": new.engine},
        boxes=stored_boxes(new.boxes),  # the rescan's own boxes: the old version keeps its
        review="held" if new.held else "ok",
        process=page_process(batch, uploaded_by, utcnow(), capture) if batch is not None else None,
        findings=[
            QualityFinding(
                check=f.check, severity=f.severity, measured=f.measured, threshold=f.threshold, message=f.message
            )
            for f in found
        ],
    )


def _current_objects(old: Page, page: Page, infos: tuple[BlobInfo, BlobInfo, BlobInfo], media_type: str) -> None:
    """The new scan, access copy and text become the item's current objects; the old ones are kept."""
    document = old.document
    for obj in document.objects:
        if obj.role in (ObjectRole.PDFA, ObjectRole.TEXT) or (
            obj.role == ObjectRole.ORIGINAL and obj.page_id == old.id
        ):
            obj.current = False
    original, pdfa, text = infos
    for role, info, media, page_ref in (
        (ObjectRole.ORIGINAL, original, media_type, page.id),
        (ObjectRole.PDFA, pdfa, "application/pdf", None),
        (ObjectRole.TEXT, text, "text/plain; charset=utf-8", None),
    ):
        assert info.sha256 is not None
        same = next((o for o in document.objects if o.role == role and o.key == info.key), None)
        if same is not None:  # the rescan's text (or scan) is byte-identical to an earlier version's
            same.current, same.page_id = True, page_ref
            continue
        document.objects.append(
            StoredObject(
                key=info.key,
                sha256=info.sha256,
                size=info.size,
                media_type=media,
                role=role,
                page_id=page_ref,
                current=True,
            )
        )


def _rescan_events(session: Session, document: Document, page: Page, known: set[str], *, agent: str) -> None:
    """The record's history: a page replaced, and the digest of each object the rescan added."""
    session.flush()
    added = [obj for obj in document.objects if obj.key not in known]
    replaced = {"page": page.number, "version": page.version, "page_id": page.id}
    history.record_many(
        session,
        [
            history.Event(document.id, history.EventType.MODIFICATION, agent, detail=replaced),
            *history.digest_events(document.id, added, agent),
        ],
    )


def _current_page(session: Session, page_id: int, actor: Principal) -> Page:
    """The page to review: one the caller may see (else 'not found'), current, in a batch that may change."""
    page = session.get(Page, page_id)
    if page is None or not page_visible(actor, page):
        raise NotFound(f"page {page_id} does not exist")
    if not page.current:
        raise Conflict(
            f"page {page_id} was replaced by a rescan; review the current version instead",
            Conflict.PAGE_REPLACED,
            {"page": page_id},
        )
    batch = session.get(Batch, page.document.batch_id) if page.document.batch_id else None
    if batch is not None:
        check_batch_changeable(batch.id, batch.status)
    return page


def _settle_document(session: Session, document: Document) -> None:
    """An item whose pages are all resolved is ready again, and so is its job."""
    session.flush()
    session.refresh(document)
    unresolved = any(p.review in UNRESOLVED_PAGES for p in document.pages)
    target = DocumentStatus.NEEDS_REVIEW if unresolved else DocumentStatus.READY
    if document.status not in (DocumentStatus.FILED, DocumentStatus.WITHDRAWN) and document.status != target:
        document.status = transition_document(document.id, document.status, target)  # never un-withdraws
    job = session.scalars(select(IngestJob).where(IngestJob.document_id == document.id)).first()
    if job is not None and job.state in (JobState.NEEDS_REVIEW, JobState.DONE):
        job.state = JobState.NEEDS_REVIEW if unresolved else JobState.DONE
