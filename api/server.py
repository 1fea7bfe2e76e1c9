"""Run the API under uvicorn."""

from __future__ import annotations

import uvicorn

from api.cli.output import stdout
from api.web import create_app
from api.wiring import Context


def serve_forever(context: Context, *, host: str | None = None, port: int | None = None, banner: str = "") -> None:
    host = host or context.settings.server.host
    port = port or context.settings.server.port
    stdout.print(
        f"serving the Dang'an API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/docs)", highlight=False
    )
    if banner:
        stdout.print(banner, highlight=False, markup=False)
    uvicorn.run(create_app(context), host=host, port=port, log_level="info")
