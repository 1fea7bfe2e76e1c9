"""Typed result of `dangan status` and GET /api/v1/status: free space on each data disk against the reserve."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.views.base import View

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


class StatusView(View):
    """The installation's data disks: the worst state of any place, each place, and a warning line per low disk;
    and the job counts, with a warning line while jobs are stuck or failed."""

    state: SpaceState
    places: list[PlaceSpaceView]
    jobs: JobCountsView
    warnings: list[str]
