"""HTTP routes for backups (admin only): run a backup or a restore drill on a target, list runs and drills."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.http.common import MAX_ID, Caller, Seed, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets
from api.preservation.backups import BackupService
from api.views.preservation import BackupRunList, BackupRunView, DrillList, DrillView, TargetList

router = APIRouter(prefix="/api/v1/backups", tags=["backups"])


class DrillRequest(Strict):
    sample: int | None = Field(default=None, ge=1, le=MAX_ID)
    seed: Seed = None


@router.get("", responses=error_responses(403))
def targets(request: Request, caller: Caller) -> TargetList:
    """Registered and settings-declared backup targets (never their secrets)."""
    return BackupTargets(context_of(request)).list(caller)


@router.post("/{target}/run", responses=error_responses(403, 404, 503))
def run_backup(target: str, request: Request, caller: Caller) -> BackupRunView:
    """Back up to the target now: new objects, a catalogue snapshot, the audit checkpoints and a manifest.

    The run is graded: objects that could not be copied are errors (`status` incomplete), an interrupted
    earlier run it resumed is a warning."""
    return BackupService(context_of(request)).run(caller, target=target, client=client_of(request))


@router.post("/{target}/drill", responses=error_responses(403, 404, 503))
def run_drill(target: str, request: Request, caller: Caller, body: DrillRequest) -> DrillView:
    """Restore a sample (or all) into a scratch location and check it; the graded report has RPO and RTO."""
    return DrillService(context_of(request)).drill(
        caller, target=target, sample=body.sample, seed=body.seed, client=client_of(request)
    )


@router.get("/runs", responses=error_responses(403))
def runs(
    request: Request, caller: Caller, target: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> BackupRunList:
    """Backup runs, newest first."""
    return BackupService(context_of(request)).runs(caller, target=target, limit=limit)


@router.get("/drills", responses=error_responses(403))
def drills(
    request: Request, caller: Caller, target: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> DrillList:
    """Restore drill reports, newest first."""
    return DrillService(context_of(request)).drills(caller, target=target, limit=limit)
