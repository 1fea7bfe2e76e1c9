"""The app under uvicorn in its own process, for the API fuzz test: `python -m tests.fuzz_server HOME PORT LOG`.

Its own process, because Hypothesis seeds the global `random` for each case it runs, and an app in the same
process would draw the same "random" names (Whoosh segment ids) again and again. The exception behind each 500
is appended to LOG, one line, before the response is sent, so the test can say why a request failed."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import uvicorn
from fastapi import Request
from fastapi.responses import PlainTextResponse

from api.http.app import create_app
from api.wiring import build_context
from storage_config.settings import Settings


def main(home: Path, port: int, log: Path) -> None:
    app = create_app(build_context(Settings(home=home, workers=1)))

    async def record(_request: Request, exc: Exception) -> PlainTextResponse:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "site-packages" not in f.filename]
        where = f" at {'/'.join(Path(frames[-1].filename).parts[-2:])}:{frames[-1].lineno}" if frames else ""
        message = " ".join(str(exc).split())[:160]
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{type(exc).__name__}: {message}{where}\n")
        return PlainTextResponse("Internal Server Error", status_code=500)

    app.add_exception_handler(Exception, record)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="critical")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
