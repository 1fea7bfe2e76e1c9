"""The interactive API docs at `/docs`: Swagger UI from this server's own files, never from a CDN.

Archives often run air-gapped, so the page loads its script, styles and icon from `/static/swagger/` (vendored
from the npm package swagger-ui-dist, see api/http/static/swagger/README.md) and its spec from `/openapi.json`. The
page needs one inline script (FastAPI's call to `SwaggerUIBundle`); its Content-Security-Policy allows exactly
that script, by its sha256, and nothing else inline, so no other page's policy is loosened.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_URL = "/docs"
SWAGGER_ASSETS = "/static/swagger"  # served by the /static mount (api/http/ui.py)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# validatorUrl None: no badge image fetched from the public validator service.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def docs_policy(page: str) -> str:
    """The page's CSP: scripts from this server plus the page's own inline scripts, each allowed by its hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self'{hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs for an app created with `docs_url=None, redoc_url=None` (no CDN pages)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} — interactive docs",
            swagger_js_url=f"{root}{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{SWAGGER_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )
        page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body).decode())
        page.headers["Referrer-Policy"] = "no-referrer"
        page.headers["Cache-Control"] = "no-cache"
        return page
