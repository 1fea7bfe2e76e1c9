"""Run the API under uvicorn: one process, or several HTTP worker processes on one socket."""

from __future__ import annotations

import os
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from api.http.app import create_app
from api.http.listen import check_listenable
from api.wiring import Context, build_context
from storage_config.settings import Settings

SETTINGS_VARIABLE = "DANGAN_SERVE_SETTINGS"  # the serving command's Settings, for its worker processes
# A worker process imports the whole program before it answers uvicorn's health check; on a busy machine that
# takes far longer than uvicorn's 5 s default, and a worker killed for it would be restarted in a loop.
WORKER_HEALTH_SECONDS = 120


def serve_forever(
    context: Context,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    banner: str = "",
    say: Callable[[str], None] = print,
    log_level: str = "info",
) -> None:
    """Serve until stopped; `say` prints the address (and the banner) for the person who started it.

    With more than one worker, uvicorn starts that many processes on the one socket (and restarts one that
    dies); each builds its own Context from this command's Settings. Whichever holds the installation's
    runner lock runs the jobs; index writes are serialised by the index's writer lock."""
    host = host or context.settings.server.host
    port = port or context.settings.server.port
    check_listenable(host, port)
    workers = workers or context.settings.server.workers
    processes = f"{workers} HTTP processes" if workers > 1 else "one HTTP process"
    say(f"serving the Dang'an API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/docs; {processes})")
    if banner:
        say(banner)
    if workers == 1:
        uvicorn.run(create_app(context), host=host, port=port, log_level=log_level)
        return
    os.environ[SETTINGS_VARIABLE] = context.settings.model_dump_json()
    uvicorn.run(
        "api.http.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTH_SECONDS,
        log_level=log_level,
    )


def app_from_environment() -> FastAPI:
    """A worker process's app: the Settings its parent serialised (the schema is already migrated)."""
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    return create_app(build_context(settings, migrate=False))
