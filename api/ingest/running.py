"""Running jobs in this process until the ones it waits for have ended: the loop of `dangan ingest` and of
`run_pending` (`dangan jobs run`).

It hands every runnable job of the installation to its runner, whatever batch or process queued it (expired
leases included), and reads every job's end state from the catalogue, so a job another process claimed first
(a server, another ingest) is waited for, not run twice nor counted twice. A job that met a passing fault
(`retrying`) runs again when its wait is over; when only such jobs are left and no job has ended for `patience`
seconds (DANGAN_FAULTS__RETRY_MAX_SECONDS), the loop ends and leaves them `retrying`: they resume by themselves
at the next `dangan serve`, `dangan ingest` or `dangan jobs run`.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Protocol

from api.ingest.service import IngestService
from archive.errors import DanganError
from archive.values import JobState

POLL_SECONDS = 0.25


class Runner(Protocol):
    def submit(self, job_id: int) -> Future[None]: ...


class Shown(Protocol):
    def set_total(self, total: int) -> None: ...

    def advance(self, label: str = "") -> None: ...


class JobDriver:
    def __init__(
        self,
        service: IngestService,
        runner: Runner,
        shown: Shown,
        *,
        patience: float,
        keep_picking: bool = False,
        fault_wait: float = 1.0,
    ) -> None:
        self.service = service
        self.runner = runner
        self.shown = shown
        self.patience = patience
        self.keep_picking = keep_picking  # pick up new runnable jobs even once the awaited ones have ended
        self.fault_wait = fault_wait  # a job whose run met a passing fault before it could record it waits this long
        self.awaited: set[int] = set()  # jobs whose end this run reports
        self.ended: set[int] = set()
        self._in_flight: dict[int, Future[None]] = {}
        # A passing fault that kept a job from even recording its end (the catalogue full or locked): the first
        # one is reported; such jobs count as waiting, and their leases, no longer renewed, run out for a retry.
        self.fault: DanganError | None = None
        self._faulted: dict[int, float] = {}  # job id -> when it may be taken again (time.monotonic)
        # Jobs seen `retrying` in this run: their next tries (a claim each) are not progress, so a job that keeps
        # meeting the same fault does not hold the loop open past `patience`, even while it is in flight again.
        self._retried: set[int] = set()

    def take(self, job_ids: list[int]) -> None:
        """Run these jobs here (unless another runner claims them first) and wait for their end."""
        for job_id in job_ids:
            self.take_one(job_id)

    def take_one(self, job_id: int) -> None:
        self.wait_for([job_id])
        if job_id not in self._in_flight and self._faulted.get(job_id, 0.0) <= time.monotonic():
            self._in_flight[job_id] = self.runner.submit(job_id)

    def wait_for(self, job_ids: list[int]) -> None:
        """Wait for the end of these jobs too, whoever runs them."""
        self.awaited.update(job_ids)
        self.shown.set_total(len(self.awaited))

    def run(self) -> None:
        """Until every awaited job has ended, or only `retrying` ones are left and none has ended for `patience`
        seconds. A runner's own error (the catalogue gone, say) is raised."""
        progressed = time.monotonic()
        while True:
            self._collect()
            ended = len(self.ended)
            open_jobs = self._note_ended()
            if open_jobs or self.keep_picking:
                self.take([job_id for job_id in self.service.runnable_job_ids() if job_id not in self._in_flight])
                open_jobs = self._note_ended()
            if not open_jobs and not self._in_flight:
                return
            if len(self.ended) > ended:
                progressed = time.monotonic()
            self._retried.update(job_id for job_id, state in open_jobs.items() if state == JobState.RETRYING)
            waiting_only = all(job_id in self._retried or job_id in self._faulted for job_id in open_jobs) and all(
                job_id in self._retried for job_id in self._in_flight
            )
            if waiting_only and time.monotonic() - progressed > self.patience:
                return
            time.sleep(POLL_SECONDS)

    def _collect(self) -> None:
        for job_id, future in list(self._in_flight.items()):
            if future.done():
                del self._in_flight[job_id]
                try:
                    future.result()
                except DanganError as exc:
                    if not exc.transient:
                        raise
                    self.fault = self.fault or exc
                    self._faulted[job_id] = time.monotonic() + self.fault_wait
                    continue
                self._faulted.pop(job_id, None)

    def _note_ended(self) -> dict[int, str]:
        """The awaited jobs not ended yet, with their states; each newly ended one is shown."""
        states = self.service.job_states(sorted(self.awaited - self.ended))
        for job_id, (state, name) in sorted(states.items()):
            if JobState(state).finished:
                self.ended.add(job_id)
                self.shown.advance(f"{name}: {state}")
        return {job_id: state for job_id, (state, _) in states.items() if job_id not in self.ended}
