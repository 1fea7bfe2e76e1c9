"""Jobs are held by leases: one claim wins; a live lease (renewed) is never taken; an expired one is, by any
runner, and the runner that lost it files nothing and leaves no object behind; a stop hands jobs back; a failed
job keeps its spooled copy; a passing fault is retried while the CLI waits, within a bound. Real threads, the
real catalogue and store, real OCR worker processes, a real full filesystem (tmpfs)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.ingest.batches import BatchService
from api.ingest.intake import IngestRequest, Intake
from api.ingest.leases import LeaseKeeper
from api.ingest.service import IngestService
from api.preservation.maintenance import MaintenanceService
from api.runners.local import LocalJobRunner, local_runner
from api.wiring import Context, build_context
from archive.errors import ProcessingFailed
from archive.jobs import runnable
from archive.keys import OBJECT_PREFIX
from archive.models import Document, IngestJob, StoredObject, utcnow
from archive.preservation.fixity import verify_objects
from archive.values import JobState
from archive.workflow import JOB_TRANSITIONS
from ingest.grouping import PlannedItem
from ingest.ocr import process
from ingest.results import OcrRequest, OcrResult
from storage_config.settings import Settings
from tests import crashing_engine
from tests.actors import ARCHIVIST
from tests.pages import ENGLISH_TEXT, render

WAIT = 60.0  # the bound of every wait here (a slow, shared machine)


def leased_context(home: Path, faults: dict[str, float] | None = None, **settings: object) -> Context:
    """An archive whose leases last 1 s (the least allowed), so that expiry happens within a test."""
    faults = {"job_lease_seconds": 1.0, "retry_first_seconds": 0.2, "retry_max_seconds": 1.0} | (faults or {})
    faults.setdefault(
        "free_space_reserve_mb", 0
    )  # the tmpfs cases fill their disk for real; the reserve would refuse first
    context = build_context(Settings(home=home, workers=1, ocr_engine="null", faults=faults, **settings))  # type: ignore[arg-type]
    MaintenanceService(context).initialise()
    return context


def wait_until(condition: Callable[[], bool], *, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def leased(tmp_path: Path) -> Iterator[Context]:
    context = leased_context(tmp_path / "var")
    yield context
    context.close()


def submit(context: Context, folder: Path, n: int = 0) -> int:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F001", languages="eng").id
    path = render(folder, f"item-{n}.png", f"Item number {n} of the lease box. " + ENGLISH_TEXT, "eng", seed=40 + n)
    return IngestService(context).submit_item(batch, PlannedItem(path.name, (path,)), actor=ARCHIVIST).id


def job_row(context: Context, job_id: int) -> IngestJob:
    with context.db.read() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        return job


def documents(context: Context) -> int:
    with context.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def assert_store_matches_catalogue(context: Context) -> None:
    with context.db.read() as session:
        referenced = set(session.scalars(select(StoredObject.key)))
        report = verify_objects(session, context.store)
    assert report.clean, report.as_dict()  # no row without an object
    assert set(context.store.iter_keys(OBJECT_PREFIX)) == referenced  # no object without a row


def held_ocr(entered: threading.Event, release: threading.Event) -> Callable[[OcrRequest], OcrResult]:
    """OCR (in the calling thread) that holds its job until released: a worker paused mid-job."""

    def ocr(request: OcrRequest) -> OcrResult:
        entered.set()
        assert release.wait(WAIT)
        return process(request)

    return ocr


def test_the_claim_rule_takes_what_the_state_machine_lets_become_processing(leased: Context) -> None:
    """Queued, retrying once due, and processing without a live lease are runnable; nothing else is, and those
    are exactly the states JOB_TRANSITIONS lets move to processing."""
    now = utcnow()
    past, future = now - dt.timedelta(seconds=5), now + dt.timedelta(seconds=60)
    rows = {
        "queued": (JobState.QUEUED, None, None),
        "retrying, due": (JobState.RETRYING, None, past),
        "retrying, waiting": (JobState.RETRYING, None, future),
        "processing, expired lease": (JobState.PROCESSING, past, None),
        "processing, no lease (before 0004)": (JobState.PROCESSING, None, None),
        "processing, live lease": (JobState.PROCESSING, future, None),
        "done": (JobState.DONE, None, None),
        "needs_review": (JobState.NEEDS_REVIEW, None, None),
        "failed": (JobState.FAILED, None, None),
    }
    with leased.db.write() as session:
        for name, (state, expires, not_before) in rows.items():
            row = IngestJob(state=state, source_name=name, submitted_by="t", lease_expires_at=expires)
            row.not_before = not_before
            session.add(row)
    with leased.db.read() as session:
        taken = set(session.scalars(select(IngestJob.source_name).where(runnable(now))))
    assert taken == {"queued", "retrying, due", "processing, expired lease", "processing, no lease (before 0004)"}
    claimable = {state for state, targets in JOB_TRANSITIONS.items() if JobState.PROCESSING in targets}
    assert claimable == {rows[name][0] for name in taken}


def test_of_many_runners_claiming_one_job_exactly_one_runs_it(leased: Context, tmp_path: Path) -> None:
    job_id = submit(leased, tmp_path / "in")
    service = IngestService(leased)
    calls: list[str] = []
    start = threading.Barrier(6)

    def runner(owner: str) -> None:
        start.wait(WAIT)
        service.process_job(job_id, lambda request: calls.append(owner) or process(request), owner=owner)

    threads = [threading.Thread(target=runner, args=(f"runner-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    job = job_row(leased, job_id)
    assert len(calls) == 1 and job.state == JobState.DONE and job.attempts == 1, (calls, job.state)
    assert job.lease_owner == calls[0] and job.lease_expires_at is None
    assert documents(leased) == 1


def test_a_live_job_is_left_to_its_owner_and_an_expired_one_is_taken_over(leased: Context, tmp_path: Path) -> None:
    """Runner A pauses mid-job without renewing (as a stopped process would) past its lease; B takes over and
    files the item; A wakes, finds its lease gone and leaves the job: one document, no stray object."""
    job_id = submit(leased, tmp_path / "in")
    service = IngestService(leased)
    entered, release = threading.Event(), threading.Event()
    paused = threading.Thread(
        target=service.process_job, args=(job_id, held_ocr(entered, release)), kwargs={"owner": "A"}
    )
    paused.start()
    assert entered.wait(WAIT)
    assert job_id not in service.pending_job_ids()  # a live lease: not put back, not runnable
    service.process_job(job_id, lambda request: pytest.fail("took a live job"), owner="B")
    assert job_row(leased, job_id).lease_owner == "A"
    wait_until(lambda: job_id in service.runnable_job_ids(), timeout=WAIT)  # A's lease ran out
    service.process_job(job_id, process, owner="B")
    assert job_row(leased, job_id).state == JobState.DONE
    release.set()
    paused.join(WAIT)
    job = job_row(leased, job_id)
    assert (job.state, job.lease_owner, job.attempts, job.lost_leases) == (JobState.DONE, "B", 2, 1)
    assert documents(leased) == 1
    assert_store_matches_catalogue(leased)


def test_a_runner_that_lost_its_lease_after_storing_removes_only_its_own_objects(
    leased: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stores its objects, then pauses past its lease (failpoint sleep on its first pass); B reclaims (removing
    A's unfiled objects), files; A's filing is refused by the fence and it removes what no row holds."""
    job_id = submit(leased, tmp_path / "in")
    service = IngestService(leased)
    monkeypatch.setenv("DANGAN_FAILPOINTS", "job.stored=sleep:3@1")
    paused = threading.Thread(target=service.process_job, args=(job_id, process), kwargs={"owner": "A"})
    paused.start()
    wait_until(lambda: bool(job_row(leased, job_id).options.get("pending_keys")))  # A's intent, then its writes
    wait_until(lambda: job_id in service.runnable_job_ids())  # A sleeps past its lease
    service.process_job(job_id, process, owner="B")
    paused.join(WAIT)
    assert not paused.is_alive()
    job = job_row(leased, job_id)
    assert (job.state, job.lease_owner, job.attempts) == (JobState.DONE, "B", 2)
    assert documents(leased) == 1
    assert_store_matches_catalogue(leased)


def test_a_renewed_lease_is_kept_across_several_lease_periods(leased: Context, tmp_path: Path) -> None:
    job_id = submit(leased, tmp_path / "in")
    service = IngestService(leased)
    keeper = LeaseKeeper(leased.db, lease_seconds=1.0)  # renews every 1/3 s
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:  # as a runner does: the job is in hand (its lease renewed) while its thread runs it
        with keeper.holding(job_id):
            service.process_job(job_id, held_ocr(entered, release), owner=keeper.owner)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(WAIT)
        deadline = time.monotonic() + 3.5  # three and a half lease periods
        while time.monotonic() < deadline:
            assert job_id not in service.runnable_job_ids()
            service.process_job(job_id, lambda request: pytest.fail("took a renewed job"), owner="thief")
            time.sleep(0.1)
    finally:
        release.set()
        holder.join(WAIT)
        keeper.stop()
    job = job_row(leased, job_id)
    assert (job.state, job.lease_owner, job.attempts, job.lost_leases) == (JobState.DONE, keeper.owner, 1, 0)


def test_a_stopping_runner_hands_back_the_job_in_its_ocr_worker(leased: Context, tmp_path: Path) -> None:
    job_id = submit(leased, tmp_path / "in")
    service = IngestService(leased)
    runner = LocalJobRunner(service, workers=1, ocr_function=crashing_engine.slow)
    runner.grace_seconds = 0.5
    future = runner.submit(job_id)
    wait_until(lambda: job_row(leased, job_id).state == JobState.PROCESSING, timeout=WAIT)
    started = time.monotonic()
    runner.shutdown(wait=False)
    assert time.monotonic() - started < 30
    assert future.done()
    job = job_row(leased, job_id)
    assert (job.state, job.lease_owner, job.lease_expires_at) == (JobState.QUEUED, None, None)
    assert service.pending_job_ids() == [job_id]
    again = LocalJobRunner(service, workers=1)
    try:
        again.submit(job_id).result(timeout=WAIT)
    finally:
        again.shutdown()
    assert job_row(leased, job_id).state == JobState.DONE and documents(leased) == 1


def test_a_failed_job_keeps_its_spooled_copy_and_gives_its_file_back(leased: Context, tmp_path: Path) -> None:
    job_id = submit(leased, tmp_path / "in")

    def broken(request: OcrRequest) -> OcrResult:
        raise ProcessingFailed("the engine could not read this scan")

    IngestService(leased).process_job(job_id, broken, owner="A")
    job = job_row(leased, job_id)
    assert job.state == JobState.FAILED and job.claim_sha256 is None and job.lease_expires_at is None
    assert job.spool_path and any(Path(job.spool_path).iterdir())  # kept for `dangan jobs retry`


# -- a passing fault: the object store's disk is full --------------------------------------------------------


@pytest.fixture
def full_store(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB filesystem for the object store, filled up but for 100 KB; delete `filler` in it to give the
    space back."""
    mount = tmp_path / "store"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        with (mount / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        # Room for a scan (so ingest accepts it: the free-space check counts the scan alone), not for the scan
        # and its PDF/A: the job meets the full disk while it stores its objects.
        filler = mount / "filler"
        os.truncate(filler, filler.stat().st_size - 100 * 1024)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_job_that_met_a_full_store_is_retried_while_the_cli_waits(tmp_path: Path, full_store: Path) -> None:
    patient = {"retry_max_seconds": 30.0, "job_lease_seconds": 5.0}
    context = leased_context(tmp_path / "var", patient, storage={"path": str(full_store)})
    try:
        folder = tmp_path / "in"
        render(folder, "item-0.png", "Item zero. " + ENGLISH_TEXT, "eng", seed=40)
        service = IngestService(context)
        freed = threading.Thread(target=free_when_retrying, args=(context, full_store))
        freed.start()
        run = Intake(context).ingest_paths(
            IngestRequest(paths=[folder], languages="eng"), actor=ARCHIVIST, runner=local_runner
        )
        freed.join(WAIT)
        assert [job.state for job in run.jobs] == ["done"] and run.exit_code() == 0, run
        assert documents(context) == 1 and service.runnable_job_ids() == []
    finally:
        context.close()


def free_when_retrying(context: Context, mount: Path) -> None:
    wait_until(lambda: retrying_jobs(context) > 0, timeout=WAIT)
    (mount / "filler").unlink()


def retrying_jobs(context: Context) -> int:
    with context.db.read() as session:
        query = select(func.count()).select_from(IngestJob).where(IngestJob.state == JobState.RETRYING)
        return int(session.scalar(query) or 0)


def test_a_lasting_fault_ends_the_cli_with_its_exit_code_and_the_job_resumes_later(
    tmp_path: Path, full_store: Path
) -> None:
    context = leased_context(tmp_path / "var", storage={"path": str(full_store)})  # waits 1 s without progress
    try:
        folder = tmp_path / "in"
        render(folder, "item-0.png", "Item zero. " + ENGLISH_TEXT, "eng", seed=40)
        intake = Intake(context)
        run = intake.ingest_paths(IngestRequest(paths=[folder], languages="eng"), actor=ARCHIVIST, runner=local_runner)
        assert [job.state for job in run.jobs] == ["retrying"], run
        assert run.exit_code() in (8, 14) and run.exit_code() == run.jobs[0].retry_exit_code
        assert run.summary.retrying == 1 and run.summary.failed == 0
        (full_store / "filler").unlink()
        wait_until(lambda: IngestService(context).runnable_job_ids() != [], timeout=WAIT)
        resumed = intake.run_pending(actor=ARCHIVIST, runner=local_runner)
        assert [job.state for job in resumed.jobs] == ["done"] and resumed.exit_code() == 0
        assert documents(context) == 1
        assert_store_matches_catalogue(context)
    finally:
        context.close()
