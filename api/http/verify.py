"""HTTP routes for fixity verification of the primary store or a backup target: run one (admin), read reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.http.common import Caller, Id, Seed, Strict, client_of, context_of
from api.preservation.backups import BackupService
from api.preservation.maintenance import MaintenanceService
from archive.errors import InvalidInput

router = APIRouter(prefix="/api/v1/verify", tags=["verification"])


class VerifyRequest(Strict):
    """How deep to look: structure (exists + size), sample (re-hash percent of objects) or full."""

    level: Literal["structure", "sample", "full", "backup"] = "full"
    percent: float = Field(default=5.0, gt=0, le=100)
    seed: Seed = None
    target: str | None = Field(default=None, description="A backup target instead of the primary store")


@router.post("")
def run_verification(request: Request, caller: Caller, body: VerifyRequest) -> dict[str, Any]:
    """Verify the primary store now; the report (status, exit_code, counts, findings) is stored and returned."""
    if body.target is not None:
        return BackupService(context_of(request)).verify(
            caller,
            target=body.target,
            level=body.level,
            percent=body.percent,
            seed=body.seed,
            client=client_of(request),
        )
    if body.level == "backup":
        raise InvalidInput("level backup needs a target")
    return MaintenanceService(context_of(request)).verify(
        caller, level=body.level, percent=body.percent, seed=body.seed, client=client_of(request)
    )


@router.get("/runs")
def runs(request: Request, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Stored verification runs, newest first, with their counts per category."""
    return {"runs": MaintenanceService(context_of(request)).verification_runs(caller, limit=limit)}


@router.get("/runs/{run_id}")
def run_details(run_id: Id, request: Request, caller: Caller) -> dict[str, Any]:
    """One stored run with its full report and findings."""
    return MaintenanceService(context_of(request)).verification_run(caller, run_id)
