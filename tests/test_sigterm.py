"""Runners as real processes over one DANGAN_HOME: a server and a CLI ingest share the jobs without running one
twice; `kill -9` of a runner mid-job loses nothing (its job is taken over once its lease expires, not before);
a live runner keeps its job across several lease periods; SIGTERM of serve or ingest mid-batch exits 130 within
the bound with no job left `processing`, and a restart without a flag files everything once; a job whose
runner is killed each time ends failed after DANGAN_FAULTS__POISON_DEATHS (3) deaths. Slow OCR comes from a
failpoint (`job.ocr_done=sleep:S`, in the runner's job thread); the null OCR engine reads the scans' sidecar text.

Each test prints its counts (acknowledged, filed, duplicates, stuck) on a line starting with COUNTS."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.wiring import Context
from archive.access import Principal
from archive.keys import OBJECT_PREFIX
from archive.models import Document, IngestJob, StoredObject
from archive.preservation.fixity import verify_objects
from ingest.grouping import PlannedItem
from tests.actors import account
from tests.conftest import make_context
from tests.pages import ENGLISH_TEXT, render

ROOT = Path(__file__).resolve().parent.parent
DANGAN = Path(sys.executable).parent / "dangan"
POISON_LEASES = 3  # the default of DANGAN_FAULTS__POISON_DEATHS
BOUND = 60.0  # every wait and every exit is bounded by this (a slow, shared machine; no timing is asserted)


def box(folder: Path, items: int, first: int = 0) -> Path:
    for n in range(first, first + items):
        render(folder, f"item-{n}.png", f"Item number {n} of the box. " + ENGLISH_TEXT, "eng", seed=40 + n)
    return folder


def start(tmp_path: Path, home: Path, args: list[str], **extra: str) -> subprocess.Popen[bytes]:
    """`dangan --home HOME --user archivist ARGS` (the real console script, its own session), with the null
    engine, two OCR workers and the given DANGAN_* settings; its output goes to a file beside the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env |= {"DANGAN_OCR_ENGINE": "null", "DANGAN_WORKERS": "2", "PYTHONPATH": str(ROOT)} | extra
    log = (tmp_path / f"run-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [str(DANGAN), "--home", str(home), "--user", "archivist", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, dict[str, object]]:
    """Its exit code and its --json output (empty when it printed none); whatever it left running is killed."""
    process.wait(timeout=BOUND * 3)
    kill_group(process)
    assert process.stdout is not None
    text = process.stdout.read().decode()
    return process.returncode, json.loads(text) if text.strip().startswith("{") else {}


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """kill -9 of the runner and everything it started (fork server, OCR workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=BOUND)


def stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM; its exit code and how long it took to exit (which must be within the bound)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=BOUND)
    except subprocess.TimeoutExpired:
        kill_group(process)
        pytest.fail(f"did not exit within {BOUND} s of SIGTERM")
    return process.returncode, time.monotonic() - started


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND * 2
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def jobs(context: Context) -> list[IngestJob]:
    with context.db.read() as session:
        return list(session.scalars(select(IngestJob).order_by(IngestJob.id)))


def states(context: Context) -> list[str]:
    return [job.state for job in jobs(context)]


def counts(context: Context, test: str) -> dict[str, int]:
    """Acknowledged (jobs queued), filed (documents), duplicates (a file filed twice), stuck (jobs not ended);
    and the store checked against the catalogue: no object without a row, no row without an object."""
    with context.db.read() as session:
        filed = int(session.scalar(select(func.count()).select_from(Document)) or 0)
        distinct = int(session.scalar(select(func.count(func.distinct(Document.original_sha256)))) or 0)
        referenced = set(session.scalars(select(StoredObject.key)))
        report = verify_objects(session, context.store)
    ended = ("done", "needs_review", "failed")
    found = {
        "acknowledged": len(jobs(context)),
        "filed": filed,
        "duplicates": filed - distinct,
        "stuck": sum(1 for state in states(context) if state not in ended),
    }
    print(f"COUNTS {test}: " + ", ".join(f"{key}={value}" for key, value in found.items()))
    assert report.clean, report.as_dict()
    assert set(context.store.iter_keys(OBJECT_PREFIX)) == referenced
    return found


def ran_by(job: IngestJob, process: subprocess.Popen[bytes]) -> bool:
    return f":{process.pid}:" in str(job.lease_owner)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[Context, int]]:
    context = make_context(tmp_path / "var")
    yield context, new_batch(context, account(context, "archivist", ["archivist"]))
    context.close()


def new_batch(context: Context, actor: Principal) -> int:
    return int(BatchService(context).create(actor=actor, fonds="F001", languages="eng").id)


def queue_items(context: Context, batch: int, folder: Path) -> None:
    """Items queued as an upload would (no runner in this process): a server picks them up."""
    service = IngestService(context)
    archivist = account(context, "uploader", ["archivist"])
    for path in sorted(folder.glob("*.png")):
        service.submit_item(batch, PlannedItem(path.name, (path,)), actor=archivist)


def test_a_server_and_a_cli_ingest_share_the_jobs_and_run_none_twice(
    tmp_path: Path, archive: tuple[Context, int]
) -> None:
    context, server_batch = archive
    cli_batch = new_batch(context, account(context, "second", ["archivist"]))
    queue_items(context, server_batch, box(tmp_path / "uploads", 4))
    slow = {"DANGAN_FAILPOINTS": "job.ocr_done=sleep:1"}
    server = start(tmp_path, context.settings.home_dir, ["serve", "--port", str(free_port())], **slow)
    try:
        wait_for(lambda: "processing" in states(context), "the server to claim a job")
        cli = start(
            tmp_path,
            context.settings.home_dir,
            ["ingest", str(box(tmp_path / "scans", 4, first=10)), "--batch", str(cli_batch), "--json"],
            **slow,
        )
        code, output = finish(cli)
        assert code == 0, output
        reported = [job["id"] for job in output["jobs"]]  # type: ignore[attr-defined]
        assert len(reported) == len(set(reported))  # not counted twice
        wait_for(lambda: all(state == "done" for state in states(context)), "every job to end")
    finally:
        code, _ = stop(server)
    assert code == 130
    ended = jobs(context)
    assert all(job.attempts == 1 for job in ended), [(job.id, job.attempts) for job in ended]  # none run twice
    by_server, by_cli = sum(ran_by(job, server) for job in ended), sum(ran_by(job, cli) for job in ended)
    print(f"server ran {by_server}, the CLI ran {by_cli}")
    assert by_server >= 1 and by_cli >= 1 and by_server + by_cli == 8
    assert counts(context, "server+cli") == {"acknowledged": 8, "filed": 8, "duplicates": 0, "stuck": 0}


def test_kill_9_mid_job_the_job_is_taken_over_after_its_lease_not_before(
    tmp_path: Path, archive: tuple[Context, int]
) -> None:
    context, batch = archive
    scans = box(tmp_path / "scans", 1)
    lease = {"DANGAN_FAULTS__JOB_LEASE_SECONDS": "2"}
    first = start(
        tmp_path,
        context.settings.home_dir,
        ["ingest", str(scans), "--batch", str(batch)],
        DANGAN_FAILPOINTS="job.ocr_done=sleep:60",
        **lease,
    )
    wait_for(lambda: any(ran_by(job, first) for job in jobs(context)), "the first runner to claim the job")
    time.sleep(1.5)  # it renews its lease meanwhile
    kill_group(first)
    (held,) = jobs(context)
    assert held.state == "processing" and held.lease_expires_at is not None
    second = start(
        tmp_path, context.settings.home_dir, ["ingest", str(scans), "--batch", str(batch), "--json"], **lease
    )
    code, output = finish(second)
    assert code == 0, output
    (job,) = jobs(context)
    assert ran_by(job, second) and job.state == "done" and job.attempts == 2 and job.lost_leases == 1
    assert job.started_at is not None and job.started_at >= held.lease_expires_at  # not taken before expiry
    assert [reported["state"] for reported in output["jobs"]] == ["done"]  # type: ignore[attr-defined]
    assert counts(context, "kill -9") == {"acknowledged": 1, "filed": 1, "duplicates": 0, "stuck": 0}


def test_a_live_runner_keeps_its_job_across_several_lease_periods(tmp_path: Path, archive: tuple[Context, int]) -> None:
    """While the holder works (four lease periods), a second CLI ingest of the same batch and this process both
    try to claim its job all along: neither gets it, and the lease's expiry keeps moving forward."""
    context, batch = archive
    scans = box(tmp_path / "scans", 1)
    lease = {"DANGAN_FAULTS__JOB_LEASE_SECONDS": "2"}
    ingest = ["ingest", str(scans), "--batch", str(batch)]
    holder = start(tmp_path, context.settings.home_dir, ingest, DANGAN_FAILPOINTS="job.ocr_done=sleep:8", **lease)
    wait_for(lambda: any(ran_by(job, holder) for job in jobs(context)), "the holder to claim the job")
    other = start(tmp_path, context.settings.home_dir, [*ingest, "--json"], **lease)
    service, expiries = IngestService(context), set()
    while holder.poll() is None:
        (job,) = jobs(context)
        if job.state != "processing":
            break
        expiries.add(job.lease_expires_at)
        service.process_job(job.id, lambda request: pytest.fail("took a live job"), owner="thief")
        time.sleep(0.2)
    assert len(expiries) >= 4, expiries  # renewed every 2/3 s while held
    assert finish(holder)[0] == 0
    code, output = finish(other)
    assert code == 0, output
    (job,) = jobs(context)
    assert ran_by(job, holder) and job.attempts == 1 and job.lost_leases == 0
    assert counts(context, "renewed lease") == {"acknowledged": 1, "filed": 1, "duplicates": 0, "stuck": 0}


@pytest.mark.parametrize("grace", ["10", "0"])
def test_sigterm_of_ingest_mid_batch_hands_back_and_a_plain_restart_files_all_once(
    tmp_path: Path, archive: tuple[Context, int], grace: str
) -> None:
    context, batch = archive
    scans = box(tmp_path / "scans", 6)
    ingest = ["ingest", str(scans), "--batch", str(batch)]
    running = start(
        tmp_path,
        context.settings.home_dir,
        ingest,
        DANGAN_FAILPOINTS="job.ocr_done=sleep:2",
        DANGAN_FAULTS__SHUTDOWN_GRACE_SECONDS=grace,
    )
    wait_for(lambda: "processing" in states(context), "a job in hand")
    code, seconds = stop(running)
    print(f"ingest exited {code} {seconds:.1f} s after SIGTERM (grace {grace} s): {states(context)}")
    assert code == 130
    assert "processing" not in states(context)  # finished within the grace, or handed back
    assert all(job.lease_expires_at is None for job in jobs(context))
    code, output = finish(start(tmp_path, context.settings.home_dir, [*ingest, "--json"]))  # no --resume
    assert code == 0, output
    assert counts(context, f"sigterm ingest grace={grace}") == {
        "acknowledged": 6,
        "filed": 6,
        "duplicates": 0,
        "stuck": 0,
    }


def test_sigterm_of_serve_mid_batch_hands_back_and_a_restart_files_all_once(
    tmp_path: Path, archive: tuple[Context, int]
) -> None:
    context, batch = archive
    queue_items(context, batch, box(tmp_path / "uploads", 6))
    serve = ["serve", "--port", str(free_port())]
    server = start(
        tmp_path,
        context.settings.home_dir,
        serve,
        DANGAN_FAILPOINTS="job.ocr_done=sleep:2",
        DANGAN_FAULTS__SHUTDOWN_GRACE_SECONDS="1",
    )
    wait_for(lambda: "processing" in states(context), "a job in hand")
    code, seconds = stop(server)
    print(f"serve exited {code} {seconds:.1f} s after SIGTERM: {states(context)}")
    assert code == 130 and "processing" not in states(context)
    again = start(tmp_path, context.settings.home_dir, ["serve", "--port", str(free_port())])
    try:
        wait_for(lambda: all(state == "done" for state in states(context)), "the restarted server to file all")
    finally:
        assert stop(again)[0] == 130
    assert counts(context, "sigterm serve") == {"acknowledged": 6, "filed": 6, "duplicates": 0, "stuck": 0}


def test_a_job_whose_runner_is_killed_each_time_ends_failed(tmp_path: Path, archive: tuple[Context, int]) -> None:
    context, batch = archive
    scans = box(tmp_path / "scans", 1)
    ingest = ["ingest", str(scans), "--batch", str(batch), "--json"]
    deadly = {"DANGAN_FAILPOINTS": "job.claimed=crash", "DANGAN_FAULTS__JOB_LEASE_SECONDS": "1"}
    for death in range(1, POISON_LEASES + 1):
        runner = start(tmp_path, context.settings.home_dir, ingest, **deadly)
        code, _ = finish(runner)
        kill_group(runner)  # its fork server and workers too
        assert code == -signal.SIGKILL, code
        (job,) = jobs(context)
        assert job.state == "processing" and job.lost_leases == death - 1
    # The next start (not a new ingest of the same folder: once failed, the file could be queued anew at once)
    code, output = finish(start(tmp_path, context.settings.home_dir, ["jobs", "run", "--json"], **deadly))
    (job,) = jobs(context)
    assert job.state == "failed" and job.lost_leases == POISON_LEASES, job.error
    reason = str(job.error)
    assert f"its worker died {POISON_LEASES} times" in reason and f"dangan jobs retry {job.id}" in reason
    assert code == 7 and output["jobs"][0]["state"] == "failed"  # type: ignore[index]
    assert counts(context, "poison") == {"acknowledged": 1, "filed": 0, "duplicates": 0, "stuck": 0}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
