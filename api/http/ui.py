"""The staff search page: `/` is api/http/static/index.html, `/static/...` its script and styles (no build step).

The page signs in through the JSON API and keeps its bearer token in sessionStorage; it loads nothing from
anywhere but this server, and the Content-Security-Policy below holds it to that.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

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


def mount_ui(app: FastAPI) -> None:
    """Serve the search page at `/` and its assets under `/static` (out of the OpenAPI schema)."""
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def search_page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
