"""GET /api/v1/status: free space on each data disk against the reserve (no server paths in the answer)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http.common import Caller, context_of
from api.http.openapi import error_responses
from api.preservation.status import StatusService
from api.views.status import StatusView

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/status", responses=error_responses(403))
def status(request: Request, caller: Caller) -> StatusView:
    """Each place the archive writes to (spool, object store, catalogue, search index, OCR work area): free
    space, the reserve, and `ok`, `low` (below twice the reserve) or `refusing` (ingest refuses new items)."""
    return StatusService(context_of(request)).status(caller, show_paths=False)
