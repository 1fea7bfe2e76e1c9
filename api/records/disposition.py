"""Dispositions: an archivist proposes to destroy or transfer appraised records, another person approves, and
then it is executed (api/records/disposal.py). One state machine (archive/workflow.py); the two-person rule:
whoever proposed cannot approve (403 `own_proposal`); a legal hold on any record refuses every step (409
`legal_hold`). Refusals of either kind are events of the log too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.records.holds import refuse_held
from api.records.retention import (
    check_disposable,
    latest_appraisals,
    open_dispositions,
    require_reason,
    visible_record,
)
from api.views.retention import DispositionListView, DispositionRecordView, DispositionView
from api.wiring import Context
from archive.access import Principal, within_scope
from archive.audit import log as audit
from archive.errors import Conflict, DanganError, InvalidInput, NotFound, PermissionDenied
from archive.events import AuditAction
from archive.models import Disposition, DispositionItem, Document, utcnow
from archive.permissions import Action, authorize
from archive.values import DispositionAction, DispositionStatus
from archive.workflow import transition_disposition

MAX_RECORDS = 10_000


def disposition_view(disposition: Disposition, statuses: dict[int, str], removed: int = 0) -> DispositionView:
    return DispositionView(
        id=disposition.id,
        action="destroy" if disposition.action == DispositionAction.DESTROY else "transfer",
        status=DispositionStatus(disposition.status).value,
        reason=disposition.reason,
        destination=disposition.destination,
        proposed_by=disposition.proposed_by,
        proposed_at=disposition.proposed_at,
        approved_by=disposition.approved_by,
        approved_at=disposition.approved_at,
        cancelled_by=disposition.cancelled_by,
        cancel_reason=disposition.cancel_reason,
        executed_by=disposition.executed_by,
        executed_at=disposition.executed_at,
        certificate_document_id=disposition.certificate_document_id,
        certificate_sha256=disposition.certificate_sha256,
        export_path=disposition.export_path,
        objects_removed=removed,
        records=[
            DispositionRecordView(
                document_id=item.document_id,
                reference_code=item.reference_code,
                title=item.title,
                status=statuses.get(item.document_id, ""),
            )
            for item in disposition.items
        ],
    )


def statuses_of(session: Session, disposition: Disposition) -> dict[int, str]:
    ids = [item.document_id for item in disposition.items]
    rows = session.execute(select(Document.id, Document.status).where(Document.id.in_(ids)))
    return {document_id: status for document_id, status in rows}


def visible_disposition(session: Session, principal: Principal, disposition_id: int) -> Disposition:
    """A disposition the caller may see: every record it names visible to them (else 'not found')."""
    disposition = session.scalars(
        select(Disposition).where(Disposition.id == disposition_id).options(selectinload(Disposition.items))
    ).first()
    if disposition is None:
        raise NotFound(f"disposition {disposition_id} does not exist")
    documents = session.scalars(select(Document).where(Document.id.in_([i.document_id for i in disposition.items])))
    if not all(_sees_named(principal, document) for document in documents):
        raise NotFound(f"disposition {disposition_id} does not exist")
    return disposition


def _sees_named(principal: Principal, document: Document) -> bool:
    """The record's level and departments decide (a tombstone of an executed disposition is out of use, but
    its title and reference code stay as classified as the record was)."""
    return within_scope(principal, level=document.access_level, departments=document.departments)


def documents_of(session: Session, disposition: Disposition) -> list[Document]:
    ids = [item.document_id for item in disposition.items]
    return list(session.scalars(select(Document).where(Document.id.in_(ids)).order_by(Document.id)))


@dataclass
class DispositionService:
    context: Context

    @contextmanager
    def _refusals_logged(self, principal: Principal, target: str, client: str | None) -> Iterator[None]:
        """A step refused by a legal hold or by the two-person rule is an event of the log as well."""
        try:
            yield
        except (Conflict, PermissionDenied) as exc:
            if exc.reason in (Conflict.LEGAL_HOLD, PermissionDenied.OWN_PROPOSAL):
                self._log_refusal(principal, target, client, exc)
            raise

    def _log_refusal(self, principal: Principal, target: str, client: str | None, exc: DanganError) -> None:
        audit.append(
            self.context.db,
            actor=principal.username,
            roles=principal.roles,
            action=AuditAction.DISPOSITION_REFUSED,
            outcome="refused",
            target=target,
            client=client,
            details={"reason": exc.reason.name if exc.reason else exc.code, "message": exc.message},
        )

    def propose(
        self,
        principal: Principal,
        *,
        action: str,
        document_ids: list[int],
        reason: str,
        destination: str | None = None,
        client: str | None = None,
    ) -> DispositionView:
        """Propose to destroy or transfer records whose latest appraisal decided so; none may be on hold or in
        another open disposition."""
        authorize(principal.roles, Action.PROPOSE_DISPOSITION)
        kind = _parse_action(action)
        why = require_reason(reason)
        ids = sorted(set(document_ids))
        if not ids or len(ids) > MAX_RECORDS:
            raise InvalidInput(f"name 1 to {MAX_RECORDS} records (document ids)", InvalidInput.NO_RECORDS_NAMED)
        if kind == DispositionAction.TRANSFER and not (destination or "").strip():
            raise InvalidInput(
                "a transfer needs the folder the receiving archive's bag is written to (--destination)",
                InvalidInput.TRANSFER_NEEDS_DESTINATION,
            )
        with self._refusals_logged(principal, "disposition:new", client), self.context.db.write() as session:
            documents = [visible_record(session, principal, document_id) for document_id in ids]
            refuse_held(session, documents)
            self._check_proposable(session, documents, kind)
            appraisals = latest_appraisals(session, ids)
            disposition = Disposition(
                action=kind.value,
                status=DispositionStatus.PROPOSED.value,
                reason=why,
                destination=(destination or "").strip() or None,
                proposed_by=principal.username,
                proposed_at=utcnow(),
            )
            disposition.items = [
                DispositionItem(
                    document_id=document.id,
                    appraisal_id=appraisals[document.id].id,
                    reference_code=document.reference_code,
                    title=document.title,
                    access_level=document.access_level,
                    objects=[],
                )
                for document in documents
            ]
            session.add(disposition)
            session.flush()
            self._log(session, principal, AuditAction.DISPOSITION_PROPOSE, disposition, client, reason=why)
            return disposition_view(disposition, {d.id: d.status for d in documents})

    @staticmethod
    def _check_proposable(session: Session, documents: list[Document], kind: DispositionAction) -> None:
        ids = [document.id for document in documents]
        appraisals, taken = latest_appraisals(session, ids), open_dispositions(session, ids)
        for document in documents:
            check_disposable(document)
            appraisal = appraisals.get(document.id)
            if appraisal is None or appraisal.decision != kind.value:
                raise Conflict(
                    f"{document.reference_code} has no appraisal deciding to {kind.value} it; "
                    f"appraise it first (`dangan retention appraise {document.id} --decision {kind.value}`)",
                    Conflict.NOT_APPRAISED,
                    {"reference_code": document.reference_code, "action": kind.value},
                )
            if document.id in taken:
                raise Conflict(
                    f"{document.reference_code} is in disposition {taken[document.id]} already",
                    Conflict.IN_ANOTHER_DISPOSITION,
                    {"reference_code": document.reference_code, "disposition": taken[document.id]},
                )

    def approve(self, principal: Principal, disposition_id: int, *, client: str | None = None) -> DispositionView:
        """The second person's approval: never the proposer's; no record on hold; all still disposable."""
        authorize(principal.roles, Action.APPROVE_DISPOSITION)
        target = f"disposition:{disposition_id}"
        with self._refusals_logged(principal, target, client), self.context.db.write() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            if disposition.proposed_by == principal.username:
                raise PermissionDenied(
                    f"you proposed disposition {disposition_id}; another person must approve it (two-person rule)",
                    PermissionDenied.OWN_PROPOSAL,
                    {"disposition": disposition_id},
                )
            disposition.status = transition_disposition(
                disposition_id, disposition.status, DispositionStatus.APPROVED
            ).value
            documents = documents_of(session, disposition)
            refuse_held(session, documents)
            for document in documents:
                check_disposable(document)
            disposition.approved_by, disposition.approved_at = principal.username, utcnow()
            self._log(session, principal, AuditAction.DISPOSITION_APPROVE, disposition, client)
            return disposition_view(disposition, statuses_of(session, disposition))

    def cancel(
        self, principal: Principal, disposition_id: int, *, reason: str, client: str | None = None
    ) -> DispositionView:
        """The approver's refusal, or the proposer's withdrawal, before it is executed."""
        authorize(principal.roles, Action.PROPOSE_DISPOSITION)
        why = require_reason(reason)
        with self.context.db.write() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            disposition.status = transition_disposition(
                disposition_id, disposition.status, DispositionStatus.CANCELLED
            ).value
            disposition.cancelled_by, disposition.cancel_reason = principal.username, why
            self._log(session, principal, AuditAction.DISPOSITION_CANCEL, disposition, client, reason=why)
            return disposition_view(disposition, statuses_of(session, disposition))

    def show(self, principal: Principal, disposition_id: int) -> DispositionView:
        authorize(principal.roles, Action.READ_RETENTION)
        with self.context.db.read() as session:
            disposition = visible_disposition(session, principal, disposition_id)
            return disposition_view(disposition, statuses_of(session, disposition))

    def list(self, principal: Principal, *, status: str | None = None) -> DispositionListView:
        """The dispositions whose records the caller may all see, newest first."""
        authorize(principal.roles, Action.READ_RETENTION)
        with self.context.db.read() as session:
            query = select(Disposition).options(selectinload(Disposition.items)).order_by(Disposition.id.desc())
            if status is not None:
                query = query.where(Disposition.status == DispositionStatus(status).value)
            views = []
            for disposition in session.scalars(query):
                try:
                    visible_disposition(session, principal, disposition.id)
                except NotFound:
                    continue
                views.append(disposition_view(disposition, statuses_of(session, disposition)))
            return DispositionListView(dispositions=views)

    @staticmethod
    def _log(
        session: Session,
        principal: Principal,
        action: AuditAction,
        disposition: Disposition,
        client: str | None,
        **extra: str,
    ) -> None:
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=action,
            target=f"disposition:{disposition.id}",
            client=client,
            details={
                "action": disposition.action,
                "records": [item.reference_code for item in disposition.items],
                "proposed_by": disposition.proposed_by,
                **extra,
            },
        )


def _parse_action(text: str) -> DispositionAction:
    try:
        return DispositionAction(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a disposition; use destroy or transfer") from None
