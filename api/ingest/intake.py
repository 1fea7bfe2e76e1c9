"""The one intake use case: plan what was handed over, submit each item, tell what was taken and what not.

The CLI (`dangan ingest`), the HTTP batch upload and the hot folder all come here. An item the archive holds
already (a `Conflict`) is skipped; any other refusal rejects it; neither stops the others. Without a batch,
an ad hoc batch is made, and only once an item is accepted: a run that takes nothing leaves no batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from api.ingest.batches import BatchService
from api.ingest.planning import plan_batch_items, refusal
from api.ingest.process import batch_device_warnings
from api.ingest.running import JobDriver
from api.ingest.service import IngestService
from api.views.base import CodedView
from api.views.ingest import Accepted, IngestedJob, IngestRun, JobView, Refusal
from api.wiring import Context
from archive.access import Principal
from archive.errors import Conflict, DanganError, InsufficientStorage, NotFound
from archive.models import Document, IngestJob
from archive.permissions import Action, authorize
from archive.redact import hide_paths
from archive.values import JobState
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
    engine: str | None = None  # OCR engine of the ad hoc batch (default: the setting)
    level: str | None = None
    fonds: str | None = None
    title: str | None = None  # for a single item only
    resume: bool = False  # no longer needed: every run resumes every runnable job (kept for old scripts)
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
        warnings = batch_device_warnings(self.context, batch_id)  # scanned with an overdue device: said, not refused
        return Accepted(
            batch_id=batch_id,
            jobs=taken.jobs,
            skipped=taken.skipped,
            rejected=rejected,
            warnings=[w.message for w in warnings],
            warning_codes=[CodedView(code=w.code, params=dict(w.params)) for w in warnings],
        )

    def ingest_paths(
        self, request: IngestRequest, *, actor: Principal, runner: RunnerFactory, progress: Progress | None = None
    ) -> IngestRun:
        """Ingest files or folders and run their jobs to the end here (OCR in `runner`'s worker processes).

        It also runs every runnable job of the installation (whatever batch: what a crash, a stop or a passing
        fault left), and waits for the unfinished jobs of the batch it adds to, whoever holds them. A stop
        (Ctrl-C, SIGTERM) hands back what is not done; the next run (of any runner) picks it up."""
        authorize(actor.roles, Action.INGEST)
        batch = self._batch_for(request, actor)
        plan = plan_batch_items(self.context, batch.id, request.paths)
        started = time.perf_counter()
        workers = max(1, min(self.context.settings.workers, len(plan.items) or 1))
        jobs = runner(self.service, workers)
        patience = self.context.settings.faults.retry_max_seconds
        fault_wait = max(0.5, self.context.settings.faults.retry_first_seconds)
        driver = JobDriver(self.service, jobs, progress or _Silent(), patience=patience, fault_wait=fault_wait)
        interrupted = True  # until the loop ends: then a stop hands back the jobs in hand
        try:
            self.service.record_refusals(actor, batch.id, plan.rejected, client=request.client)
            driver.take(self.service.pending_job_ids())  # --resume is no longer needed: always, any batch
            if batch.id is not None:
                driver.wait_for(self.service.unfinished_job_ids(batch.id))
            title = request.title if len(plan.items) == 1 else None
            taken = self._submit_each(
                batch, plan.items, actor=actor, client=request.client, queue=driver.take_one, title=title
            )
            driver.run()
            interrupted = False
        finally:
            jobs.shutdown(wait=not interrupted)
            plan.cleanup()
        seconds = time.perf_counter() - started
        ended = self._reported(actor, driver.awaited)
        run = IngestRun.of(batch.id, ended, taken.skipped, plan.rejected + taken.rejected, seconds)
        return run if driver.fault is None else run.with_fault(driver.fault)

    def run_pending(self, *, actor: Principal, runner: RunnerFactory, progress: Progress | None = None) -> IngestRun:
        """Run every runnable job of the installation here until none is left (a restart, `dangan jobs run`):
        queued, retrying once due, and those whose runner died (expired leases). Jobs that stay `retrying`
        longer than DANGAN_FAULTS__RETRY_MAX_SECONDS without any job ending are left for the next run."""
        authorize(actor.roles, Action.INGEST)
        started = time.perf_counter()
        driver = self.drive_pending(runner=runner, progress=progress)
        run = IngestRun.of(None, self._reported(actor, driver.awaited), [], [], time.perf_counter() - started)
        return run if driver.fault is None else run.with_fault(driver.fault)

    def drive_pending(self, *, runner: RunnerFactory, progress: Progress | None = None) -> JobDriver:
        """`run_pending`'s loop, for use cases that check their own permission and report in their own shape;
        the driver says which jobs it waited for and the passing fault that kept one from recording its end."""
        jobs = runner(self.service, self.context.settings.workers)
        patience = self.context.settings.faults.retry_max_seconds
        fault_wait = max(0.5, self.context.settings.faults.retry_first_seconds)
        driver = JobDriver(
            self.service, jobs, progress or _Silent(), patience=patience, keep_picking=True, fault_wait=fault_wait
        )
        interrupted = True
        try:
            driver.take(self.service.pending_job_ids())
            driver.run()
            interrupted = False
        finally:
            jobs.shutdown(wait=not interrupted)
        return driver

    def _reported(self, actor: Principal, job_ids: set[int]) -> list[IngestedJob]:
        """The end of each job this run waited for that the caller may see (others' jobs it ran stay unnamed)."""
        reported = []
        for job_id in sorted(job_ids):
            try:
                reported.append(self._ended(actor, job_id))
            except NotFound:
                continue
        return reported

    def _batch_for(self, request: IngestRequest, actor: Principal) -> _AdHocBatch:
        if request.batch_id is not None:
            return _AdHocBatch(make=lambda: int(request.batch_id or 0), id=request.batch_id)
        batches = BatchService(self.context)
        fonds = request.fonds or self.context.settings.default_fonds
        languages, level, engine = request.languages, request.level, request.engine
        batches.check_new(actor=actor, fonds=fonds, languages=languages, engine=engine, level=level)  # before reading

        def make() -> int:
            made = batches.create(
                actor=actor,
                fonds=fonds,
                languages=languages,
                engine=engine,
                level=level,
                label="ad hoc ingest",
                client=request.client,
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

    def _ended(self, actor: Principal, job_id: int) -> IngestedJob:
        job = self.service.job(actor, job_id)
        reference, pages, fault = None, None, None
        with self.context.db.read() as session:
            row = session.get(IngestJob, job_id)
            if row is not None and row.state == JobState.RETRYING:
                fault = int(row.options.get("fault", {}).get("exit_code", 0)) or None  # type: ignore[attr-defined]
            document = session.get(Document, job.document_id) if job.document_id is not None else None
            if document is not None:
                reference, pages = document.reference_code, document.page_count
        return IngestedJob(
            **job.model_dump(), reference_code=reference, pages=pages, replayed=job.replayed, retry_exit_code=fault
        )
