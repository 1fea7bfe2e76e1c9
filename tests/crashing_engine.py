"""OCR engines that fail for real inside the worker process (imported by the child, so module-level)."""

from __future__ import annotations

import os
import signal
import time

from ingest.ocr import process
from ingest.results import OcrRequest, OcrResult


def killed_once(request: OcrRequest) -> OcrResult:
    """SIGKILL the worker the first time a request is seen, as the OOM killer or an operator would."""
    marker = request.sources[0].with_name(request.sources[0].name + ".crashed")
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return process(request)


def killed_always(request: OcrRequest) -> OcrResult:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def slow(request: OcrRequest) -> OcrResult:
    """OCR that takes a long while (a big scan): the worker is still busy when a stop comes."""
    time.sleep(60)
    return process(request)
