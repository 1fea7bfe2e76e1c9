"""Run the API under uvicorn."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn

from api.http.app import create_app
from api.http.listen import check_listenable
from api.wiring import Context


def serve_forever(
    context: Context,
    *,
    host: str | None = None,
    port: int | None = None,
    banner: str = "",
    say: Callable[[str], None] = print,
    log_level: str = "info",
) -> None:
    """Serve until stopped; `say` prints the address (and the banner) for the person who started it."""
    host = host or context.settings.server.host
    port = port or context.settings.server.port
    check_listenable(host, port)
    say(f"serving the Dang'an API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/docs)")
    if banner:
        say(banner)
    uvicorn.run(create_app(context), host=host, port=port, log_level=log_level)
