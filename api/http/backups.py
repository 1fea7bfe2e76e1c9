"""HTTP routes for backups (admin only): register and remove targets, run a backup or a restore drill on one,
list runs and drills, repair the primary store from them. A whole restore is `dangan restore` (the command
line: on an empty machine there is no running system to call)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.http.common import MAX_ID, Caller, Seed, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.preservation.repair import RepairService
from api.views.preservation import (
    BackupRunList,
    BackupRunView,
    DrillList,
    DrillView,
    RepairView,
    TargetList,
    TargetRemoved,
    TargetView,
)
from archive.errors import InvalidInput

router = APIRouter(prefix="/api/v1/backups", tags=["backups"])


class DrillRequest(Strict):
    sample: int | None = Field(default=None, ge=1, le=MAX_ID)
    seed: Seed = None


class RepairRequest(Strict):
    target: str | None = Field(default=None, max_length=64, description="Repair from this target only")


class TargetRequest(Strict):
    """A target to register: a local directory (another disk) or an S3 bucket (another server).

    S3 keys never travel in a request: they come from DANGAN_BACKUP_<NAME>_ACCESS_KEY/_SECRET_KEY on the
    server or from `credentials_file`, a file on the server."""

    name: str = Field(min_length=1, max_length=64, description="Lowercase letters, digits, '-' and '_'")
    kind: Literal["local", "s3"] = "local"
    path: str | None = Field(default=None, max_length=4096, description="local: a directory on the server")
    endpoint: str | None = Field(default=None, max_length=255, description="s3: host:port")
    bucket: str | None = Field(default=None, max_length=63)
    secure: bool = True
    region: str | None = Field(default=None, max_length=64)
    credentials_file: str | None = Field(default=None, max_length=4096)


@router.post("", status_code=201, responses=error_responses(403, 409))
def add_target(request: Request, caller: Caller, body: TargetRequest) -> TargetView:
    """Register a backup target (its name must be new; remove a target first to change it)."""
    for given in (body.path, body.credentials_file):
        if given and not PurePath(given).is_absolute():
            raise InvalidInput(
                f"{given!r} is not an absolute path on the server; give the full path",
                InvalidInput.TARGET_PATH_NOT_ABSOLUTE,
                {"path": given},
            )
    spec = TargetSpec(
        name=body.name,
        kind=body.kind,
        path=body.path or None,
        endpoint=body.endpoint or None,
        bucket=body.bucket or None,
        secure=body.secure,
        region=body.region or None,
        credentials_file=body.credentials_file or None,
    )
    return BackupTargets(context_of(request)).add(caller, spec)


@router.delete("/{target}", responses=error_responses(403, 404))
def remove_target(target: str, request: Request, caller: Caller) -> TargetRemoved:
    """Forget a registered target; the backups already on it stay where they are."""
    return BackupTargets(context_of(request)).remove(caller, target)


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


@router.post("/repair", responses=error_responses(403, 404, 503))
def repair(request: Request, caller: Caller, body: RepairRequest) -> RepairView:
    """Verify the primary store in full and put back each missing or changed object from a backup copy whose
    hash is checked first (each an `object.repair` audit event). Graded: repaired objects are warnings,
    objects no target could give a good copy of are errors."""
    return RepairService(context_of(request)).repair(caller, target=body.target, client=client_of(request))


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
