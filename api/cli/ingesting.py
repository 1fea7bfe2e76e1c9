"""`dangan ingest`: submit every file, run the jobs on the local pool with a progress bar, summarise."""

from __future__ import annotations

import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.cli.output import progress, stdout
from api.runner import LocalJobRunner
from api.services.ingest import IngestOptions, IngestService, collect_inputs
from api.wiring import Context
from archive.errors import Conflict, DanganError, ProcessingFailed
from archive.models import Document

LOCAL_ACTOR = "system"


@dataclass
class IngestOutcome:
    jobs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # already archived
    rejected: list[dict[str, Any]] = field(default_factory=list)  # refused at validation
    wall_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        done = [job for job in self.jobs if job["state"] == "done"]
        return {
            "summary": {
                "files": len(self.jobs) + len(self.skipped) + len(self.rejected),
                "done": len(done),
                "failed": len(self.jobs) - len(done),
                "skipped": len(self.skipped),
                "rejected": len(self.rejected),
                "pages": sum(job.get("pages", 0) for job in done),
                "wall_seconds": round(self.wall_seconds, 3),
            },
            "jobs": self.jobs,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }

    def exit_code(self) -> int:
        if self.rejected:
            return int(self.rejected[0]["exit_code"])
        if any(job["state"] != "done" for job in self.jobs):
            return ProcessingFailed.exit_code
        return 0


def ingest_paths(
    context: Context,
    paths: list[Path],
    *,
    languages: str | None,
    level: str | None,
    fonds: str | None,
    title: str | None,
    resume: bool = False,
    actor: str = LOCAL_ACTOR,
) -> IngestOutcome:
    settings = context.settings
    options = IngestOptions(
        languages=languages or settings.ocr_languages,
        level=level or settings.default_level,
        fonds=fonds or settings.default_fonds,
        title=title,
    ).checked()
    service = IngestService(context)
    outcome = IngestOutcome()
    job_ids: list[int] = service.pending_job_ids() if resume else []
    for path in collect_inputs(paths):
        try:
            job_ids.append(service.submit(path, display_name=path.name, options=options, actor=actor)["id"])
        except Conflict as exc:
            outcome.skipped.append({"file": str(path), "reason": exc.message})
        except DanganError as exc:
            outcome.rejected.append(
                {"file": str(path), "error": exc.code, "message": exc.message, "exit_code": exc.exit_code}
            )
    if job_ids:
        started = time.perf_counter()
        _run_jobs(context, service, job_ids)
        outcome.wall_seconds = time.perf_counter() - started
    outcome.jobs = [_job_summary(context, service.job(job_id)) for job_id in job_ids]
    return outcome


def _run_jobs(context: Context, service: IngestService, job_ids: list[int]) -> None:
    runner = LocalJobRunner(service, workers=min(context.settings.workers, len(job_ids)))
    try:
        futures = {runner.submit(job_id): job_id for job_id in job_ids}
        with progress("ingesting", len(job_ids)) as bar:
            for future in as_completed(futures):
                future.result()
                job = service.job(futures[future])
                bar.advance(f"{job['source_name']}: {job['state']}")
    finally:
        runner.shutdown(wait=True)


def _job_summary(context: Context, job: dict[str, Any]) -> dict[str, Any]:
    if job["document_id"] is not None:
        with context.db.session() as session:
            document = session.get(Document, job["document_id"])
            if document is not None:
                job = job | {"reference_code": document.reference_code, "pages": document.page_count}
    return job


def print_ingest_summary(outcome: IngestOutcome) -> None:
    for job in outcome.jobs:
        if job["state"] == "done":
            stdout.print(
                f"done     {job['source_name']} -> {job['reference_code']} "
                f"({job['pages']} page(s), {job['seconds']} s)",
                highlight=False,
            )
        else:
            stdout.print(f"FAILED   {job['source_name']}: {job['error']}", highlight=False, markup=False)
    for item in outcome.skipped:
        stdout.print(f"skipped  {item['file']}: {item['reason']}", highlight=False, markup=False)
    for item in outcome.rejected:
        stdout.print(f"REJECTED {item['file']}: {item['message']}", highlight=False, markup=False)
    summary = outcome.as_dict()["summary"]
    per_page = summary["wall_seconds"] / summary["pages"] if summary["pages"] else 0.0
    stdout.print(
        f"{summary['done']} done, {summary['failed']} failed, {summary['skipped']} skipped, "
        f"{summary['rejected']} rejected; {summary['pages']} page(s) in {summary['wall_seconds']} s"
        + (f" ({per_page:.2f} s/page)" if summary["pages"] else ""),
        highlight=False,
    )
