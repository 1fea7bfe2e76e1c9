"""HTTP routes for the search index (system administrator): start a rebuild without waiting, follow it."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http.common import Caller, context_of
from api.http.openapi import error_responses
from api.preservation.reindexing import IndexRebuilds
from api.views.preservation import RebuildStateView

router = APIRouter(prefix="/api/v1/index", tags=["system"])


@router.post("/rebuild", status_code=202, responses=error_responses(403, 409))
def start_rebuild(request: Request, caller: Caller) -> RebuildStateView:
    """Rebuild the search index from the catalogue in the background (searches keep answering from the live
    index until the new one is swapped in); 409 `rebuild_running` while a rebuild runs, from here or the CLI."""
    return IndexRebuilds(context_of(request)).start(caller)


@router.get("/rebuild", responses=error_responses(403))
def rebuild_state(request: Request, caller: Caller) -> RebuildStateView:
    """The rebuild under way (documents done of total), or the last one: finished, failed or interrupted."""
    return IndexRebuilds(context_of(request)).state(caller)
