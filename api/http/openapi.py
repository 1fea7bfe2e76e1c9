"""The one error schema in OpenAPI: every route documents the statuses it can answer with, all in the shape
`{"error": code, "message": text}` that api/http/errors.py and the DanganError handler produce (plus `reason` and
`params` when a refusal has a finer reason, which a page translates instead of showing the English message)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from archive.errors import all_error_classes


class ErrorBody(BaseModel):
    """What every refusal answers with: a stable code for programs and a sentence that says what to do."""

    error: str = Field(description="A stable code, e.g. not_found, forbidden, invalid_input")
    message: str = Field(description="What went wrong and what to do next, for a person (in English)")
    reason: str | None = Field(
        default=None,
        description="A stable finer cause within the code, e.g. backup_target_exists under conflict; absent when none",
    )
    params: dict[str, str | int | float | bool | None] | None = Field(
        default=None, description='The values the reason names, e.g. {"name": "offsite"}; present with reason'
    )


_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("invalid_input", "query.limit: input should be less than or equal to 100"),
    401: ("unauthenticated", "sign in first: send 'Authorization: Bearer <token>'"),
    403: ("forbidden", "your role may not do this"),
    404: ("not_found", "document 12 not found"),
    405: ("method_not_allowed", "this address does not take that method"),
    409: ("conflict", "this file is already in the archive as item 7"),
    413: ("too_large", "the upload is larger than the 2048 MB limit"),
    415: ("unsupported_file", "scan.docx is not a TIFF, PNG, JPEG or PDF scan"),
    422: ("processing_failed", "page 3: tesseract failed"),
    429: ("too_many_attempts", "too many failed logins from this address; try again in 60 s"),
    500: ("internal_error", "the server failed on this request; the error is in its log"),
    503: ("storage_unavailable", "the object store cannot be reached"),
    507: ("insufficient_storage", "no space left where the archive writes"),
}
ALWAYS = (400, 401, 500)  # any route: a malformed request, no or a bad token, a bug


def _description(status: int) -> str:
    codes = sorted({cls.code for cls in all_error_classes() if cls.http_status == status})
    return "Refused: " + (", ".join(codes) if codes else _EXAMPLES.get(status, ("error", ""))[0])


def error_responses(*statuses: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the given statuses plus the ones every route can answer (400, 401, 500;
    401 not for public routes), each with the one error schema and an example."""
    wanted = sorted(set(statuses) | {status for status in ALWAYS if not (public and status == 401)})
    responses: dict[int | str, dict[str, Any]] = {}
    for status in wanted:
        code, message = _EXAMPLES.get(status, ("error", "the request cannot be served"))
        responses[status] = {
            "model": ErrorBody,
            "description": _description(status),
            "content": {"application/json": {"example": {"error": code, "message": message}}},
        }
    return responses


ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")  # FastAPI's 422 body, which the API never sends


def _error_content(status: int) -> dict[str, Any]:
    code, message = _EXAMPLES.get(status, ("error", "the request cannot be served"))
    return {"schema": ERROR_REF, "example": {"error": code, "message": message}}


def house_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The API's error contract on every operation of a generated OpenAPI document: no FastAPI 422 (validation
    errors answer 400 invalid_input); 400 and 500 everywhere, 401 where a token is needed, 403 and 404 where the
    path names something; every refusal in the one ErrorBody shape. Route-specific statuses come from the routes."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _document_errors(operation, names_something="{" in path)
    remaining = str(schema.get("paths", {}))
    for name in _FRAMEWORK_SCHEMAS:
        if f"#/components/schemas/{name}'" not in remaining:
            components.pop(name, None)
    return schema


def _document_errors(operation: dict[str, Any], *, names_something: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    wanted = {400, 500} | ({401} if operation.get("security") else set()) | ({403, 404} if names_something else set())
    for wanted_status in sorted(wanted):
        responses.setdefault(str(wanted_status), {"description": _description(wanted_status)})
    for status, response in responses.items():
        if not status.startswith("2"):
            content = response.setdefault("content", {})
            if content.get("application/json", {}).get("schema") != ERROR_REF:
                content["application/json"] = _error_content(int(status)) if status.isdigit() else {"schema": ERROR_REF}


class ArchiveAPI(FastAPI):
    """FastAPI whose OpenAPI document states the API's real error contract (see `house_errors`)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = house_errors(super().openapi())
        return self.openapi_schema
