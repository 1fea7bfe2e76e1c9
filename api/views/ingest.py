"""Typed results of the ingest use cases: jobs, an intake run's summary, a batch upload, batch findings."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View
from api.views.urls import document_url, job_url
from archive.errors import DanganError, ExitCode, ProcessingFailed
from archive.models import IngestJob
from archive.values import JobState

FILED_STATES = (JobState.DONE, JobState.NEEDS_REVIEW)


class JobLinks(View):
    self: str
    document: str | None = None


class JobView(View):
    """One ingest job: its state, the document it made, its error."""

    id: int
    state: str
    source_name: str
    document_id: int | None
    error: str | None
    submitted_by: str
    created_at: str
    finished_at: str | None
    seconds: float | None
    links: JobLinks
    # A retry under the same external id got the first job back: the route answers 200, not 202 (not in JSON).
    replayed: bool = Field(default=False, exclude=True)

    @classmethod
    def of(cls, job: IngestJob, *, replayed: bool = False) -> JobView:
        return cls(
            id=job.id,
            state=job.state,
            source_name=job.source_name,
            document_id=job.document_id,
            error=job.error,
            submitted_by=job.submitted_by,
            created_at=job.created_at.isoformat(),
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
            seconds=job.seconds,
            links=JobLinks(self=job_url(job.id), document=document_url(job.document_id) if job.document_id else None),
            replayed=replayed,
        )


class IngestedJob(JobView):
    """A job at the end of an ingest run, with the reference code and pages of the document it filed."""

    reference_code: str | None = None
    pages: int | None = None


class Refusal(View):
    """An item refused before it became a job, or not added because the archive holds it already."""

    item: str
    error: str
    message: str
    exit_code: int

    @classmethod
    def of(cls, item: str, exc: DanganError) -> Refusal:
        return cls(item=item, error=exc.code, message=exc.message, exit_code=int(exc.exit_code))


class Skipped(View):
    item: str
    reason: str


class IngestCounts(View):
    items: int
    done: int
    needs_review: int
    failed: int
    skipped: int
    rejected: int
    pages: int
    wall_seconds: float


class IngestRun(View):
    """What `dangan ingest` did: the batch (none when nothing was accepted), each job, what was left out."""

    batch_id: int | None
    summary: IngestCounts
    jobs: list[IngestedJob]
    skipped: list[Skipped]
    rejected: list[Refusal]

    @classmethod
    def of(
        cls,
        batch_id: int | None,
        jobs: list[IngestedJob],
        skipped: list[Refusal],
        rejected: list[Refusal],
        wall_seconds: float,
    ) -> IngestRun:
        filed = [job for job in jobs if job.state in FILED_STATES]
        counts = IngestCounts(
            items=len(jobs) + len(skipped) + len(rejected),
            done=sum(1 for job in jobs if job.state == JobState.DONE),
            needs_review=sum(1 for job in jobs if job.state == JobState.NEEDS_REVIEW),
            failed=len(jobs) - len(filed),
            skipped=len(skipped),
            rejected=len(rejected),
            pages=sum(job.pages or 0 for job in filed),
            wall_seconds=round(wall_seconds, 3),
        )
        return cls(
            batch_id=batch_id,
            summary=counts,
            jobs=jobs,
            skipped=[Skipped(item=s.item, reason=s.message) for s in skipped],
            rejected=rejected,
        )

    def exit_code(self) -> int:
        if self.rejected:
            return self.rejected[0].exit_code
        if any(job.state == JobState.FAILED for job in self.jobs):
            return int(ProcessingFailed.exit_code)
        return int(ExitCode.OK)


class Accepted(View):
    """Items handed to the intake: the jobs queued, the items the archive holds already, the refused ones."""

    batch_id: int | None
    jobs: list[JobView]
    skipped: list[Refusal]
    rejected: list[Refusal]

    @property
    def refused_everything(self) -> bool:
        return bool(self.rejected) and not self.jobs and not self.skipped


class HotFolderCounts(View):
    """What a hot-folder watch took: items queued, skipped (already archived) and refused."""

    submitted: int = 0
    skipped: int = 0
    rejected: int = 0
