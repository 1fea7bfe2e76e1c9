"""One job runner per installation, however many server processes there are.

Every `dangan serve` process starts an InstallationRunner; the one that holds the lock file `runner.lock` in
the data directory runs the real runner (a LocalJobRunner), the others only accept uploads. A job is a
catalogue row, so the holder finds the runnable jobs of any process and any batch by polling the catalogue (queued,
retrying once due, and those whose runner died: expired leases); jobs queued in its own process start at once.
A job another runner claimed first (a `dangan ingest` running beside the server) is left to it: claims are
atomic and leased. When the holder ends (or dies: the kernel drops its lock), another process takes the lock
within a poll interval and carries on.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO

from api.ingest.service import IngestService
from api.runners.local import JobRunner, LocalJobRunner

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class InstallationRunner:
    """A JobRunner that runs jobs only in the process holding the installation's runner lock."""

    def __init__(
        self,
        service: IngestService,
        lock_path: Path,
        make_runner: Callable[[], JobRunner],
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.service = service
        self.lock_path = lock_path
        self._make_runner = make_runner
        self._poll_seconds = poll_seconds
        self._runner: JobRunner | None = None
        self._lock_file: IO[bytes] | None = None
        self._started: set[int] = set()
        self._guard = threading.RLock()  # a done callback may run at once, in the thread that submits
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="installation-runner", daemon=True)
        self._thread.start()

    @property
    def leading(self) -> bool:
        """Whether this process runs the installation's jobs now."""
        with self._guard:
            return self._runner is not None

    def submit(self, job_id: int) -> Future[None]:
        """Start the job here if this process runs the jobs; otherwise the holder of the lock picks it up from
        the catalogue within a poll interval, and the future returned here is already done."""
        with self._guard:
            if self._runner is not None:
                return self._start(job_id)
        handed_over: Future[None] = Future()
        handed_over.set_result(None)
        return handed_over

    def _start(self, job_id: int) -> Future[None]:
        assert self._runner is not None
        self._started.add(job_id)
        future = self._runner.submit(job_id)
        future.add_done_callback(lambda _: self._finished(job_id))
        return future

    def _finished(self, job_id: int) -> None:
        with self._guard:
            self._started.discard(job_id)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._runner is None:
                    self._try_to_lead()
                else:
                    self._pick_up(self.service.runnable_job_ids())
            except Exception:  # a busy or briefly unavailable catalogue: try again on the next tick
                log.exception("the job runner could not poll the catalogue")
            self._stop.wait(self._poll_seconds)

    def _try_to_lead(self) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return
        self._lock_file = handle
        pending = self.service.pending_job_ids()  # runnable ones only: a live lease stays its owner's
        with self._guard:
            self._runner = self._make_runner()
        log.info("this process runs the installation's jobs (%s resumed)", len(pending))
        self._pick_up(pending)

    def _pick_up(self, job_ids: list[int]) -> None:
        with self._guard:
            for job_id in job_ids:
                if job_id not in self._started and not self._stop.is_set():
                    self._start(job_id)

    def shutdown(self, *, wait: bool = True) -> None:
        self._stop.set()
        self._thread.join()
        with self._guard:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.shutdown(wait=wait)
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.close()  # the lock goes with the file
            self._lock_file = None


def installation_runner(service: IngestService) -> InstallationRunner:
    """The runner of a server process: the local process pool, when this process holds the installation's lock."""
    settings = service.context.settings
    return InstallationRunner(
        service, settings.home_dir / "runner.lock", lambda: LocalJobRunner(service, workers=settings.workers)
    )
