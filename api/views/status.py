"""Typed result of `dangan status` and GET /api/v1/status: free space on each data disk against the reserve."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.views.base import CodedView, View
from api.views.preservation import RebuildStateView
from archive.reports import Grade

SpaceState = Literal["ok", "low", "refusing"]


class PlaceSpaceView(View):
    """One place the archive writes to on a local disk, and its filesystem's free space."""

    place: str = Field(description="spool, object store, catalogue, search index or OCR work area")
    path: str | None = Field(default=None, description="Where it is (the command line only: never over HTTP)")
    free_bytes: int | None = Field(description="Free space of its filesystem (null: could not be measured)")
    reserve_bytes: int = Field(description="DANGAN_FAULTS__FREE_SPACE_RESERVE_MB, in bytes")
    state: SpaceState = Field(description="ok; low: below twice the reserve; refusing: ingest refuses new items")


class JobCountsView(View):
    """How many ingest jobs of the whole installation wait or need a person (counts only: no names, no batches)."""

    queued: int = Field(description="waiting for a runner")
    processing: int = Field(description="held by a live runner's lease")
    retrying: int = Field(description="met a passing fault (store down, disk full, catalogue busy); run again when due")
    stuck: int = Field(description="processing without a live lease: its runner died; any runner takes it over")
    failed: int = Field(description="ended failed; `dangan jobs retry` runs them again once fixed")


class WorkersView(View):
    """Who runs the ingest jobs: the installation's job runner and the workers holding jobs now."""

    runner_alive: bool = Field(description="A server process holds the installation's runner lock and runs jobs")
    worker_processes: int = Field(description="OCR worker processes the runner starts (DANGAN_WORKERS)")
    busy_workers: int = Field(description="Distinct runners holding a live lease on a job now")


class StorageUseView(View):
    """What the object store holds for the catalogue (counted from the catalogue: no listing of the store)."""

    backend: str = Field(description="The object store's name, e.g. local or s3")
    objects: int = Field(description="Distinct objects the catalogue refers to")
    bytes: int = Field(description="Their total size")


class IndexStateView(View):
    """The search index: readable or not, its size, and against the catalogue."""

    engine: str
    state: Literal["ok", "unavailable"] = Field(description="unavailable: missing, outdated or damaged (reindex)")
    problem: str | None = Field(description="The error code when unavailable, e.g. search_unavailable")
    pages_indexed: int | None = Field(description="Pages the live index holds (null when unavailable)")
    pages_in_catalogue: int = Field(description="Current pages of the catalogue's documents (withdrawn left out)")
    documents_in_catalogue: int
    bytes: int | None = Field(description="The index's size on disk (null when unavailable)")
    last_rebuild_at: str | None = Field(description="When the last rebuild finished (from the access log)")
    last_rebuild_by: str | None
    rebuild: RebuildStateView = Field(description="The rebuild under way, or the last one recorded")


class BackupTargetStatusView(View):
    """A backup target and its newest run."""

    target: str
    last_run_id: int | None
    started_at: str | None
    finished_at: str | None
    status: str | None = Field(description="running, complete, incomplete, failed or interrupted; null: never run")
    grade: Grade | None


class LastVerificationView(View):
    id: int
    started_at: str
    level: str
    store: str
    grade: Grade
    status: str


class StatusView(View):
    """The installation's data disks: the worst state of any place, each place, and a warning line per low disk;
    the job counts, with a warning line while jobs are stuck or failed; workers, storage use and the search
    index; for the system administrator, each backup target's last run and the last verification."""

    state: SpaceState
    places: list[PlaceSpaceView]
    jobs: JobCountsView
    warnings: list[str] = Field(description="What needs attention, for a person (in English)")
    warning_codes: list[CodedView] = Field(
        default_factory=list,
        description="The warnings' codes and values, in the same order (the page's catalogue: status.warning.<code>)",
    )
    workers: WorkersView
    storage: StorageUseView
    index: IndexStateView
    backups: list[BackupTargetStatusView] | None = Field(description="null unless the caller may read backups")
    last_verification: LastVerificationView | None = Field(
        description="null when there is none, or the caller may not read verification reports"
    )
