"""`dangan ingest DIR --batch ID --watch`: a hot folder. A file (or a sub-folder of page images) is picked up
once it is complete: its size and modification time have not changed for one whole polling interval and it
does not carry a partial-download name. Each item is taken once. Like every runner, the watch also runs every
runnable job of the installation (what a crash, a stop or a passing fault left, whatever batch). Ctrl-C or
SIGTERM stops within a bound: the jobs in hand may finish for DANGAN_FAULTS__SHUTDOWN_GRACE_SECONDS, then the OCR
workers are ended and the rest is handed back, queued, for the next runner."""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path

from api.cli.output import stderr
from api.ingest.intake import Intake
from api.ingest.planning import plan_batch_items
from api.ingest.service import IngestService
from api.runners.local import LocalJobRunner, RunnerStopped
from api.views.ingest import Accepted, HotFolderCounts
from api.wiring import Context
from archive.access import Principal
from archive.errors import NotFound
from archive.values import JobState
from ingest.grouping import PlannedItem

PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart")


def _signature(item: PlannedItem) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in item.sources if p.exists())


def _partial(folder: Path) -> bool:
    return any(p.name.lower().endswith(PARTIAL_SUFFIXES) for p in folder.rglob("*"))


def watch_folder(
    context: Context, folder: Path, *, batch_id: int, actor: Principal, interval: float = 2.0, cycles: int | None = None
) -> HotFolderCounts:
    intake = Intake(context)
    service = intake.service
    runner = LocalJobRunner(service, workers=context.settings.workers)
    taken: set[str] = set()
    last_seen: dict[str, tuple[tuple[str, int, int], ...]] = {}
    futures: dict[Future[None], int] = {}
    counts = {"submitted": 0, "skipped": 0, "rejected": 0}

    def queue(job_id: int) -> None:
        if job_id not in futures.values():
            futures[runner.submit(job_id)] = job_id

    stderr.print(f"watching {folder} for batch {batch_id} every {interval:g} s; Ctrl-C stops", highlight=False)
    stopped = True
    try:
        for job_id in service.pending_job_ids():  # what a crash or stop left unfinished, any batch
            queue(job_id)
        cycle = 0
        while cycles is None or cycle < cycles:
            cycle += 1
            for job_id in service.runnable_job_ids():  # retrying ones now due, expired leases
                queue(job_id)
            if not _partial(folder):
                ready = _complete_items(plan_batch_items(context, batch_id, [folder]).items, taken, last_seen)
                _count(intake.accept(batch_id, ready, actor=actor, queue=queue), counts)
            _report_finished(service, actor, futures)
            time.sleep(interval)
        stopped = False
    except KeyboardInterrupt:
        stderr.print("stopping: unfinished jobs are re-queued by the next start")
    finally:
        runner.shutdown(wait=not stopped)
        _report_finished(service, actor, futures, wait=not stopped)
    return HotFolderCounts(**counts)


def _complete_items(
    items: list[PlannedItem], taken: set[str], last_seen: dict[str, tuple[tuple[str, int, int], ...]]
) -> list[PlannedItem]:
    """The items not taken yet whose files have not changed since the last look (each is then taken once)."""
    ready = []
    for item in items:
        signature = _signature(item)
        if item.name in taken or last_seen.get(item.name) != signature:
            last_seen[item.name] = signature  # new or still growing: look again next time
            continue
        taken.add(item.name)
        ready.append(item)
    return ready


def _count(accepted: Accepted, counts: dict[str, int]) -> None:
    counts["submitted"] += len(accepted.jobs)
    counts["skipped"] += len(accepted.skipped)
    counts["rejected"] += len(accepted.rejected)
    for job in accepted.jobs:
        stderr.print(f"queued {job.source_name} as job {job.id}", highlight=False, markup=False)
    for key, refusals in (("skipped", accepted.skipped), ("rejected", accepted.rejected)):
        for refusal in refusals:
            stderr.print(f"{key}: {refusal.item}: {refusal.message}", highlight=False, markup=False)


def _report_finished(
    service: IngestService, actor: Principal, futures: dict[Future[None], int], *, wait: bool = False
) -> None:
    for future in [f for f in futures if wait or f.done()]:
        if future.cancelled() or isinstance(future.exception(), RunnerStopped):
            continue  # left unfinished by a stop; the next start runs it
        future.result()
        try:
            job = service.job(actor, futures.pop(future))
        except NotFound:  # another batch's job, not visible to this account
            continue
        if not JobState(job.state).finished and job.state != JobState.RETRYING:
            continue  # another runner claimed it first: its end is that runner's to tell
        stderr.print(
            f"{job.state}: {job.source_name}" + (f" ({job.error})" if job.error else ""),
            highlight=False,
            markup=False,
        )
