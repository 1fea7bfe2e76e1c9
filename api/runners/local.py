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
from concurrent.futures import wait as wait_for_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from api.ingest.leases import LeaseKeeper, hand_back_quietly
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
    """`workers` OCR processes at once; a crashed child is replaced and its job retried once. The runner is one
    lease owner: it holds every job it runs by a lease its LeaseKeeper renews."""

    def __init__(
        self, service: IngestService, *, workers: int, ocr_function: Callable[[OcrRequest], OcrResult] = process
    ) -> None:
        self.service = service
        self.workers = workers
        self._ocr_function = ocr_function  # a module-level function: it is pickled to the child process
        self._pool_lock = threading.Lock()
        self._closing = threading.Event()  # no job is claimed any more
        self._stopping = threading.Event()  # the OCR workers are being ended
        self._in_hand: set[Future[None]] = set()
        self._processes = self._new_pool()
        # Twice as many job threads as OCR processes: while one thread files its result (store, catalogue,
        # index), another's page is already being OCRed, so no worker process waits.
        self._threads = ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="ingest-job")
        faults = service.context.settings.faults
        self.grace_seconds = faults.shutdown_grace_seconds
        self.leases = LeaseKeeper(service.db, faults.job_lease_seconds)

    @property
    def owner(self) -> str:
        return self.leases.owner

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ingest.ocr"])
        # Each worker leads its own process group, so stopping it also ends the tesseract it is running.
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=os.setpgrp)

    def submit(self, job_id: int) -> Future[None]:
        future = self._threads.submit(self._run, job_id)
        with self._pool_lock:
            self._in_hand.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[None]) -> None:
        with self._pool_lock:
            self._in_hand.discard(future)

    def _run(self, job_id: int) -> None:
        if self._closing.is_set():
            raise RunnerStopped(f"stopped before job {job_id} started")
        with self.leases.holding(job_id):
            self.service.process_job(job_id, self._ocr, owner=self.owner)

    def _ocr(self, request: OcrRequest) -> OcrResult:
        for attempt in (1, 2):
            try:
                with self._pool_lock:  # a stop ends every worker started before it, and none starts after it
                    self._unless_stopping(request)
                    pool = self._processes
                    running = pool.submit(self._ocr_function, request)
                return running.result()
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
        """With `wait`, every submitted job runs to its end first. Without (SIGTERM, Ctrl-C), stop within a
        bound: jobs not started are not claimed; the jobs in hand may finish for `grace_seconds`
        (DANGAN_FAULTS__SHUTDOWN_GRACE_SECONDS); then the OCR worker processes (and what they run) are ended and
        every job still held is handed back, queued, its unfiled objects removed, for the next runner."""
        if wait:
            self._threads.shutdown(wait=True)
            self.leases.stop()
            self._processes.shutdown(wait=True)
            return
        self._closing.set()
        self._threads.shutdown(wait=False, cancel_futures=True)
        with self._pool_lock:
            in_hand = list(self._in_hand)
        wait_for_futures(in_hand, timeout=self.grace_seconds)
        with self._pool_lock:
            self._stopping.set()
            pool = self._processes
        end_workers(pool)
        wait_for_futures(in_hand, timeout=WORKER_EXIT_SECONDS)  # each job hands itself back as its OCR ends
        hand_back_quietly(self.service.db, self.service.context.store, self.owner)  # any still held (fenced)
        self.leases.stop()
        pool.shutdown(wait=False, cancel_futures=True)


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
