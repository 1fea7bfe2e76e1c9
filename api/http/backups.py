"""HTTP routes for backups (admin only): run a backup or a restore drill on a target, list runs and drills."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.http.common import MAX_ID, Caller, Seed, Strict, client_of, context_of
from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets
from api.preservation.backups import BackupService

router = APIRouter(prefix="/api/v1/backups", tags=["backups"])


class DrillRequest(Strict):
    sample: int | None = Field(default=None, ge=1, le=MAX_ID)
    seed: Seed = None


@router.get("")
def targets(request: Request, caller: Caller) -> dict[str, Any]:
    """Registered and settings-declared backup targets (never their secrets)."""
    return {"targets": BackupTargets(context_of(request)).list(caller)}


@router.post("/{target}/run")
def run_backup(target: str, request: Request, caller: Caller) -> dict[str, Any]:
    """Back up to the target now: new objects, a catalogue snapshot, the audit checkpoints and a manifest."""
    return BackupService(context_of(request)).run(caller, target=target, client=client_of(request))


@router.post("/{target}/drill")
def run_drill(target: str, request: Request, caller: Caller, body: DrillRequest) -> dict[str, Any]:
    """Restore a sample (or all) into a scratch location and check it; the report has RPO and RTO."""
    return DrillService(context_of(request)).drill(
        caller, target=target, sample=body.sample, seed=body.seed, client=client_of(request)
    )


@router.get("/runs")
def runs(
    request: Request, caller: Caller, target: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    """Backup runs, newest first."""
    return {"runs": BackupService(context_of(request)).runs(caller, target=target, limit=limit)}


@router.get("/drills")
def drills(
    request: Request, caller: Caller, target: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    """Restore drill reports, newest first."""
    return {"drills": DrillService(context_of(request)).drills(caller, target=target, limit=limit)}
