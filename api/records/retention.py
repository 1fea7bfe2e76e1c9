"""Retention: what is due (now or within N days) among the records the caller may see, and the archivist's
appraisal of a due record (keep with a new period, destroy, transfer). The rule that computes a due date is
archive/preservation/retention.py; the records' visibility is archive/access.py's, applied inside the query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.views.catalogue import level_label
from api.views.retention import AppraisalView, Decision, DueListView, DueRecordView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import Conflict, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import Appraisal, Disposition, DispositionItem, Document, LegalHold, utcnow
from archive.permissions import Action, authorize
from archive.preservation.retention import RecordRetention, parse_retention, record_retention
from archive.values import AppraisalDecision, DispositionStatus
from archive.visibility import document_scope, document_visible
from archive.workflow import DISPOSABLE

MAX_WITHIN_DAYS = 36_500
OPEN_DISPOSITIONS = (DispositionStatus.PROPOSED, DispositionStatus.APPROVED)


def retention_of(document: Document) -> RecordRetention:
    """The record's retention and due date (its batch loaded); InvalidInput when its code cannot be read."""
    batch = document.batch
    return record_retention(
        own_code=document.retention,
        series_code=batch.retention if batch is not None else None,
        counted_after=document.retention_counted_after,
        batch_year=batch.year if batch is not None else None,
        record_date=document.date,
        catalogued=document.created_at,
    )


def require_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidInput(
            "give the reason (it goes into the access log and the certificate)", InvalidInput.RETENTION_REASON_MISSING
        )
    return reason.strip()


def visible_record(session: Session, principal: Principal, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None or not document_visible(principal, document):
        raise NotFound(f"document {document_id} does not exist")
    return document


def active_holds(session: Session, document_ids: list[int]) -> dict[int, LegalHold]:
    rows = session.scalars(
        select(LegalHold).where(LegalHold.document_id.in_(document_ids), LegalHold.lifted_at.is_(None))
    )
    return {hold.document_id: hold for hold in rows}


def latest_appraisals(session: Session, document_ids: list[int]) -> dict[int, Appraisal]:
    rows = session.scalars(select(Appraisal).where(Appraisal.document_id.in_(document_ids)).order_by(Appraisal.id))
    return {row.document_id: row for row in rows}  # the last one wins


def open_dispositions(session: Session, document_ids: list[int]) -> dict[int, int]:
    """Record id → the open (proposed or approved) disposition that names it."""
    query = (
        select(DispositionItem.document_id, Disposition.id)
        .join(Disposition, Disposition.id == DispositionItem.disposition_id)
        .where(DispositionItem.document_id.in_(document_ids), Disposition.status.in_(OPEN_DISPOSITIONS))
    )
    return {document_id: disposition_id for document_id, disposition_id in session.execute(query)}


@dataclass
class RetentionService:
    context: Context

    def due(self, principal: Principal, *, within_days: int = 0, as_of: dt.date | None = None) -> DueListView:
        """Records due on or before `as_of` + `within_days` (today by default), oldest due first: only those the
        caller may see (clearance, departments, workflow state), and only those still in use."""
        authorize(principal.roles, Action.READ_RETENTION)
        if not 0 <= within_days <= MAX_WITHIN_DAYS:
            raise InvalidInput(f"--within must be 0 to {MAX_WITHIN_DAYS} days")
        today = as_of or dt.datetime.now(dt.UTC).date()
        horizon = today + dt.timedelta(days=within_days)
        with self.context.db.read() as session:
            scope = document_scope(principal, session.get_bind().dialect.name)
            query = select(Document).where(scope, Document.status.in_(sorted(DISPOSABLE)))
            documents = list(session.scalars(query.options(selectinload(Document.batch)).order_by(Document.id)))
            due: list[tuple[Document, RecordRetention]] = []
            unreadable = 0
            for document in documents:
                try:
                    retention = retention_of(document)
                except InvalidInput:
                    unreadable += 1
                    continue
                if retention.due_on is not None and retention.due_on <= horizon:
                    due.append((document, retention))
            ordered = sorted(due, key=lambda pair: (pair[1].due_on or today, pair[0].id))
            records = [self._row(session, document, today) for document, _ in ordered]
        return DueListView(as_of=today, within_days=within_days, records=records, unreadable_codes=unreadable)

    def set_code(
        self, principal: Principal, document_id: int, *, retention: str, reason: str, client: str | None = None
    ) -> DueRecordView:
        """Give one record its own retention code (overriding its series'), or `series` to clear it."""
        authorize(principal.roles, Action.APPRAISE)
        why = require_reason(reason)
        cleared = retention.strip().lower() == "series"
        code = None if cleared else parse_retention(retention).code
        with self.context.db.write() as session:
            document = visible_record(session, principal, document_id)
            _check_disposable(document)
            before = retention_of(document).code
            document.retention = code
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.RETENTION_SET,
                target=f"document:{document.id}",
                client=client,
                details={"reason": why, "reference_code": document.reference_code, "was": before, "retention": code},
            )
            return self._row(session, document, dt.datetime.now(dt.UTC).date())

    @staticmethod
    def _row(session: Session, document: Document, today: dt.date) -> DueRecordView:
        retention = retention_of(document)
        ids = [document.id]
        appraisal = latest_appraisals(session, ids).get(document.id)
        return DueRecordView(
            document_id=document.id,
            reference_code=document.reference_code,
            title=document.title,
            level=level_label(document.access_level),
            status=document.status,
            retention=retention.code,
            retention_source="record" if retention.source == "record" else "series",
            counted_after=retention.counted_after,
            due_on=retention.due_on,
            overdue_days=(today - retention.due_on).days if retention.due_on else 0,
            held=document.id in active_holds(session, ids),
            appraisal=_decision(appraisal.decision) if appraisal is not None else None,
            disposition_id=open_dispositions(session, ids).get(document.id),
        )

    def appraise(
        self,
        principal: Principal,
        document_id: int,
        *,
        decision: str,
        reason: str,
        retention: str | None = None,
        client: str | None = None,
    ) -> AppraisalView:
        """Record a decision on a record that is due: keep (a new code, its period counted after this year),
        destroy or transfer (what a disposition of that kind then needs)."""
        authorize(principal.roles, Action.APPRAISE)
        chosen = _parse_decision(decision)
        why = require_reason(reason)
        if chosen == AppraisalDecision.KEEP and not (retention or "").strip():
            raise InvalidInput(
                "a keep decision needs the new retention code (e.g. Y10)", InvalidInput.KEEP_NEEDS_PERIOD
            )
        new_code = parse_retention(retention).code if chosen == AppraisalDecision.KEEP and retention else None
        now = utcnow()
        with self.context.db.write() as session:
            document = visible_record(session, principal, document_id)
            _check_disposable(document)
            current = retention_of(document)
            if current.due_on is None or current.due_on > now.date():
                raise Conflict(
                    f"{document.reference_code} is not due (due on {current.due_on or 'never: permanent'}); "
                    "appraise records of `dangan retention due`",
                    Conflict.NOT_DUE,
                    {"reference_code": document.reference_code, "due_on": str(current.due_on or "permanent")},
                )
            if chosen == AppraisalDecision.KEEP:
                document.retention = new_code
                document.retention_counted_after = now.year
            row = Appraisal(
                document_id=document.id,
                decision=chosen.value,
                retention=new_code,
                reason=why,
                decided_by=principal.username,
                decided_at=now,
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                actor=principal.username,
                roles=principal.roles,
                action=AuditAction.RETENTION_APPRAISE,
                target=f"document:{document.id}",
                client=client,
                details={
                    "decision": chosen.value,
                    "reason": why,
                    "reference_code": document.reference_code,
                    "retention_was": current.code,
                    "retention": new_code,
                },
            )
            return AppraisalView(
                id=row.id,
                document_id=document.id,
                reference_code=document.reference_code,
                decision=_decision(chosen.value),
                retention=new_code,
                reason=why,
                decided_by=principal.username,
                decided_at=now,
                due_on=retention_of(document).due_on,
            )


def _check_disposable(document: Document) -> None:
    if document.status not in DISPOSABLE:
        raise Conflict(
            f"{document.reference_code} is {document.status}; "
            "only filed or withdrawn records are appraised and disposed of",
            Conflict.NOT_DISPOSABLE,
            {"reference_code": document.reference_code, "status": document.status},
        )


check_disposable = _check_disposable


def _parse_decision(text: str) -> AppraisalDecision:
    try:
        return AppraisalDecision(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"{text!r} is not a decision; use keep, destroy or transfer") from None


_DECISIONS: dict[AppraisalDecision, Decision] = {
    AppraisalDecision.KEEP: "keep",
    AppraisalDecision.DESTROY: "destroy",
    AppraisalDecision.TRANSFER: "transfer",
}


def _decision(value: str) -> Decision:
    return _DECISIONS[AppraisalDecision(value)]
