"""Every error response has one JSON shape, `{"error": code, "message": text}`, FastAPI's own ones included;
a DanganError with a finer reason adds `"reason"` and `"params"` (see `dangan_body`), which a page translates.

DanganError is mapped in api/http/app.py; these cover what the framework raises before a route runs: request
validation (400 invalid_input naming the field), unknown routes (404), wrong methods (405), and the last resort
for a bug (500, with nothing of the server's internals in the message).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from archive.errors import (
    DanganError,
    InvalidInput,
    ParamValue,
    StorageUnavailable,
    TooManyAttempts,
    all_error_classes,
)
from archive.redact import hide_paths

MAX_PROBLEMS = 10
_CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_file",
    429: "too_many_attempts",
}
_MESSAGES = {
    404: "there is no such address; see /docs for the API",
    405: "this address does not take that method",
}


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


def error_headers(exc: DanganError) -> dict[str, str]:
    """The headers an error answer carries: a Bearer challenge with 401, and `Retry-After` (seconds) when the
    error knows when a new try may succeed (too many logins; an object store whose circuit breaker is open)."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
    if isinstance(exc, TooManyAttempts | StorageUnavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    return headers


def dangan_body(exc: DanganError, private: Iterable[Path | str] = ()) -> dict[str, object]:
    """The body of a DanganError's answer: code and message, and its reason and params when it has a reason.
    No server folder under `private` reaches a user, in the message or in a param."""
    private = tuple(private)
    body: dict[str, object] = {"error": exc.code, "message": hide_paths(exc.message, private)}
    if exc.reason is not None:
        params: dict[str, ParamValue] = {
            name: hide_paths(value, private) if isinstance(value, str) else value for name, value in exc.params.items()
        }
        body |= {"reason": exc.reason.name, "params": params}
    return body


def dangan_response(
    exc: DanganError, private: Iterable[Path | str] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    """A DanganError as an answer: its status, `dangan_body`, and `error_headers` plus any given."""
    return JSONResponse(
        dangan_body(exc, private), status_code=exc.http_status, headers=(headers or {}) | error_headers(exc)
    )


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """400 invalid_input, e.g. "body.level: field required; path.document_id: should be ≤ 9223372036854775807"."""
    problems = [_problem(error) for error in exc.errors()] if isinstance(exc, RequestValidationError) else []
    message = "; ".join(problems[:MAX_PROBLEMS]) + (" …" if len(problems) > MAX_PROBLEMS else "")
    return error_response(400, InvalidInput.code, message or "the request is not valid")


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes, wrong methods and the framework's other refusals, in the documented shape."""
    if not isinstance(exc, HTTPException):
        return await internal_error(_request, exc)
    standard = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else ""
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != standard else ""
    message = detail or _MESSAGES.get(exc.status_code) or standard.lower() or "the request cannot be served"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, _CODES.get(exc.status_code, "error"), message, headers)


async def internal_error(_request: Request, _exc: Exception) -> JSONResponse:
    """A bug, not bad input: the server logs the traceback (Starlette re-raises it); the answer has no internals."""
    return error_response(500, "internal_error", "the server failed on this request; the error is in its log")


def refused_upload(outcome: dict[str, Any]) -> JSONResponse:
    """An upload of which nothing was taken answers with its first refusal's status (415, 413, ...), not 202."""
    rejected = outcome["rejected"]
    statuses = {cls.code: cls.http_status for cls in all_error_classes()}
    message = "; ".join(str(refusal["message"]) for refusal in rejected[:MAX_PROBLEMS])
    body = {"error": rejected[0]["error"], "message": message} | outcome
    return JSONResponse(body, status_code=statuses.get(str(rejected[0]["error"]), 400))


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in _location(error.get("loc", ())))
    text = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    text = text[:1].lower() + text[1:]
    return f"{where}: {text}" if where else text


def _location(loc: Sequence[Any]) -> Sequence[Any]:
    # Pydantic names a union branch or a function validator in the location; people need only the field.
    return [part for part in loc if not (isinstance(part, str) and ("[" in part or part.startswith("function-")))]
