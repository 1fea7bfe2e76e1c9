"""The one intake use case: plan what was handed over, submit each item, tell what was taken and what not.

The CLI (`dangan ingest`), the HTTP batch upload and the hot folder all come here. An item the archive holds
already (a `Conflict`) is skipped; any other refusal rejects it; neither stops the others. Without a batch,
an ad hoc batch is made, and only once an item is accepted: a run that takes nothing leaves no batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from api.ingest.batches import BatchService
from api.ingest.planning import plan_batch_items, refusal
from api.ingest.service import IngestService
from api.views.ingest import Accepted, IngestedJob, IngestRun, JobView, Refusal
from api.wiring import Context
from archive.access import Principal
from archive.errors import Conflict, DanganError, InsufficientStorage
from archive.models import Document, IngestJob
from archive.permissions import Action, authorize
from archive.redact import hide_paths
from ingest.grouping import PlannedItem


class JobRunner(Protocol):
    """What runs queued jobs (api.runners.local.LocalJobRunner): the future ends when the job has."""

    def submit(self, job_id: int) -> Future[None]: ...

    def shutdown(self, *, wait: bool = True) -> None: ...


RunnerFactory = Callable[[IngestService, int], JobRunner]  # (service, workers) -> runner


class Progress(Protocol):
    """A progress display (the CLI's Reporter): told the number of jobs, then each one that ends."""

    def set_total(self, total: int) -> None: ...

    def advance(self, label: str = "") -> None: ...


class _Silent:
    def set_total(self, total: int) -> None:
        pass

    def advance(self, label: str = "") -> None:
        pass


@dataclass(frozen=True)
class IngestRequest:
    """What `dangan ingest` was asked: files or folders, into a batch or an ad hoc one made with these fields."""

    paths: list[Path]
    batch_id: int | None = None
    languages: str | None = None
    level: str | None = None
    fonds: str | None = None
    title: str | None = None  # for a single item only
    resume: bool = False  # also run what an earlier run of this batch left unfinished
    client: str | None = None


@dataclass
class _AdHocBatch:
    """The batch of a run without one: made on the first accepted item, then reused."""

    make: Callable[[], int]
    id: int | None = None

    def __call__(self) -> int:
        if self.id is None:
            self.id = self.make()
        return self.id


@dataclass
class _Taken:
    jobs: list[JobView] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    rejected: list[Refusal] = field(default_factory=list)


class Intake:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.service = IngestService(context)

    def accept(
        self,
        batch_id: int,
        items: Iterable[PlannedItem],
        *,
        actor: Principal,
        queue: Callable[[int], object],
        client: str | None = None,
    ) -> Accepted:
        """Submit planned items of an existing batch and hand each queued job to `queue` (a runner's submit)."""
        taken = self._submit_each(batch_id, list(items), actor=actor, client=client, queue=queue)
        return Accepted(batch_id=batch_id, jobs=taken.jobs, skipped=taken.skipped, rejected=taken.rejected)

    def upload(
        self,
        batch_id: int,
        paths: list[Path],
        *,
        actor: Principal,
        queue: Callable[[int], object],
        client: str | None = None,
    ) -> Accepted:
        """Received files (ZIPs unpacked) into an open batch; their jobs go to `queue`."""
        self.service.ensure_open(actor, batch_id)
        plan = plan_batch_items(self.context, batch_id, paths)
        try:
            self.service.record_refusals(actor, batch_id, plan.rejected, client=client)
            taken = self._submit_each(batch_id, plan.items, actor=actor, client=client, queue=queue)
        finally:
            plan.cleanup()
        private = self.context.settings.private_paths  # an HTTP answer: no server folder in a refusal
        rejected = [row.model_copy(update={"message": hide_paths(row.message, private)}) for row in plan.rejected]
        rejected += [row.model_copy(update={"message": hide_paths(row.message, private)}) for row in taken.rejected]
        return Accepted(batch_id=batch_id, jobs=taken.jobs, skipped=taken.skipped, rejected=rejected)

    def ingest_paths(
        self, request: IngestRequest, *, actor: Principal, runner: RunnerFactory, progress: Progress | None = None
    ) -> IngestRun:
        """Ingest files or folders and run their jobs to the end here (OCR in `runner`'s worker processes)."""
        authorize(actor.roles, Action.INGEST)
        batch = self._batch_for(request, actor)
        plan = plan_batch_items(self.context, batch.id, request.paths)
        shown = progress or _Silent()
        started = time.perf_counter()
        workers = max(1, min(self.context.settings.workers, len(plan.items) or 1))
        jobs = runner(self.service, workers)
        futures: dict[Future[None], int] = {}

        def queue(job_id: int) -> None:
            futures[jobs.submit(job_id)] = job_id

        interrupted = True  # until every job has ended: then a stop (Ctrl-C, SIGTERM) leaves the rest for --resume
        try:
            self.service.record_refusals(actor, batch.id, plan.rejected, client=request.client)
            pending = self.service.pending_job_ids(batch_id=batch.id) if request.resume and batch.id else []
            for job_id in pending:
                queue(job_id)
            title = request.title if len(plan.items) == 1 else None
            taken = self._submit_each(batch, plan.items, actor=actor, client=request.client, queue=queue, title=title)
            fault = self._wait(actor, futures, shown)
            interrupted = False
        finally:
            jobs.shutdown(wait=not interrupted)
            plan.cleanup()
        seconds = time.perf_counter() - started
        ended = [self._ended(actor, job_id) for job_id in sorted(futures.values())]
        run = IngestRun.of(batch.id, ended, taken.skipped, plan.rejected + taken.rejected, seconds)
        return (
            run
            if fault is None
            else run.model_copy(update={"fault": fault.message, "fault_exit_code": fault.exit_code})
        )

    def _batch_for(self, request: IngestRequest, actor: Principal) -> _AdHocBatch:
        if request.batch_id is not None:
            return _AdHocBatch(make=lambda: int(request.batch_id or 0), id=request.batch_id)
        batches = BatchService(self.context)
        fonds = request.fonds or self.context.settings.default_fonds
        languages, level = request.languages, request.level
        batches.check_new(actor=actor, fonds=fonds, languages=languages, level=level)  # refused before any reading

        def make() -> int:
            made = batches.create(
                actor=actor, fonds=fonds, languages=languages, level=level, label="ad hoc ingest", client=request.client
            )
            return made.id

        return _AdHocBatch(make=make)

    def _submit_each(
        self,
        batch: int | Callable[[], int],
        items: list[PlannedItem],
        *,
        actor: Principal,
        client: str | None,
        queue: Callable[[int], object],
        title: str | None = None,
    ) -> _Taken:
        """The loop: each item queued, or skipped (the archive holds it: a Conflict), or rejected with its reason."""
        taken = _Taken()
        full: InsufficientStorage | None = None
        for item in items:
            if full is not None:  # a full disk takes no more items: the rest are not tried (nor hashed)
                taken.rejected.append(refusal(item.name, full))
                continue
            try:
                job = self.service.submit_item(batch, item, actor=actor, client=client, title=title)
            except Conflict as exc:
                taken.skipped.append(refusal(item.name, exc))
                continue
            except InsufficientStorage as exc:
                full = exc
                taken.rejected.append(refusal(item.name, exc))
                continue
            except DanganError as exc:
                taken.rejected.append(refusal(item.name, exc))
                continue
            queue(job.id)
            taken.jobs.append(job)
        return taken

    def _wait(self, actor: Principal, futures: dict[Future[None], int], progress: Progress) -> DanganError | None:
        """Each job to its end; a passing fault that kept a job from even recording its state (the catalogue's
        disk full, say) leaves that job to the next runner and is returned, so the run still reports."""
        progress.set_total(len(futures))
        fault: DanganError | None = None
        for future in as_completed(futures):
            try:
                future.result()
            except DanganError as exc:
                if not exc.transient:
                    raise
                fault = fault or exc
                progress.advance(f"job {futures[future]}: {exc.message}")
                continue
            job = self.service.job(actor, futures[future])
            progress.advance(f"{job.source_name}: {job.state}")
        return fault

    def _ended(self, actor: Principal, job_id: int) -> IngestedJob:
        job = self.service.job(actor, job_id)
        reference, pages = None, None
        with self.context.db.session() as session:
            document = session.get(Document, job.document_id) if job.document_id is not None else None
            if document is not None:
                reference, pages = document.reference_code, document.page_count
            row = session.get(IngestJob, job_id)
            fault = row.options.get("fault") if row is not None and job.state == "retrying" else None
            waiting = fault.get("exit_code") if isinstance(fault, dict) else None  # what the job waits out
        return IngestedJob(
            **job.model_dump(),
            reference_code=reference,
            pages=pages,
            replayed=job.replayed,
            retry_exit_code=int(waiting) if isinstance(waiting, int) else None,
        )
