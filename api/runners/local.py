"""Job runners: a Protocol, and the embedded local pool (OCR in child processes, filing in threads).

OCR runs in long-lived worker processes forked from a preloaded fork server (a fresh process per job would
re-import the whole program each time: about a second of CPU per item). ocrmypdf, which allows one run per
process, is started as its own child by the worker for PDF inputs. A distributed runner can implement the
same Protocol.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from api.ingest.service import IngestService
from archive.errors import ProcessingFailed
from ingest.ocr import process
from ingest.results import OcrRequest, OcrResult

log = logging.getLogger(__name__)

WORKER_EXIT_SECONDS = 5.0  # after SIGTERM, before SIGKILL


class RunnerStopped(BaseException):
    """The runner was stopped while a job ran: the job is left unfinished (not failed) for the next start.

    A BaseException, so that the job's own error handling, which ends a job as failed, does not catch it."""


class JobRunner(Protocol):
    def submit(self, job_id: int) -> Future[None]:
        """Run the job in the background; the future ends when the job is done or failed."""
        ...

    def shutdown(self, *, wait: bool = True) -> None: ...


class LocalJobRunner:
    """`workers` OCR processes at once; a crashed child is replaced and its job retried once."""

    def __init__(
        self, service: IngestService, *, workers: int, ocr_function: Callable[[OcrRequest], OcrResult] = process
    ) -> None:
        self.service = service
        self.workers = workers
        self._ocr_function = ocr_function  # a module-level function: it is pickled to the child process
        self._pool_lock = threading.Lock()
        self._stopping = threading.Event()
        self._processes = self._new_pool()
        # Twice as many job threads as OCR processes: while one thread files its result (store, catalogue,
        # index), another's page is already being OCRed, so no worker process waits.
        self._threads = ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="ingest-job")

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ingest.ocr"])
        # Each worker leads its own process group, so stopping it also ends the tesseract it is running.
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=os.setpgrp)

    def submit(self, job_id: int) -> Future[None]:
        return self._threads.submit(self.service.process_job, job_id, self._ocr)

    def _ocr(self, request: OcrRequest) -> OcrResult:
        for attempt in (1, 2):
            with self._pool_lock:
                self._unless_stopping(request)
                pool = self._processes
            try:
                return pool.submit(self._ocr_function, request).result()
            except BrokenProcessPool as exc:
                with self._pool_lock:
                    self._unless_stopping(request, exc)
                    log.warning("an OCR worker died (attempt %s) on %s", attempt, request.sources[0].name)
                    if self._processes is pool:
                        pool.shutdown(wait=False, cancel_futures=True)
                        self._processes = self._new_pool()
                if attempt == 2:
                    raise ProcessingFailed(
                        f"the OCR worker process died twice on {request.sources[0].name} (killed, or out of memory)"
                    ) from exc
            except (RuntimeError, CancelledError) as exc:  # a pool shut down under a job, or the engine's own
                self._unless_stopping(request, exc)
                raise
        raise AssertionError("unreachable")

    def _unless_stopping(self, request: OcrRequest, cause: BaseException | None = None) -> None:
        if self._stopping.is_set():
            raise RunnerStopped(f"stopped while OCRing {request.sources[0].name}") from cause

    def shutdown(self, *, wait: bool = True) -> None:
        """With `wait`, every submitted job runs to its end first. Without, stop now: queued jobs are not
        started, the OCR worker processes (and what they run) are ended, and the jobs they had are left
        unfinished, to be re-queued by the next start (`dangan serve`, `dangan ingest --resume` or --watch)."""
        if not wait:
            self._stopping.set()
        self._threads.shutdown(wait=wait, cancel_futures=not wait)
        with self._pool_lock:
            pool = self._processes
        if not wait:
            end_workers(pool)
        pool.shutdown(wait=wait, cancel_futures=not wait)


def local_runner(service: IngestService, workers: int) -> LocalJobRunner:
    """The intake's runner factory (api.ingest.intake.RunnerFactory): `workers` local OCR processes."""
    return LocalJobRunner(service, workers=workers)


def end_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM, then SIGKILL, to each worker's process group (the worker and the tesseract it runs)."""
    workers = list((pool._processes or {}).values())  # no public handle on the workers before Python 3.14
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                try:
                    os.killpg(worker.pid, sig)
                except ProcessLookupError:  # gone already, or not yet the leader of its own group
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, sig)
        for worker in workers:
            worker.join(WORKER_EXIT_SECONDS)
        workers = [worker for worker in workers if worker.is_alive()]
        if not workers:
            return


RUNNERS: dict[str, type[LocalJobRunner]] = {"local": LocalJobRunner}


def ocr_in_child(request: OcrRequest) -> OcrResult:
    """One OCR run in a fresh child process (for one-off work such as a rescan), never in the caller."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(process, request).result()
        except BrokenProcessPool as exc:
            raise ProcessingFailed(f"the OCR worker process died on {request.sources[0].name}") from exc
