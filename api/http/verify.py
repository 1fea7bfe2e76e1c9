"""HTTP routes for fixity verification of the primary store or a backup target: run one (admin), read reports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.http.common import Caller, Id, Seed, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.preservation.verification import VerificationService
from api.views.preservation import VerificationRunDetail, VerificationRunList, VerificationView

router = APIRouter(prefix="/api/v1/verify", tags=["verification"])


class VerifyRequest(Strict):
    """How deep to look: structure (exists + size), sample (re-hash percent of objects) or full."""

    level: Literal["structure", "sample", "full", "backup"] = "full"
    percent: float = Field(default=5.0, gt=0, le=100)
    seed: Seed = None
    target: str | None = Field(default=None, description="A backup target instead of the primary store")


@router.post("", responses=error_responses(403, 404, 503))
def run_verification(request: Request, caller: Caller, body: VerifyRequest) -> VerificationView:
    """Verify the primary store (or a backup target) now; the graded report is stored and returned.

    `grade` (clean, warnings, errors; `status` is its old spelling) is the worst severity among the findings,
    and `exit_code` what `dangan verify` exits with: 0, 10 or 9. A verification that finds errors still answers
    200: the report is the answer."""
    return VerificationService(context_of(request)).verify(
        caller, target=body.target, level=body.level, percent=body.percent, seed=body.seed, client=client_of(request)
    )


@router.get("/runs", responses=error_responses(403))
def runs(request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> VerificationRunList:
    """Stored verification runs, newest first, with their counts per category."""
    return VerificationService(context_of(request)).runs(caller, limit=limit)


@router.get("/runs/{run_id}", responses=error_responses(403, 404))
def run_details(run_id: Id, request: Request, caller: Caller) -> VerificationRunDetail:
    """One stored run with its full report and findings."""
    return VerificationService(context_of(request)).run(caller, run_id)
