"""Master keys of encryption at rest, for the system administrator: GET /api/v1/keys (status and warnings),
POST /api/v1/keys/rotate, POST /api/v1/keys/recover (from a registered backup target's key escrow) and
POST /api/v1/keys/encrypt-pending."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from api.http.common import MAX_ID, Caller, Strict, client_of, context_of
from api.http.openapi import error_responses
from api.preservation.key_sealing import encrypt_pending
from api.preservation.keys import KeyService
from api.views.keys import EncryptPendingView, KeyRecoveryView, KeyRotationView, KeyStatusView

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class RecoverRequest(Strict):
    target: str = Field(min_length=1, max_length=64, description="A registered backup target")
    run_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Default: the target's newest run")


@router.get("", responses=error_responses(403))
def key_status(request: Request, caller: Caller) -> KeyStatusView:
    """The master keys (never their material), the objects each wraps, whether each is escrowed, and warnings."""
    return KeyService(context_of(request)).status(caller)


@router.post("/rotate", responses=error_responses(403, 503))
def rotate(request: Request, caller: Caller) -> KeyRotationView:
    """A new active master key; every data key rewrapped (catalogue rows only, no object rewritten)."""
    return KeyService(context_of(request)).rotate(caller, client=client_of(request))


@router.post("/recover", responses=error_responses(400, 403, 404, 500, 503))
def recover(request: Request, caller: Caller, body: RecoverRequest) -> KeyRecoveryView:
    """Put a lost master keyring back from a backup run's key escrow (the escrow secret set on the server)."""
    service = KeyService(context_of(request))
    return service.recover(caller, target=body.target, run_id=body.run_id, client=client_of(request))


@router.post("/encrypt-pending", responses=error_responses(403, 500, 503))
def seal_pending(request: Request, caller: Caller) -> EncryptPendingView:
    """Seal the objects of records raised to an encrypted level that are still stored in the clear."""
    return encrypt_pending(context_of(request), caller, client=client_of(request))
