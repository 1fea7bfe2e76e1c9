"""Reading documents and their files, always through the access policy; hidden records are 'not found'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.records.served_files import Damaged, VerifiedCopy, verified_copy
from api.search.rows import index_current
from api.search.sealing import seal_if_due
from api.views.records import DocumentTextView, DocumentView, PageTextView, document_view
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.fields import apply_descriptive, descriptive_of, series_definitions
from archive.catalogue.metadata import MetadataEdit
from archive.dates import PartialDate, stored_text
from archive.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import Document, Page, StoredObject
from archive.permissions import Action, authorize
from archive.values import AccessLevel, DocumentStatus, ObjectRole
from archive.visibility import document_visible
from archive.workflow import transition_document


@dataclass
class FileDownload:
    stream: BinaryIO
    media_type: str
    filename: str
    size: int
    inline: bool = True  # False: the browser saves it (originals), never renders it


def _visible_document(session: Session, principal: Principal, document_id: int, *, lock: bool = False) -> Document:
    """The document if the principal may see it. `lock`: its row is locked until the transaction ends (FOR
    UPDATE on PostgreSQL, where writers run at once; SQLite's write units are serial), for read-modify-write."""
    query = select(Document).where(Document.id == document_id)
    if lock:
        query = query.with_for_update(of=Document)
    document = session.scalars(
        query.options(
            selectinload(Document.pages).selectinload(Page.findings),
            selectinload(Document.objects),
            selectinload(Document.fonds),
            selectinload(Document.batch),
        )
    ).first()
    if document is None or not document_visible(principal, document):
        raise NotFound(f"document {document_id} does not exist")
    return document


visible_document = _visible_document  # for the other record use cases (page images, page lists)


def _page_of(document: Document, number: int) -> Page:
    """The record's current page `number`; a page the record does not have is 'not found'."""
    page = next((p for p in document.pages if p.number == number), None)
    if page is None:
        raise NotFound(f"document {document.id} has no page {number} (it has {len(document.pages)})")
    return page


def visible_page(session: Session, principal: Principal, document_id: int, number: int) -> tuple[Document, Page]:
    """A record the caller may see and its current page `number` (page images, page words); hidden or missing,
    the record or the page: 'not found'."""
    document = _visible_document(session, principal, document_id)
    return document, _page_of(document, number)


def log_record_read(
    context: Context,
    principal: Principal,
    document_id: int,
    client: str | None,
    *,
    action: AuditAction = AuditAction.DOCUMENT_VIEW,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> None:
    """The event of reading a record (or of a refusal: outcome "denied_or_missing"), in its own transaction
    after the read, so a refusal itself is kept (documents, page lists and images, page words)."""
    audit.append(
        context.db,
        actor=principal.username,
        roles=principal.roles,
        action=action,
        outcome=outcome,
        target=f"document:{document_id}",
        client=client,
        details=details,
    )


class DocumentService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def _record_refusal(self, principal: Principal, action: AuditAction, document_id: int, client: str | None) -> None:
        """A refused or missing record is logged in its own transaction, so the refusal itself is kept."""
        log_record_read(self.context, principal, document_id, client, action=action, outcome="denied_or_missing")

    def _record_view(
        self, principal: Principal, document_id: int, client: str | None, details: dict[str, Any] | None = None
    ) -> None:
        log_record_read(self.context, principal, document_id, client, details=details)

    def get(self, principal: Principal, document_id: int, *, client: str | None = None) -> DocumentView:
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                view = document_view(_visible_document(session, principal, document_id))
        except NotFound:
            self._record_refusal(principal, AuditAction.DOCUMENT_VIEW, document_id, client)
            raise
        self._record_view(principal, document_id, client)
        return view

    def text(
        self, principal: Principal, document_id: int, *, page: int | None = None, client: str | None = None
    ) -> DocumentTextView:
        """The record's text, all current pages or one: read like the record itself (same rule, same event).
        A rejected page has no current text (as in search); a page the record does not have is 'not found'."""
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                document = _visible_document(session, principal, document_id)
                chosen = document.pages if page is None else [_page_of(document, page)]
                pages = [PageTextView(number=p.number, text="" if p.review == "rejected" else p.text) for p in chosen]
                result = DocumentTextView(
                    document_id=document.id, reference_code=document.reference_code, page=page, pages=pages
                )
        except NotFound:
            self._record_refusal(principal, AuditAction.DOCUMENT_VIEW, document_id, client)
            raise
        self._record_view(principal, document_id, client, details={"text": "all" if page is None else page})
        return result

    def open_file(
        self, principal: Principal, document_id: int, role: ObjectRole, *, client: str | None = None
    ) -> FileDownload:
        """A checked copy of one of the document's files; damaged bytes are refused, logged and alerted on."""
        authorize(principal.roles, Action.READ_RECORD)
        try:
            with self.context.db.read() as session:
                document = _visible_document(session, principal, document_id)
                stored: StoredObject | None = next((o for o in document.objects if o.role == role), None)
                original = role == ObjectRole.ORIGINAL
                filename = document.original_filename if original else f"{document.reference_code}.pdf"
        except NotFound:
            self._record_refusal(principal, AuditAction.DOCUMENT_DOWNLOAD, document_id, client)
            raise
        if stored is None:
            raise NotFound(f"document {document_id} has no {role.value} file")
        copy = verified_copy(
            self.context.plain, stored.key, stored.content_sha256, self.context.settings.spool_dir / "served"
        )
        served = isinstance(copy, VerifiedCopy)
        log_record_read(
            self.context,
            principal,
            document_id,
            client,
            action=AuditAction.DOCUMENT_DOWNLOAD if served else AuditAction.DOCUMENT_INTEGRITY,
            outcome="success" if served else "failure",
            details={"role": role.value} | ({} if served else _damage(stored, copy)),
        )
        if not isinstance(copy, VerifiedCopy):
            raise IntegrityFailure(
                f"the stored {role.value} file of document {document_id} is damaged (its bytes no longer match "
                "the checksum recorded when it was filed), so it was not served; a system administrator should "
                "run `dangan verify` and repair it from a backup"
            )
        return FileDownload(copy.stream, stored.media_type, filename, copy.size, inline=not original)


def _damage(stored: StoredObject, damaged: Damaged | VerifiedCopy) -> dict[str, Any]:
    actual = damaged.actual_sha256 if isinstance(damaged, Damaged) else None
    reason = damaged.reason if isinstance(damaged, Damaged) else ""
    return {"key": stored.key, "expected_sha256": stored.sha256, "actual_sha256": actual, "reason": reason}


def update_document(
    context: Context,
    principal: Principal,
    document_id: int,
    *,
    title: str | None = None,
    date: str | None = None,
    level: str | None = None,
    departments: list[str] | None = None,
    metadata: MetadataEdit | None = None,
    client: str | None = None,
) -> DocumentView:
    """Edit metadata; a level or scope change reaches the search index before this returns, so the very next
    search already obeys it. Only records the caller can see can be edited (others are 'not found').
    Descriptive fields (责任者, 文号, 机构, 归档年度, 关键词, Dublin Core, custom fields) are checked against the
    series' custom field definitions."""
    authorize(principal.roles, Action.EDIT_RECORD)
    with context.db.write() as session:
        document = _visible_document(session, principal, document_id, lock=True)  # the edit before this one is seen
        before = _editable(document)
        if title is not None:
            if not title.strip():
                raise InvalidInput("a title cannot be empty", InvalidInput.TITLE_EMPTY)
            document.title = title.strip()
        if date is not None:
            new_date = PartialDate.parse_optional(date)  # "" clears the date
            document.date = new_date.start() if new_date else None
            document.date_precision = new_date.stored_precision if new_date else None
        if level is not None:
            new_level = AccessLevel.parse(level)
            if new_level > principal.clearance:
                raise InvalidInput(
                    f"you cannot set a level above your own clearance ({principal.clearance.label})",
                    InvalidInput.LEVEL_ABOVE_CLEARANCE,
                )
            document.access_level = int(new_level)
        if departments is not None:
            document.departments = sorted(set(departments))
        if metadata is not None and metadata.changes():
            series = document.batch.series if document.batch else None
            definitions = series_definitions(session, document.fonds_id, series)
            apply_descriptive(document, metadata.changes(), definitions, where=f"series {series or '(none)'}")
        after = _editable(document)
        changed = {key: str(after[key]) for key in after if after[key] != before[key]}
        action = AuditAction.LEVEL_CHANGE if {"level", "departments"} & set(changed) else AuditAction.DOCUMENT_UPDATE
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=action,
            target=f"document:{document_id}",
            client=client,
            details={"changed": changed, "before": {k: str(before[k]) for k in changed}},
        )
        if changed:
            history.record(
                session,
                history.Event(
                    document_id, history.EventType.METADATA_MODIFICATION, principal.username, detail={"fields": changed}
                ),
            )
        view = document_view(document)
    index_current(context, [document_id])  # an admin's edit of a withdrawn record does not bring it back
    seal_if_due(context, document_id, principal.username)  # raised to an encrypted level: its objects sealed now
    return view


def _editable(document: Document) -> dict[str, Any]:
    """What an edit may change, as plain values (compared before and after, named in the audit event)."""
    return {
        "title": document.title,
        "date": stored_text(document.date, document.date_precision),
        "level": document.access_level,
        "departments": list(document.departments),
    } | descriptive_of(document)


def withdraw_document(
    context: Context, principal: Principal, document_id: int, *, reason: str, client: str | None = None
) -> DocumentView:
    """Take a record out of use: it leaves the search index before this returns, answers 'not found' to all but
    admins, and keeps its files, catalogue row and history (destruction is a separate, approved act)."""
    authorize(principal.roles, Action.WITHDRAW_RECORD)
    with context.db.write() as session:
        document = _visible_document(session, principal, document_id)
        if not reason.strip():
            raise InvalidInput(
                "give the reason for withdrawing the record (it goes into the access log)",
                InvalidInput.WITHDRAW_REASON_MISSING,
            )
        if document.status == DocumentStatus.WITHDRAWN:
            raise Conflict(
                f"document {document_id} ({document.reference_code}) is already withdrawn",
                Conflict.DOCUMENT_WITHDRAWN,
                {"reference_code": document.reference_code},
            )
        previous = document.status
        document.status = transition_document(document_id, document.status, DocumentStatus.WITHDRAWN)
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.DOCUMENT_WITHDRAW,
            target=f"document:{document_id}",
            client=client,
            details={"reason": reason.strip(), "reference_code": document.reference_code, "status_was": previous},
        )
        view = document_view(document)
    index_current(context, [document_id])  # withdrawn: its entry leaves the index
    return view
