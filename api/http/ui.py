"""The web application: `/` is api/http/static/index.html, `/static/...` its ES modules (js/), message
catalogues (i18n/) and styles, served as they are in the repository (no build step).

The page signs in through the JSON API and keeps its bearer token in sessionStorage; it loads nothing from
anywhere but this server, and the Content-Security-Policy below holds it to that.

Caching, and why assets are never stale: the page itself is `no-cache` (revalidated on every load). It names
its assets under `/static/v/<version>/...`, where the version is a digest of every asset's content: a changed
file changes the version, so the page names new addresses and the browser fetches them. What is served under
the current version is `immutable` (a returning browser loads the shell without a single request); under any
other version, and under plain `/static/...`, it is `no-cache`. The page also lists every module as a
`modulepreload`, so a first visit fetches them in parallel rather than one import level after another.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
VERSIONED = "/static/v"
VERSIONED_PARTS = ("js", "i18n", "app.css")  # what the page and its modules address by version

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
IMMUTABLE_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


class AssetVersion:
    """The digest of the assets' content, recomputed only when a file's size or modification time changed
    (one stat per file per page load), and the page rendered for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._version = ""
        self._page = ""

    def _files(self) -> list[Path]:
        found: list[Path] = []
        for part in VERSIONED_PARTS:
            path = self.root / part
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
        return found

    def current(self) -> tuple[str, str]:
        """(version, page): the digest of every asset and index.html naming assets by it."""
        files = [*self._files(), self.root / "index.html"]
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        with self._lock:
            if signature != self._signature:
                digest = hashlib.sha256()
                for path in files:
                    digest.update(str(path.relative_to(self.root)).encode() + b"\0" + path.read_bytes() + b"\0")
                self._version = digest.hexdigest()[:16]
                self._page = self._render(self._version)
                self._signature = signature
            return self._version, self._page

    def _render(self, version: str) -> str:
        prefix = f"{VERSIONED}/{version}/"
        modules = sorted(p.relative_to(self.root).as_posix() for p in (self.root / "js").rglob("*.js"))
        preloads = "".join(f'  <link rel="modulepreload" href="{prefix}{m}">\n' for m in modules)
        page = (self.root / "index.html").read_text(encoding="utf-8")
        page = page.replace('href="/static/app.css"', f'href="{prefix}app.css"')
        page = page.replace('src="/static/js/main.js"', f'src="{prefix}js/main.js"')
        return page.replace("</head>", preloads + "</head>", 1)


class RevalidatedFiles(StaticFiles):
    """Static files the browser must revalidate before each use (a changed module is never run stale)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(ASSET_HEADERS)
        return response


class VersionedFiles(StaticFiles):
    """`<version>/<path>`: the asset at `path`; immutable when `version` is the current one, else no-cache."""

    def __init__(self, *, directory: Path, versions: AssetVersion) -> None:
        super().__init__(directory=directory)
        self.versions = versions

    async def get_response(self, path: str, scope: Scope) -> Response:
        version, _, rest = path.partition("/")
        if not rest.startswith(VERSIONED_PARTS):
            return Response(status_code=404)
        response = await super().get_response(rest, scope)
        current = version == self.versions.current()[0]
        response.headers.update(IMMUTABLE_HEADERS if current and response.status_code == 200 else ASSET_HEADERS)
        return response


def mount_ui(app: FastAPI) -> None:
    """Serve the web application at `/` and its assets under `/static` (out of the OpenAPI schema)."""
    versions = AssetVersion(STATIC_DIR)

    @app.get("/", include_in_schema=False)
    def search_page(request: Request) -> Response:
        version, page = versions.current()
        etag = f'"{version}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={**PAGE_HEADERS, "ETag": etag})
        return HTMLResponse(page, headers={**PAGE_HEADERS, "ETag": etag})

    app.mount(VERSIONED, VersionedFiles(directory=STATIC_DIR, versions=versions), name="versioned")
    app.mount("/static", RevalidatedFiles(directory=STATIC_DIR), name="static")
