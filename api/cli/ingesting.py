"""`dangan ingest`: plan items, submit each to the local pool as soon as it is accepted, show progress, summarise."""

from __future__ import annotations

import time
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.cli.output import progress, stdout
from api.ingest.batches import BatchService
from api.ingest.planning import plan_batch_items, refusal
from api.ingest.service import IngestService
from api.runners.local import LocalJobRunner
from api.wiring import Context
from archive.access import Principal
from archive.errors import Conflict, DanganError, ExitCode, ProcessingFailed
from archive.models import Document


@dataclass
class IngestOutcome:
    batch_id: int | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # already archived
    rejected: list[dict[str, Any]] = field(default_factory=list)  # refused at validation
    wall_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        filed = [job for job in self.jobs if job["state"] in ("done", "needs_review")]
        return {
            "batch_id": self.batch_id,
            "summary": {
                "items": len(self.jobs) + len(self.skipped) + len(self.rejected),
                "done": sum(1 for job in self.jobs if job["state"] == "done"),
                "needs_review": sum(1 for job in self.jobs if job["state"] == "needs_review"),
                "failed": len(self.jobs) - len(filed),
                "skipped": len(self.skipped),
                "rejected": len(self.rejected),
                "pages": sum(job.get("pages", 0) for job in filed),
                "wall_seconds": round(self.wall_seconds, 3),
            },
            "jobs": self.jobs,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }

    def exit_code(self) -> int:
        if self.rejected:
            return int(self.rejected[0]["exit_code"])
        if any(job["state"] == "failed" for job in self.jobs):
            return ProcessingFailed.exit_code
        return ExitCode.OK


def ingest_paths(
    context: Context,
    paths: list[Path],
    *,
    actor: Principal,
    batch_id: int | None = None,
    languages: str | None = None,
    level: str | None = None,
    fonds: str | None = None,
    title: str | None = None,
    resume: bool = False,
) -> IngestOutcome:
    """Ingest files or folders (ZIPs are unpacked safely) into a batch; without one, an ad-hoc batch is made."""
    if batch_id is None:
        batch_id = BatchService(context).create(
            actor=actor,
            fonds=fonds or context.settings.default_fonds,
            languages=languages,
            level=level,
            label="ad hoc ingest",
        )["id"]
    service = IngestService(context)
    outcome = IngestOutcome(batch_id=batch_id)
    plan = plan_batch_items(context, batch_id, paths)
    items, outcome.rejected = plan.items, plan.rejected
    service.record_refusals(actor, batch_id, plan.rejected)
    started = time.perf_counter()
    runner = LocalJobRunner(service, workers=max(1, min(context.settings.workers, len(items) or 1)))
    futures: dict[Future[None], int] = {}
    interrupted = True  # until every job has ended: then a stop (Ctrl-C, SIGTERM) leaves the rest for --resume
    try:
        for job_id in service.pending_job_ids(batch_id=batch_id) if resume else []:
            futures[runner.submit(job_id)] = job_id
        for item in items:
            try:
                job = service.submit_item(batch_id, item, actor=actor, title=title if len(items) == 1 else None)
                futures[runner.submit(job["id"])] = job["id"]
            except Conflict as exc:
                outcome.skipped.append({"item": item.name, "reason": exc.message})
            except DanganError as exc:
                outcome.rejected.append(refusal(item.name, exc))
        _wait(service, actor, futures)
        interrupted = False
    finally:
        runner.shutdown(wait=not interrupted)
        plan.cleanup()
    outcome.wall_seconds = time.perf_counter() - started
    outcome.jobs = [_job_summary(context, service.job(actor, job_id)) for job_id in sorted(futures.values())]
    return outcome


def _wait(service: IngestService, actor: Principal, futures: dict[Future[None], int]) -> None:
    with progress("ingesting", len(futures)) as bar:
        for future in as_completed(futures):
            future.result()
            job = service.job(actor, futures[future])
            bar.advance(f"{job['source_name']}: {job['state']}")


def _job_summary(context: Context, job: dict[str, Any]) -> dict[str, Any]:
    if job["document_id"] is not None:
        with context.db.session() as session:
            document = session.get(Document, job["document_id"])
            if document is not None:
                job = job | {"reference_code": document.reference_code, "pages": document.page_count}
    return job


def print_ingest_summary(outcome: IngestOutcome) -> None:
    for job in outcome.jobs:
        if job["state"] in ("done", "needs_review"):
            note = "  NEEDS REVIEW (pages held by the quality gate)" if job["state"] == "needs_review" else ""
            stdout.print(
                f"{job['state']:<13}{job['source_name']} -> {job['reference_code']} "
                f"({job['pages']} page(s), {job['seconds']} s){note}",
                highlight=False,
                markup=False,
            )
        else:
            stdout.print(f"FAILED       {job['source_name']}: {job['error']}", highlight=False, markup=False)
    for item in outcome.skipped:
        stdout.print(f"skipped      {item['item']}: {item['reason']}", highlight=False, markup=False)
    for item in outcome.rejected:
        stdout.print(f"REJECTED     {item['item']}: {item['message']}", highlight=False, markup=False)
    summary = outcome.as_dict()["summary"]
    per_page = summary["wall_seconds"] / summary["pages"] if summary["pages"] else 0.0
    stdout.print(
        f"batch {outcome.batch_id}: {summary['done']} done, {summary['needs_review']} need review, "
        f"{summary['failed']} failed, {summary['skipped']} skipped, {summary['rejected']} rejected; "
        f"{summary['pages']} page(s) in {summary['wall_seconds']} s"
        + (f" ({per_page:.2f} s/page)" if summary["pages"] else ""),
        highlight=False,
    )
