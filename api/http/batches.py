"""HTTP routes for batches, acceptance sampling, reports and page review (same services as the CLI)."""

from __future__ import annotations

import base64
import binascii
from contextlib import ExitStack
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import Field

from api.http.common import BodyId, Caller, Id, ReceivedUpload, Seed, Strict, client_of, context_of, upload_name
from api.http.devices import ScanProcessIn
from api.http.errors import refused_upload
from api.http.headers import HTML_HEADERS
from api.http.openapi import error_responses
from api.http.uploads import SpoolingRoute
from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.ingest.intake import Intake
from api.ingest.review import ReviewService
from api.ingest.service import IngestService
from api.ingest.templates import TemplateService
from api.runners.local import ocr_in_child
from api.views.ingest import Accepted, BatchList, BatchStatus, BatchSummary, TemplateChange, TemplatePreview
from api.views.report_html import render_report
from api.views.review import PageReviewView
from archive.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["batches"])
REPORT_MEDIA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The batch report: JSON (the default), or a readable HTML page with ?format=html",
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}
upload_router = APIRouter(prefix="/api/v1", tags=["batches"], route_class=SpoolingRoute)  # bodies spooled once


class BatchIn(Strict):
    fonds: str
    series: str | None = None
    box: str | None = None
    label: str | None = None
    languages: str | None = None
    engine: str | None = Field(default=None, description="OCR engine: auto, tesseract, ppocr, null")
    level: str | None = None
    year: int | None = Field(default=None, ge=1, le=9999)
    retention: str = "Y30"
    profile: str = "dat31"
    thresholds: dict[str, float] = Field(default_factory=dict)
    ref_template: str | None = None
    manifest_csv: str | None = Field(default=None, description="The manifest as CSV text")
    process: ScanProcessIn | None = Field(
        default=None, description="Digitisation process metadata: device, scan settings, operator, times"
    )
    manifest_xlsx: str | None = Field(
        default=None,
        description="Or the manifest as an Excel workbook (.xlsx 目录, first sheet), base64-encoded",
        max_length=28_000_000,
    )


def workbook_bytes(encoded: str | None) -> bytes | None:
    """The base64 text of an uploaded .xlsx manifest as bytes (the browser reads the file and encodes it)."""
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("manifest_xlsx is not base64 text; encode the .xlsx file's bytes") from exc


class SampleIn(Strict):
    percent: float = Field(default=5.0, gt=0, le=100)
    minimum: int = Field(default=10, ge=1, le=1_000_000)
    seed: Seed = None


class VerdictIn(Strict):
    page_id: BodyId
    verdict: Literal["pass", "fail"]
    defect: str | None = None
    note: str | None = None


class ReviewIn(Strict):
    action: Literal["accept", "reject"]
    note: str | None = None


@router.post("/batches", status_code=201, responses=error_responses(403, 409))
def create_batch(request: Request, caller: Caller, body: BatchIn) -> BatchSummary:
    return BatchService(context_of(request)).create(
        actor=caller,
        fonds=body.fonds,
        series=body.series,
        box=body.box,
        label=body.label,
        manifest_text=body.manifest_csv,
        manifest_data=workbook_bytes(body.manifest_xlsx),
        manifest_name="manifest.xlsx" if body.manifest_xlsx else "manifest.csv" if body.manifest_csv else None,
        languages=body.languages,
        engine=body.engine,
        level=body.level,
        year=body.year,
        retention=body.retention,
        profile=body.profile,
        overrides=body.thresholds,
        ref_template=body.ref_template,
        client=client_of(request),
        process=body.process.wanted() if body.process else None,
    )


@router.get("/batches", responses=error_responses(403))
def list_batches(request: Request, caller: Caller) -> BatchList:
    return BatchService(context_of(request)).all(caller)


@router.get("/batches/{batch_id}", responses=error_responses(403, 404))
def batch_status(
    request: Request,
    batch_id: Id,
    caller: Caller,
    check: Annotated[str | None, Query(description="List only findings of this check, e.g. blank")] = None,
    severity: Annotated[
        Literal["fail", "warn"] | None, Query(description="List only findings of this severity")
    ] = None,
) -> BatchStatus:
    """Counts per job state and per finding, every finding by file and page, held pages, reconciliation."""
    return BatchService(context_of(request)).status(caller, batch_id, check=check, severity=severity)


@upload_router.post(
    "/batches/{batch_id}/files",
    status_code=202,
    response_model=Accepted,
    responses=error_responses(403, 404, 409, 413, 415, 503, 507),
)
def add_files(
    request: Request,
    batch_id: Id,
    caller: Caller,
    files: Annotated[list[UploadFile], File(description="Scans, or ZIPs of them")],
) -> Accepted | JSONResponse:
    """Each file (or each item inside a ZIP) becomes a queued job; OCR runs in worker processes. When nothing
    is taken, the answer is the first refusal's status with the refusals listed."""
    context = context_of(request)
    IngestService(context).ensure_open(caller, batch_id)  # refused before any body is received
    with ExitStack() as received:
        paths = [
            received.enter_context(
                ReceivedUpload(
                    upload, context.settings.spool_dir, context.settings.max_upload_mb, name=upload_name(upload)
                )
            )
            for upload in files
        ]
        outcome = Intake(context).upload(
            batch_id, paths, actor=caller, queue=request.app.state.runner.submit, client=client_of(request)
        )
    return refused_upload(outcome.as_json()) if outcome.refused_everything else outcome


@router.post("/batches/{batch_id}/sample", status_code=201, responses=error_responses(403, 404, 409))
def draw_sample(request: Request, batch_id: Id, caller: Caller, body: SampleIn) -> dict[str, Any]:
    return AcceptanceService(context_of(request)).draw(
        batch_id, actor=caller, percent=body.percent, minimum=body.minimum, seed=body.seed
    )


@router.post("/batches/{batch_id}/verdicts", responses=error_responses(403, 404, 409))
def record_verdict(request: Request, batch_id: Id, caller: Caller, body: VerdictIn) -> dict[str, Any]:
    return AcceptanceService(context_of(request)).record_verdict(
        batch_id, body.page_id, actor=caller, passed=body.verdict == "pass", defect=body.defect, note=body.note
    )


@router.post("/batches/{batch_id}/decision", responses=error_responses(403, 404, 409))
def decide(request: Request, batch_id: Id, caller: Caller) -> dict[str, Any]:
    return AcceptanceService(context_of(request)).decide(batch_id, actor=caller)


@router.get(
    "/batches/{batch_id}/report",
    response_model=None,
    responses=error_responses(403, 404) | REPORT_MEDIA,
)
def report(
    request: Request, batch_id: Id, caller: Caller, format: Annotated[Literal["json", "html"], Query()] = "json"
) -> dict[str, Any] | HTMLResponse:
    result = AcceptanceService(context_of(request)).report(caller, batch_id)
    return HTMLResponse(render_report(result), headers=HTML_HEADERS) if format == "html" else result


class FilingIn(Strict):
    justification: str | None = Field(default=None, description="Why it is filed despite reconciliation gaps")


class ReopenIn(Strict):
    reason: str = Field(description="Why the filed batch must change (goes into the access log)")


class TemplateIn(Strict):
    template: str = Field(description="e.g. {fonds}-{year}-{retention}-{item:04d}")
    reason: str


@router.post("/batches/{batch_id}/file", responses=error_responses(403, 404, 409))
def file_batch(request: Request, batch_id: Id, caller: Caller, body: FilingIn | None = None) -> dict[str, Any]:
    """File an accepted batch; missing items or page mismatches need a justification."""
    justification = body.justification if body else None
    return AcceptanceService(context_of(request)).file(batch_id, actor=caller, justification=justification)


@router.post("/batches/{batch_id}/reopen", responses=error_responses(403, 404, 409))
def reopen_batch(request: Request, batch_id: Id, caller: Caller, body: ReopenIn) -> dict[str, Any]:
    """Reopen a filed batch (reasoned, logged): its items leave staff's view until it is filed again."""
    return AcceptanceService(context_of(request)).reopen(
        batch_id, actor=caller, reason=body.reason, client=client_of(request)
    )


@router.get("/fonds/{code}/template", responses=error_responses(403, 404))
def show_template(request: Request, code: str, caller: Caller) -> TemplatePreview:
    """A fonds' reference-code template, its placeholders and the code it makes of an example item."""
    return TemplateService(context_of(request)).show(caller, code)


@router.get("/fonds/{code}/template/preview", responses=error_responses(403, 404))
def preview_template(
    request: Request,
    code: str,
    caller: Caller,
    template: Annotated[str, Query(max_length=200, description="The template to try, e.g. {fonds}-{item:05d}")],
) -> TemplatePreview:
    """What a template would make of the example item, or why it cannot be used (`problem`); changes nothing."""
    return TemplateService(context_of(request)).preview(caller, code, template)


@router.put("/fonds/{code}/template", responses=error_responses(403, 404))
def change_template(request: Request, code: str, caller: Caller, body: TemplateIn) -> TemplateChange:
    """Change a fonds' reference-code template (a logged action); numbered items keep their codes."""
    return TemplateService(context_of(request)).change(
        caller, code, body.template, reason=body.reason, client=client_of(request)
    )


@router.post("/pages/{page_id}/review", responses=error_responses(403, 404, 409))
def review_page(request: Request, page_id: Id, caller: Caller, body: ReviewIn) -> PageReviewView:
    service = ReviewService(context_of(request))
    if body.action == "accept":
        return service.accept(page_id, actor=caller, note=body.note)
    return service.reject(page_id, actor=caller, reason=body.note or "")


@upload_router.post("/pages/{page_id}/rescan", responses=error_responses(403, 404, 409, 413, 415, 422, 503))
def rescan_page(
    request: Request,
    page_id: Id,
    caller: Caller,
    file: Annotated[UploadFile, File(description="The rescanned page image")],
) -> PageReviewView:
    """Replace a page with a rescan; OCR runs in a child process, never in the request's own process."""
    context = context_of(request)
    name = upload_name(file, fallback="rescan")
    with ReceivedUpload(file, context.settings.spool_dir, context.settings.max_upload_mb, name=name) as path:
        return ReviewService(context).replace(page_id, path, actor=caller, ocr=ocr_in_child, display_name=name)
