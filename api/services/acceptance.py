"""Acceptance sampling, the batch decision, the batch report, and filing.

A sample draws ≥ 5% of the batch's current pages (and at least a minimum) with a recorded seed; reviewers
record pass or fail with a defect type per sampled page; the batch is accepted at ≥ 95% passes and no
critical defect, otherwise returned to the archivist. Filing requires acceptance.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.services.batches import BatchService
from api.services.filing import indexed_document
from api.wiring import Context
from archive import audit, sampling
from archive.errors import Conflict, InvalidInput, NotFound
from archive.models import Batch, BatchSample, Document, Page, SampleVerdict, utcnow
from archive.values import BatchStatus, DocumentStatus

DEFAULT_MINIMUM = 10


class AcceptanceService:
    def __init__(self, context: Context) -> None:
        self.context = context

    def draw(
        self,
        batch_id: int,
        *,
        actor: str,
        percent: float = 5.0,
        minimum: int = DEFAULT_MINIMUM,
        seed: int | None = None,
    ) -> dict[str, Any]:
        with self.context.db.write() as session:
            batch = _batch(session, batch_id)
            if batch.status not in (BatchStatus.OPEN, BatchStatus.RETURNED, BatchStatus.SAMPLING):
                raise Conflict(f"batch {batch_id} is {batch.status}; it cannot be sampled again")
            held = _pages(session, batch_id, review="held")
            if held:
                raise Conflict(
                    f"batch {batch_id} has {len(held)} page(s) held by the quality gate; "
                    "accept, reject or replace them first (`dangan batch status` lists them)"
                )
            seed = seed if seed is not None else secrets.randbelow(2**31)
            page_ids = sampling.draw(
                [p.id for p in _pages(session, batch_id)], percent=percent, minimum=minimum, seed=seed
            )
            sample = BatchSample(
                batch_id=batch_id,
                seed=seed,
                percent=percent,
                minimum=minimum,
                population=len(_pages(session, batch_id)),
                page_ids=page_ids,
                drawn_by=actor,
            )
            session.add(sample)
            batch.status, batch.decision, batch.decided_by, batch.decided_at = BatchStatus.SAMPLING, None, None, None
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="batch.sample",
                target=f"batch:{batch_id}",
                details={"sample": sample.id, "seed": seed, "pages": len(page_ids), "percent": percent},
            )
            return self._sample_view(session, sample)

    def record_verdict(
        self,
        batch_id: int,
        page_id: int,
        *,
        actor: str,
        passed: bool,
        defect: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        defect = sampling.check_defect(defect, passed=passed)
        with self.context.db.write() as session:
            sample = _current_sample(session, batch_id)
            if page_id not in sample.page_ids:
                raise InvalidInput(f"page {page_id} is not in the current sample of batch {batch_id}")
            verdict = next((v for v in sample.verdicts if v.page_id == page_id), None)
            if verdict is None:
                verdict = SampleVerdict(page_id=page_id, passed=passed, reviewer=actor)
                sample.verdicts.append(verdict)
            verdict.passed, verdict.defect, verdict.note, verdict.reviewer, verdict.at = (
                passed,
                defect,
                note,
                actor,
                utcnow(),
            )
            verdict.critical = defect in sampling.CRITICAL_DEFECTS
            audit.record(
                session,
                actor=actor,
                action="batch.verdict",
                target=f"page:{page_id}",
                details={"batch": batch_id, "passed": passed, "defect": defect},
            )
            session.flush()
            return self._sample_view(session, sample)

    def decide(self, batch_id: int, *, actor: str) -> dict[str, Any]:
        with self.context.db.write() as session:
            batch = _batch(session, batch_id)
            sample = _current_sample(session, batch_id)
            decision = sampling.decide(
                sampled=len(sample.page_ids), verdicts=[(v.passed, v.defect) for v in sample.verdicts]
            )
            batch.status = BatchStatus.ACCEPTED if decision.accepted else BatchStatus.RETURNED
            batch.decision, batch.decided_by, batch.decided_at = batch.status.value, actor, utcnow()
            audit.record(
                session,
                actor=actor,
                action="batch.decide",
                target=f"batch:{batch_id}",
                outcome=batch.status.value,
                details={"pass_rate": decision.pass_rate, "critical": decision.critical},
            )
            return {
                "batch_id": batch_id,
                "decision": batch.status.value,
                "pass_rate": decision.pass_rate,
                "passed": decision.passed,
                "reviewed": decision.reviewed,
                "critical": decision.critical,
                "reasons": list(decision.reasons),
                "decided_by": actor,
            }

    def file(self, batch_id: int, *, actor: str) -> dict[str, Any]:
        with self.context.db.write() as session:
            batch = _batch(session, batch_id)
            if batch.status != BatchStatus.ACCEPTED:
                raise Conflict(
                    f"batch {batch_id} is {batch.status}: only an accepted batch can be filed; "
                    "draw a sample and record its verdicts first"
                )
            in_use = (Document.batch_id == batch_id) & (Document.status != DocumentStatus.WITHDRAWN)
            documents = list(session.scalars(select(Document).where(in_use)))
            for document in documents:
                document.status = DocumentStatus.FILED
                document.indexed_at = None  # until the index knows it is filed (recovery re-indexes)
            batch.status, batch.filed_by, batch.filed_at = BatchStatus.FILED, actor, utcnow()
            audit.record(
                session,
                actor=actor,
                action="batch.file",
                target=f"batch:{batch_id}",
                details={"documents": len(documents)},
            )
            indexed = [indexed_document(document) for document in documents]
            view = {"batch_id": batch_id, "status": batch.status.value, "documents": len(documents)}
        self.context.index.upsert(indexed)  # the next search already sees them filed (staff see filed items)
        with self.context.db.write() as session:
            ids = [document.document_id for document in indexed]
            session.execute(update(Document).where(Document.id.in_(ids)).values(indexed_at=utcnow()))
        return view

    def report(self, batch_id: int) -> dict[str, Any]:
        status = BatchService(self.context).status(batch_id)
        with self.context.db.session() as session:
            samples = list(
                session.scalars(select(BatchSample).where(BatchSample.batch_id == batch_id).order_by(BatchSample.id))
            )
            status["samples"] = [self._sample_view(session, sample) for sample in samples]
        return status

    @staticmethod
    def _sample_view(session: Session, sample: BatchSample) -> dict[str, Any]:
        pages = {p.id: p for p in session.scalars(select(Page).where(Page.id.in_(sample.page_ids)))}
        verdicts = {v.page_id: v for v in sample.verdicts}
        rows = []
        for page_id in sample.page_ids:
            page, verdict = pages[page_id], verdicts.get(page_id)
            rows.append(
                {
                    "page_id": page_id,
                    "document_id": page.document_id,
                    "page": page.number,
                    "reference_code": page.document.reference_code,
                    "verdict": None if verdict is None else ("pass" if verdict.passed else "fail"),
                    "defect": verdict.defect if verdict else None,
                    "reviewer": verdict.reviewer if verdict else None,
                }
            )
        return {
            "sample_id": sample.id,
            "seed": sample.seed,
            "percent": sample.percent,
            "minimum": sample.minimum,
            "population": sample.population,
            "drawn_by": sample.drawn_by,
            "drawn_at": sample.drawn_at.isoformat(),
            "pages": rows,
            "reviewed": len(verdicts),
            "passed": sum(1 for v in verdicts.values() if v.passed),
        }


def _batch(session: Session, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"batch {batch_id} does not exist")
    return batch


def _current_sample(session: Session, batch_id: int) -> BatchSample:
    sample = session.scalars(
        select(BatchSample).where(BatchSample.batch_id == batch_id).order_by(BatchSample.id.desc())
    ).first()
    if sample is None:
        raise Conflict(f"batch {batch_id} has no sample yet; draw one with `dangan batch sample {batch_id}`")
    return sample


def _pages(session: Session, batch_id: int, *, review: str | None = None) -> list[Page]:
    query = (
        select(Page)
        .join(Document, Page.document_id == Document.id)
        .where(Document.batch_id == batch_id, Page.current.is_(True))
    )
    if review is not None:
        query = query.where(Page.review == review)
    return list(session.scalars(query.order_by(Page.id)))
