"""The web application: `/` is api/http/static/index.html, `/static/...` its ES modules (js/), message
catalogues (i18n/) and styles, served as they are in the repository (no build step, so never stale).

The page signs in through the JSON API and keeps its bearer token in sessionStorage; it loads nothing from
anywhere but this server, and the Content-Security-Policy below holds it to that. Every asset is served with
`Cache-Control: no-cache`: the browser may keep a copy but revalidates it (ETag) before each use.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Scripts and styles from this server only, no inline script; blob: for the PDFs the page fetches with its token.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'self' blob:; frame-src 'self' blob:; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


ASSET_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


class RevalidatedFiles(StaticFiles):
    """Static files the browser must revalidate before each use (a changed module is never run stale)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(ASSET_HEADERS)
        return response


def mount_ui(app: FastAPI) -> None:
    """Serve the web application at `/` and its assets under `/static` (out of the OpenAPI schema)."""
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def search_page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    app.mount("/static", RevalidatedFiles(directory=STATIC_DIR), name="static")
