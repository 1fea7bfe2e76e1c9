"""Typed results of the ingest use cases: jobs, an intake run's summary, a batch upload, batch findings."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.views.base import CodedView, View
from api.views.devices import BatchProcessView
from api.views.urls import document_url, job_url
from archive.errors import DanganError, ExitCode, ParamValue, ProcessingFailed
from archive.models import IngestJob
from archive.values import JobState

FILED_STATES = (JobState.DONE, JobState.NEEDS_REVIEW)


class JobLinks(View):
    self: str
    document: str | None = None


class JobFailure(View):
    """Why a failed job failed, when a refusal that names its reason ended it (archive.jobs.failure_of): shaped as
    an error answer, so the page says it in its language (errors.<error>.<reason> with the params)."""

    error: str
    message: str
    reason: str
    params: dict[str, ParamValue]

    @classmethod
    def of(cls, job: IngestJob, message: str | None) -> JobFailure | None:
        """The job's failure, with `message` as the English shown beside it; None unless it failed with a reason."""
        stored = job.options.get("failure") if isinstance(job.options, dict) else None
        if job.state != JobState.FAILED or not isinstance(stored, dict) or not stored.get("reason"):
            return None
        params = stored.get("params")
        return cls(
            error=str(stored.get("error")),
            message=message or str(stored.get("message") or ""),
            reason=str(stored["reason"]),
            params=params if isinstance(params, dict) else {},
        )


class JobView(View):
    """One ingest job: its state, the document it made, its error (and, failed with a reason, its `failure`)."""

    id: int
    state: str
    source_name: str
    document_id: int | None
    error: str | None
    failure: JobFailure | None = None
    submitted_by: str
    created_at: str
    finished_at: str | None
    seconds: float | None
    # Done means filed; the search index follows a moment later (it is derived data). A client that searches
    # right after "done" waits for this: until it is true, the new document is not yet found by search.
    searchable: bool = False
    links: JobLinks
    # A retry under the same external id got the first job back: the route answers 200, not 202 (not in JSON).
    replayed: bool = Field(default=False, exclude=True)

    @classmethod
    def of(cls, job: IngestJob, *, replayed: bool = False, searchable: bool = False) -> JobView:
        return cls(
            id=job.id,
            state=job.state,
            source_name=job.source_name,
            document_id=job.document_id,
            error=job.error,
            failure=JobFailure.of(job, job.error),
            submitted_by=job.submitted_by,
            created_at=job.created_at.isoformat(),
            finished_at=job.finished_at.isoformat() if job.finished_at else None,
            seconds=job.seconds,
            searchable=searchable,
            links=JobLinks(self=job_url(job.id), document=document_url(job.document_id) if job.document_id else None),
            replayed=replayed,
        )


class IngestedJob(JobView):
    """A job at the end of an ingest run, with the reference code and pages of the document it filed."""

    reference_code: str | None = None
    pages: int | None = None
    # A `retrying` job: the exit code of the passing fault it met (8: store or catalogue unavailable, 14: disk full).
    retry_exit_code: int | None = Field(default=None, exclude=True)


class Refusal(View):
    """An item refused before it became a job, or not added because the archive holds it already."""

    item: str
    error: str
    message: str
    exit_code: int
    reason: str | None = None  # the finer cause, as in an error answer (the page translates it with params)
    params: dict[str, ParamValue] | None = None

    @classmethod
    def of(cls, item: str, exc: DanganError) -> Refusal:
        return cls(item=item, error=exc.code, message=exc.message, exit_code=int(exc.exit_code), **reason_of(exc))


def reason_of(exc: DanganError) -> dict[str, Any]:
    """The `reason` and `params` fields of a refusal view, when the error has a reason."""
    return {"reason": exc.reason.name, "params": dict(exc.params)} if exc.reason is not None else {}


class Skipped(View):
    item: str
    reason: str


class IngestCounts(View):
    items: int
    done: int
    needs_review: int
    failed: int
    retrying: int = 0  # met a passing fault and wait for their next try (they resume by themselves)
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
    # A passing fault that kept a job from recording its state (the job is left to the next runner): on stderr.
    fault: str | None = Field(default=None, exclude=True)
    fault_exit_code: int | None = Field(default=None, exclude=True)

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
            failed=sum(1 for job in jobs if job.state == JobState.FAILED),
            retrying=sum(1 for job in jobs if job.state == JobState.RETRYING),
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

    def with_fault(self, fault: DanganError) -> IngestRun:
        """The run, with the passing fault that kept a job from even recording its state (left to the next runner)."""
        return self.model_copy(update={"fault": fault.message, "fault_exit_code": int(fault.exit_code)})

    def exit_code(self) -> int:
        """A full disk first (the run stopped taking items: free space), then the first refusal, then the
        passing fault a job is waiting out, then a failed job."""  # (a fault that stopped a job counts as full)
        full = [row.exit_code for row in self.rejected if row.exit_code == ExitCode.DISK_FULL]
        if self.fault_exit_code is not None:
            full.append(self.fault_exit_code)
        if full or self.rejected:
            return (full or [self.rejected[0].exit_code])[0]
        waiting = [job.retry_exit_code for job in self.jobs if job.state == JobState.RETRYING]
        if waiting:
            return waiting[0] or int(ExitCode.STORAGE_UNAVAILABLE)
        if any(job.state == JobState.FAILED for job in self.jobs):
            return int(ProcessingFailed.exit_code)
        return int(ExitCode.OK)


class Accepted(View):
    """Items handed to the intake: the jobs queued, the items the archive holds already, the refused ones."""

    batch_id: int | None
    jobs: list[JobView]
    skipped: list[Refusal]
    rejected: list[Refusal]
    warnings: list[str] = Field(default_factory=list, description="The batch's scanning device: overdue calibration")
    warning_codes: list[CodedView] = Field(default_factory=list, description="The same, coded for the page")

    @property
    def refused_everything(self) -> bool:
        return bool(self.rejected) and not self.jobs and not self.skipped


class HotFolderCounts(View):
    """What a hot-folder watch took: items queued, skipped (already archived) and refused."""

    submitted: int = 0
    skipped: int = 0
    rejected: int = 0


class BatchLinks(View):
    self: str
    report: str


class BatchSummary(View):
    """A batch: where its items belong, how they are numbered and checked, and its acceptance decision."""

    id: int
    label: str
    fonds: str
    series: str | None
    box: str | None
    status: str
    languages: str
    level: str
    year: int | None
    retention: str
    profile: str
    profile_overrides: dict[str, float]
    manifest_rows: int
    decision: str | None
    decided_by: str | None
    decided_at: str | None
    created_by: str
    created_at: str
    process: BatchProcessView | None = Field(
        default=None, description="Digitisation process metadata: device, scan settings, operator, times"
    )
    links: BatchLinks


class BatchList(View):
    batches: list[BatchSummary]


class FailedJob(View):
    job: int
    item: str
    error: str | None


class HeldPage(View):
    page_id: int
    document_id: int
    reference_code: str
    page: int
    findings: list[str]


class PageFinding(View):
    """One quality finding where the archivist finds it: the file (the item's name) and the page number."""

    file: str
    page: int
    page_id: int
    document_id: int
    reference_code: str
    check: str
    severity: str
    measured: float
    threshold: float
    message: str
    review: str = Field(description="The page's review state: ok, held, accepted, rejected (awaiting a rescan)")


class MissingItem(View):
    manifest_item_id: int
    row_number: int
    item_number: int | None
    reference_code: str | None
    expected_pages: int | None
    title: str


class ExtraItem(View):
    source_name: str
    manifest_item_id: int | None
    item_number: int | None
    reference_code: str | None
    state: str
    page_count: int | None
    document_id: int | None


class PageCountMismatch(View):
    row_number: int
    item_number: int | None
    reference_code: str | None
    source_name: str
    expected_pages: int | None
    received_pages: int | None


class DuplicatePagePair(View):
    first: str
    second: str
    kind: str
    distance: int


class ReconciliationView(View):
    has_manifest: bool
    missing_items: list[MissingItem]
    extra_items: list[ExtraItem]
    page_count_mismatches: list[PageCountMismatch]
    numbering_gaps: list[int]
    duplicate_pages: list[DuplicatePagePair]
    clean: bool


class BatchStatus(BatchSummary):
    """A batch's progress, of the items the caller may see: jobs per state, every finding, held pages,
    failed jobs and the reconciliation with the manifest."""

    jobs: dict[str, int]
    items: int
    pages: int
    pages_by_review: dict[str, int]
    findings: dict[str, int]  # "check:severity" -> pages
    failed_jobs: list[FailedJob]
    held_pages: list[HeldPage]
    page_findings: list[PageFinding]
    reconciliation: ReconciliationView


class TemplateChange(View):
    fonds: str
    ref_template: str
    previous: str


class ReferenceExample(View):
    """The example item a template is filled with to show what it makes."""

    fonds: str
    series: str
    box: str
    year: int
    retention: str
    item: int


class TemplatePreview(View):
    """A fonds' reference-code template (its own, or one being considered): the code it makes of the example
    item, or why it cannot be used (`problem`: malformed, unknown_field, no_item, unfillable)."""

    fonds: str
    template: str
    current: bool = Field(description="Whether this is the fonds' template now")
    example: str | None
    problem: str | None
    unknown_fields: list[str]
    message: str | None
    parts: ReferenceExample
    fields: list[str] = Field(description="The placeholders a template may use")
