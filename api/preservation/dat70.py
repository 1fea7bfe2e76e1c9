"""DA/T 70 four-property checks on demand: of a batch or of one document, for the archivist and the system
administrator (archive.permissions: dat70.run). Each run is stored with its audit event in one transaction and
answered in the graded-report contract; stored runs (those made at filing too) can be read later, as JSON or as
HTML in Chinese or English."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.views.dat70 import Dat70ReportView, Dat70RunList, Dat70RunSummary
from api.views.dat70_html import render_dat70
from api.wiring import Context, dat70_tools
from archive.access import Principal
from archive.dat70_runs import record_run
from archive.errors import InvalidInput, NotFound
from archive.models import Batch, Dat70Run, Document
from archive.permissions import Action, authorize
from archive.preservation.dat70_run import check_batch, check_document
from archive.visibility import batch_visible, document_visible

DEMAND, FILING = "demand", "filing"


def view_of(run: Dat70Run) -> Dat70ReportView:
    return Dat70ReportView.model_validate(
        {
            **run.report,
            "run_id": run.id,
            "trigger": run.trigger,
            "actor": run.actor,
            "started_at": run.started_at.isoformat(),
        }
    )


class Dat70Service:
    def __init__(self, context: Context) -> None:
        self.context = context

    def check(
        self,
        principal: Principal,
        *,
        batch_id: int | None = None,
        document_id: int | None = None,
        client: str | None = None,
    ) -> Dat70ReportView:
        """Check a batch or a document now (exactly one of them); a record the caller may not see is missing."""
        authorize(principal.roles, Action.RUN_DAT70)
        if (batch_id is None) == (document_id is None):
            raise InvalidInput("name a batch or a document to check (--batch ID or --document ID), not both")
        tools = dat70_tools(self.context)
        with self.context.db.write() as session:
            if batch_id is not None:
                self._visible_batch(session, principal, batch_id)
                report = check_batch(session, tools, batch_id)
            else:
                assert document_id is not None
                self._visible_document(session, principal, document_id)
                report = check_document(session, tools, document_id)
            run = record_run(
                session, report, actor=principal.username, roles=principal.roles, trigger=DEMAND, client=client
            )
            return view_of(run)

    def runs(
        self, principal: Principal, *, batch_id: int | None = None, document_id: int | None = None, limit: int = 50
    ) -> Dat70RunList:
        """Stored runs, newest first (of one batch or document when named; only those the caller may see)."""
        authorize(principal.roles, Action.RUN_DAT70)
        with self.context.db.read() as session:
            query = select(Dat70Run).order_by(Dat70Run.id.desc())
            if batch_id is not None:
                self._visible_batch(session, principal, batch_id)
                query = query.where(Dat70Run.scope == "batch", Dat70Run.subject_id == batch_id)
            if document_id is not None:
                self._visible_document(session, principal, document_id)
                query = query.where(Dat70Run.scope == "document", Dat70Run.subject_id == document_id)
            rows = [run for run in session.scalars(query) if self._may_see(session, principal, run)][:limit]
            return Dat70RunList(runs=[_summary(run) for run in rows])

    def run(self, principal: Principal, run_id: int) -> Dat70ReportView:
        authorize(principal.roles, Action.RUN_DAT70)
        with self.context.db.read() as session:
            run = session.get(Dat70Run, run_id)
            if run is None or not self._may_see(session, principal, run):
                raise NotFound(f"DA/T 70 check run {run_id} does not exist; list them with `dangan check dat70 --list`")
            return view_of(run)

    def html(self, principal: Principal, run_id: int, *, lang: str = "zh-CN") -> str:
        return render_dat70(self.run(principal, run_id), lang=lang)

    @staticmethod
    def _visible_batch(session: Any, principal: Principal, batch_id: int) -> Batch:
        batch = session.get(Batch, batch_id)
        if batch is None or not batch_visible(principal, batch):
            raise NotFound(f"batch {batch_id} does not exist")
        return batch  # type: ignore[no-any-return]

    @staticmethod
    def _visible_document(session: Any, principal: Principal, document_id: int) -> Document:
        document = session.get(Document, document_id)
        if document is None or not document_visible(principal, document):
            raise NotFound(f"document {document_id} does not exist")
        return document  # type: ignore[no-any-return]

    def _may_see(self, session: Any, principal: Principal, run: Dat70Run) -> bool:
        if run.scope == "batch":
            batch = session.get(Batch, run.subject_id)
            return batch is not None and batch_visible(principal, batch)
        document = session.get(Document, run.subject_id)
        return document is not None and document_visible(principal, document)


def _summary(run: Dat70Run) -> Dat70RunSummary:
    return Dat70RunSummary.model_validate(
        {
            "id": run.id,
            "scope": run.scope,
            "subject_id": run.subject_id,
            "trigger": run.trigger,
            "started_at": run.started_at.isoformat(),
            "seconds": run.seconds,
            "grade": run.grade,
            "actor": run.actor,
        }
    )
