"""Response headers that keep browsers from running what the archive serves.

Files (PDF/A copies, originals) carry a Content-Security-Policy that forbids every fetch and sandboxes the
document, so a scan that is really HTML or an SVG with script does nothing; HTML pages (the batch report) get
a strict policy of their own; the web UI and the API docs set their own (api/http/ui.py, api/http/docs.py).
Every response says `nosniff`.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
FILE_CSP = "default-src 'none'; sandbox"
FILE_HEADERS = {"Content-Security-Policy": FILE_CSP} | NOSNIFF
# Server-rendered HTML reports: inline styles only; no script, no fetches, no framing, no forms.
HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HTML_HEADERS = {"Content-Security-Policy": HTML_CSP} | NOSNIFF


class SecurityHeaders:
    """Adds nosniff to every response, and a CSP to HTML and file responses that do not set their own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if "content-security-policy" not in headers:
                    if "content-disposition" in headers:
                        headers["Content-Security-Policy"] = FILE_CSP
                    elif headers.get("content-type", "").startswith("text/html"):
                        headers["Content-Security-Policy"] = HTML_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)
