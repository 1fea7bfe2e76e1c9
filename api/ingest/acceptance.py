"""Acceptance sampling, the batch decision, filing and reopening — every move through archive.workflow.

A sample draws ≥ 5% of the batch's current pages (and at least a minimum) with a recorded seed; reviewers —
never the people who scanned or uploaded the pages (Settings.separate_reviewer) — record pass or fail with a
defect type per sampled page; the batch is accepted at ≥ 95% passes and no critical defect, otherwise returned.
A returned batch is sampled again only after rescans: the changed pages plus a fresh random draw. Filing needs
acceptance, and a justification when the reconciliation found missing items or page-count mismatches.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.ingest.batches import BatchService, visible_batch
from api.ingest.filing_checks import check_filed_batch
from api.ingest.sample_rules import changed_pages, check_reviewer, sample_view, unresolved_failures
from api.search.rows import index_current
from api.wiring import Context
from archive import history
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue import sampling
from archive.errors import Conflict, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import Batch, BatchSample, Document, Page, SampleVerdict, utcnow
from archive.permissions import Action, authorize
from archive.values import BatchStatus, DocumentStatus
from archive.visibility import page_visible
from archive.workflow import OUT_OF_USE, transition_batch, transition_document

DEFAULT_MINIMUM = 10


class AcceptanceService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def draw(
        self,
        batch_id: int,
        *,
        actor: Principal,
        percent: float = 5.0,
        minimum: int = DEFAULT_MINIMUM,
        seed: int | None = None,
    ) -> dict[str, Any]:
        authorize(actor.roles, Action.ACCEPTANCE)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)
            resample = batch.status == BatchStatus.RETURNED
            batch.status = transition_batch(batch_id, batch.status, BatchStatus.SAMPLING)
            _check_pages_settled(session, batch_id)
            population = [p.id for p in _pages(session, batch_id)]
            changed: list[int] = []
            if resample:
                changed = self._changed_since_return(session, batch)
            seed = seed if seed is not None else secrets.randbelow(2**31)
            fresh = sampling.draw(
                [p for p in population if p not in changed], percent=percent, minimum=minimum, seed=seed
            )
            sample = BatchSample(
                batch_id=batch_id,
                seed=seed,
                percent=percent,
                minimum=minimum,
                population=len(population),
                page_ids=sorted({*changed, *fresh}),
                reason="resample" if resample else "initial",
                changed_page_ids=changed,
                drawn_by=actor.username,
            )
            session.add(sample)
            batch.decision, batch.decided_by, batch.decided_at = None, None, None
            session.flush()
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_SAMPLE,
                target=f"batch:{batch_id}",
                details={
                    "sample": sample.id,
                    "seed": seed,
                    "pages": len(sample.page_ids),
                    "percent": percent,
                    "reason": sample.reason,
                    "changed_pages": len(changed),
                },
            )
            return sample_view(session, sample, actor)

    def _changed_since_return(self, session: Session, batch: Batch) -> list[int]:
        """The pages rescanned or added since the batch was returned; refuses when nothing changed or a page
        that failed the last sample is still the one it was."""
        previous = _current_sample(session, batch.id)
        still_failing = unresolved_failures(session, previous)
        if still_failing:
            pages = ", ".join(map(str, still_failing[:10]))
            raise Conflict(
                f"batch {batch.id} was returned; {len(still_failing)} page(s) that failed its sample are unchanged "
                f"(pages {pages}); replace them with rescans before sampling again",
                Conflict.FAILED_PAGES_UNCHANGED,
                {"batch": batch.id, "count": len(still_failing), "pages": pages},
            )
        changed = changed_pages(session, batch.id, since=previous.drawn_at)
        if not changed:
            raise Conflict(
                f"batch {batch.id} was returned and nothing was rescanned since; rescan first",
                Conflict.NOTHING_RESCANNED,
                {"batch": batch.id},
            )
        return changed

    def record_verdict(
        self,
        batch_id: int,
        page_id: int,
        *,
        actor: Principal,
        passed: bool,
        defect: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        authorize(actor.roles, Action.ACCEPTANCE)
        defect = sampling.check_defect(defect, passed=passed)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)  # an unseen batch first: its pages are not named
            page = session.get(Page, page_id)
            if page is None or not page_visible(actor, page):
                raise NotFound(f"page {page_id} does not exist")
            if batch.status != BatchStatus.SAMPLING:
                raise Conflict(
                    f"batch {batch_id} is {batch.status}; verdicts are recorded while it is being sampled",
                    Conflict.BATCH_NOT_SAMPLING,
                    {"batch": batch_id, "status": batch.status},
                )
            sample = _current_sample(session, batch_id)
            if page_id not in sample.page_ids:
                raise InvalidInput(
                    f"page {page_id} is not in the open sample of batch {batch_id}",
                    InvalidInput.PAGE_NOT_IN_SAMPLE,
                    {"page": page_id, "batch": batch_id},
                )
            if self.context.settings.separate_reviewer:
                check_reviewer(session, actor.username, [page])
            verdict = next((v for v in sample.verdicts if v.page_id == page_id), None)
            if verdict is None:
                verdict = SampleVerdict(page_id=page_id, passed=passed, reviewer=actor.username)
                sample.verdicts.append(verdict)
            verdict.passed, verdict.defect, verdict.note, verdict.reviewer, verdict.at = (
                passed,
                defect,
                note,
                actor.username,
                utcnow(),
            )
            verdict.critical = defect in sampling.CRITICAL_DEFECTS
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_VERDICT,
                target=f"page:{page_id}",
                details={"batch": batch_id, "passed": passed, "defect": defect},
            )
            session.flush()
            return sample_view(session, sample, actor)

    def decide(self, batch_id: int, *, actor: Principal) -> dict[str, Any]:
        authorize(actor.roles, Action.ACCEPTANCE)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)
            sample = _current_sample(session, batch_id)
            if self.context.settings.separate_reviewer:
                sampled = list(session.scalars(select(Page).where(Page.id.in_(sample.page_ids))))
                check_reviewer(session, actor.username, sampled)
            decision = sampling.decide(
                sampled=len(sample.page_ids), verdicts=[(v.passed, v.defect) for v in sample.verdicts]
            )
            target = BatchStatus.ACCEPTED if decision.accepted else BatchStatus.RETURNED
            batch.status = transition_batch(batch_id, batch.status, target)
            batch.decision, batch.decided_by, batch.decided_at = batch.status.value, actor.username, utcnow()
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_DECIDE,
                target=f"batch:{batch_id}",
                outcome=batch.status.value,
                details={"pass_rate": decision.pass_rate, "critical": decision.critical, "sample": sample.id},
            )
            return {
                "batch_id": batch_id,
                "decision": batch.status.value,
                "pass_rate": decision.pass_rate,
                "passed": decision.passed,
                "reviewed": decision.reviewed,
                "critical": decision.critical,
                "reasons": [reason.message for reason in decision.reasons],
                "reason_codes": [{"code": reason.code, "params": dict(reason.params)} for reason in decision.reasons],
                "decided_by": actor.username,
            }

    def file(self, batch_id: int, *, actor: Principal, justification: str | None = None) -> dict[str, Any]:
        """File an accepted batch: its items become filed records that staff can find. Missing items and page
        mismatches found by the reconciliation block filing unless a justification is recorded."""
        authorize(actor.roles, Action.FILE_BATCH)
        reconciliation = BatchService(self.context).filing_gaps(batch_id)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)
            if batch.status != BatchStatus.ACCEPTED:
                raise Conflict(
                    f"batch {batch_id} is {batch.status}: only an accepted batch can be filed; "
                    "draw a sample and record its verdicts first",
                    Conflict.BATCH_NOT_ACCEPTED,
                    {"batch": batch_id, "status": batch.status},
                )
            if reconciliation and not (justification or "").strip():
                raise Conflict(
                    f"batch {batch_id} cannot be filed as it is: {reconciliation}; file it with a justification "
                    "(`dangan batch file ID --justification ...`) or fix the batch first",
                    Conflict.FILING_NEEDS_JUSTIFICATION,
                    {"batch": batch_id},
                )
            batch.status = transition_batch(batch_id, batch.status, BatchStatus.FILED)
            documents = _live_documents(session, batch_id)
            for document in documents:
                document.status = transition_document(document.id, document.status, DocumentStatus.FILED)
                document.indexed_at = None  # until the index knows it is filed (recovery re-indexes)
            batch.filed_by, batch.filed_at = actor.username, utcnow()
            batch.filing_justification = (justification or "").strip() or None
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_FILE,
                target=f"batch:{batch_id}",
                details={"documents": len(documents), "gaps": reconciliation, "justification": justification},
            )
            ids = [document.id for document in documents]
            filed = {"batch": batch_id, "justification": batch.filing_justification}
            history.record_many(
                session, (history.Event(i, history.EventType.ACCESSION, actor.username, detail=filed) for i in ids)
            )
            view = {"batch_id": batch_id, "status": BatchStatus.FILED.value, "documents": len(documents)}
        index_current(self.context, ids)  # the next search already sees them filed (staff see filed items)
        with self.context.db.write() as session:
            session.execute(update(Document).where(Document.id.in_(ids)).values(indexed_at=utcnow()))
        view["dat70"] = check_filed_batch(self.context, batch_id, actor=actor)  # the report is stored; never fails
        return view

    def reopen(self, batch_id: int, *, actor: Principal, reason: str, client: str | None = None) -> dict[str, Any]:
        """A filed batch is closed; a reopen (with its reason in the log) takes its items out of staff's view
        until the batch is sampled and filed again."""
        authorize(actor.roles, Action.REOPEN_BATCH)
        with self.context.db.write() as session:
            batch = visible_batch(session, actor, batch_id)
            if not reason.strip():
                raise InvalidInput(
                    "say why the batch is reopened (it goes into the access log)", InvalidInput.REOPEN_REASON_MISSING
                )
            batch.status = transition_batch(batch_id, batch.status, BatchStatus.OPEN)
            documents = _live_documents(session, batch_id)
            for document in documents:
                document.status = transition_document(document.id, document.status, DocumentStatus.READY)
            batch.decision, batch.decided_by, batch.decided_at = None, None, None
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.BATCH_REOPEN,
                target=f"batch:{batch_id}",
                client=client,
                details={"reason": reason.strip(), "documents": len(documents)},
            )
            ids = [document.id for document in documents]
        index_current(self.context, ids)
        return {"batch_id": batch_id, "status": BatchStatus.OPEN.value, "documents": len(documents)}

    def report(self, actor: Principal, batch_id: int) -> dict[str, Any]:
        status = BatchService(self.context).status(actor, batch_id).as_json()
        with self.context.db.read() as session:
            samples = list(
                session.scalars(select(BatchSample).where(BatchSample.batch_id == batch_id).order_by(BatchSample.id))
            )
            status["samples"] = [sample_view(session, sample, actor) for sample in samples]
        return status


def _live_documents(session: Session, batch_id: int) -> list[Document]:
    query = select(Document).where(Document.batch_id == batch_id, Document.status.not_in(OUT_OF_USE))
    return list(session.scalars(query))


def _check_pages_settled(session: Session, batch_id: int) -> None:
    """A sample is drawn from settled pages: none held by the quality gate, none waiting for a rescan."""
    held = _pages(session, batch_id, review="held")
    if held:
        raise Conflict(
            f"batch {batch_id} has {len(held)} page(s) held by the quality gate; "
            "accept, reject or replace them first (`dangan batch status` lists them)",
            Conflict.PAGES_HELD,
            {"batch": batch_id, "count": len(held)},
        )
    rejected = _pages(session, batch_id, review="rejected")
    if rejected:
        raise Conflict(
            f"batch {batch_id} has {len(rejected)} page(s) waiting for a rescan; replace them first "
            "(`dangan page replace PAGE FILE`)",
            Conflict.PAGES_AWAIT_RESCAN,
            {"batch": batch_id, "count": len(rejected)},
        )


def _current_sample(session: Session, batch_id: int) -> BatchSample:
    sample = session.scalars(
        select(BatchSample).where(BatchSample.batch_id == batch_id).order_by(BatchSample.id.desc())
    ).first()
    if sample is None:
        raise Conflict(
            f"batch {batch_id} has no sample yet; draw one with `dangan batch sample {batch_id}`",
            Conflict.NO_SAMPLE,
            {"batch": batch_id},
        )
    return sample


def _pages(session: Session, batch_id: int, *, review: str | None = None) -> list[Page]:
    query = (
        select(Page)
        .join(Document, Page.document_id == Document.id)
        .where(Document.batch_id == batch_id, Page.current.is_(True), Document.status.not_in(OUT_OF_USE))
    )
    if review is not None:
        query = query.where(Page.review == review)
    return list(session.scalars(query.order_by(Page.id)))
