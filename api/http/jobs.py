"""HTTP routes for the operator's view of ingest jobs: list them with their reasons, retry them (same use cases
as `dangan jobs`). One job: `GET /api/v1/jobs/{id}` (api/http/documents.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.http.common import Caller, Id, IdFilter, Offset, client_of, context_of
from api.http.openapi import error_responses
from api.ingest.jobs import MAX_LIMIT, JobsService
from api.views.jobs import JobList, JobRetry

router = APIRouter(prefix="/api/v1", tags=["ingest"])
ShownState = Literal["queued", "processing", "stuck", "retrying", "failed", "needs_review", "done"]


@router.get("/jobs", responses=error_responses(403, 404))
def list_jobs(
    request: Request,
    caller: Caller,
    state: Annotated[
        list[ShownState] | None, Query(description="Only these states (repeat); default: stuck, failed, retrying")
    ] = None,
    all_states: Annotated[bool, Query(alias="all", description="Every job, whatever its state")] = False,
    batch_id: IdFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Offset = 0,
) -> JobList:
    """The jobs the caller may see that need attention (or `all`, or the given states), with counts per state;
    404 for a batch they may not see."""
    return JobsService(context_of(request)).list_jobs(
        caller, states=state or (), every=all_states, batch_id=batch_id, limit=limit, offset=offset
    )


@router.post("/jobs/retry-failed", responses=error_responses(403, 404))
def retry_failed(request: Request, caller: Caller, batch_id: IdFilter = None) -> JobRetry:
    """Every failed job the caller may see (of `batch_id`) back in the queue; jobs that cannot run again are
    listed under `refused` with the reason."""
    return JobsService(context_of(request)).retry_failed(caller, batch_id=batch_id, client=client_of(request))


@router.post("/jobs/{job_id}/retry", responses=error_responses(403, 404, 409))
def retry_job(job_id: Id, request: Request, caller: Caller) -> JobRetry:
    """A failed, retrying or stuck job back in the queue; 409 when it cannot run again (its file gone, the file
    archived or queued since, its batch closed, or it is not failed, retrying or stuck)."""
    return JobsService(context_of(request)).retry(caller, job_id, client=client_of(request))
