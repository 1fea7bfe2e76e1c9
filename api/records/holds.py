"""Legal holds: an authorised person (an archivist or the security auditor) puts a record on hold, or lifts
the hold, with a reason. While a hold is active no disposition may name the record, be approved or be executed
(api/records/disposition.py asks `refuse_held` at every step)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.records.retention import active_holds, require_reason, visible_record
from api.views.retention import HoldListView, HoldView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import Conflict
from archive.events import AuditAction
from archive.models import Document, LegalHold, utcnow
from archive.permissions import Action, authorize
from archive.visibility import document_visible


def hold_view(hold: LegalHold, reference_code: str) -> HoldView:
    return HoldView(
        id=hold.id,
        document_id=hold.document_id,
        reference_code=reference_code,
        reason=hold.reason,
        set_by=hold.set_by,
        set_at=hold.set_at,
        active=hold.lifted_at is None,
        lifted_by=hold.lifted_by,
        lifted_at=hold.lifted_at,
        lift_reason=hold.lift_reason,
    )


def refuse_held(session: Session, documents: list[Document]) -> None:
    """Conflict (409) naming the first record under an active legal hold."""
    holds = active_holds(session, [document.id for document in documents])
    for document in documents:
        if document.id in holds:
            hold = holds[document.id]
            raise Conflict(
                f"{document.reference_code} is under a legal hold (set by {hold.set_by}: {hold.reason}); "
                "it cannot be disposed of until the hold is released",
                Conflict.LEGAL_HOLD,
                {"reference_code": document.reference_code},
            )


@dataclass
class HoldService:
    context: Context

    def hold(self, principal: Principal, document_id: int, *, reason: str, client: str | None = None) -> HoldView:
        authorize(principal.roles, Action.LEGAL_HOLD)
        why = require_reason(reason)
        with self.context.db.write() as session:
            document = visible_record(session, principal, document_id)
            if document.id in active_holds(session, [document.id]):
                raise Conflict(
                    f"{document.reference_code} is under a legal hold already",
                    Conflict.ALREADY_HELD,
                    {"reference_code": document.reference_code},
                )
            hold = LegalHold(document_id=document.id, reason=why, set_by=principal.username, set_at=utcnow())
            session.add(hold)
            session.flush()
            self._log(session, principal, AuditAction.LEGAL_HOLD_SET, document, why, client)
            return hold_view(hold, document.reference_code)

    def release(self, principal: Principal, document_id: int, *, reason: str, client: str | None = None) -> HoldView:
        authorize(principal.roles, Action.LEGAL_HOLD)
        why = require_reason(reason)
        with self.context.db.write() as session:
            document = visible_record(session, principal, document_id)
            hold = active_holds(session, [document.id]).get(document.id)
            if hold is None:
                raise Conflict(
                    f"{document.reference_code} is not under a legal hold",
                    Conflict.NOT_HELD,
                    {"reference_code": document.reference_code},
                )
            hold.lifted_by, hold.lifted_at, hold.lift_reason = principal.username, utcnow(), why
            self._log(session, principal, AuditAction.LEGAL_HOLD_LIFT, document, why, client)
            return hold_view(hold, document.reference_code)

    def list(self, principal: Principal, *, include_lifted: bool = False) -> HoldListView:
        """Holds on the records the caller may see, newest first."""
        authorize(principal.roles, Action.READ_RETENTION)
        with self.context.db.read() as session:
            query = select(LegalHold, Document).join(Document, Document.id == LegalHold.document_id)
            if not include_lifted:
                query = query.where(LegalHold.lifted_at.is_(None))
            rows = session.execute(query.order_by(LegalHold.id.desc())).all()
            return HoldListView(
                holds=[hold_view(hold, doc.reference_code) for hold, doc in rows if document_visible(principal, doc)]
            )

    @staticmethod
    def _log(
        session: Session,
        principal: Principal,
        action: AuditAction,
        document: Document,
        reason: str,
        client: str | None,
    ) -> None:
        audit.record(
            session,
            actor=principal.username,
            roles=principal.roles,
            action=action,
            target=f"document:{document.id}",
            client=client,
            details={"reason": reason, "reference_code": document.reference_code},
        )
