"""Jobs that need attention, made for real: failed (the OCR worker killed every time), retrying (the object store
on a full filesystem), stuck (the process running the job killed with SIGKILL mid-job)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from api.ingest.service import IngestService
from api.runners.local import LocalJobRunner
from api.wiring import Context, build_context
from archive.access import Principal
from archive.models import IngestJob, utcnow
from ingest.engines.sidecar import sidecar_path
from ingest.grouping import PlannedItem
from storage_config.settings import FaultOptions, Settings
from tests import crashing_engine

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 120


def submit(
    context: Context, actor: Principal, batch_id: int, paths: Sequence[Path], *, departments: Sequence[str] = ()
) -> list[int]:
    service = IngestService(context)
    return [
        service.submit_item(batch_id, PlannedItem(path.name, (path,)), actor=actor, departments=departments).id
        for path in paths
    ]


def failed_jobs(
    context: Context, actor: Principal, batch_id: int, paths: Sequence[Path], *, departments: Sequence[str] = ()
) -> list[int]:
    """Each item's job failed for real: its OCR worker process is SIGKILLed on every try."""
    ids = submit(context, actor, batch_id, paths, departments=departments)
    runner = LocalJobRunner(IngestService(context), workers=1, ocr_function=crashing_engine.killed_always)
    try:
        for job_id in ids:
            runner.submit(job_id).result(timeout=WAIT_SECONDS)
    finally:
        runner.shutdown()
    with context.db.read() as session:
        states = set(session.scalars(select(IngestJob.state).where(IngestJob.id.in_(ids))))
    assert states == {"failed"}, states
    return ids


def keep_spooled_copy(context: Context, job_id: int, source: Path) -> None:
    """A failed job keeps its spooled copy (track A of issue 12 makes processing keep it). Where this checkout's
    processing still removes it, put the item's file back where the job had it, as the intake laid it out."""
    with context.db.read() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None and job.spool_path
        spool, names = Path(job.spool_path), [str(name) for name in job.options["spooled"]]  # type: ignore[attr-defined]
    if all((spool / name).is_file() for name in names):
        return
    assert len(names) == 1, names
    spool.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, spool / names[0])
    if sidecar_path(source).is_file():
        shutil.copyfile(sidecar_path(source), sidecar_path(spool / names[0]))


def lose_spooled_copy(context: Context, job_id: int) -> None:
    """As jobs that failed before failed jobs kept their file: the spooled copy is gone."""
    with context.db.read() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None and job.spool_path
        spool = Path(job.spool_path)
    shutil.rmtree(spool, ignore_errors=True)


@contextlib.contextmanager
def full_object_store(home: Path) -> Iterator[None]:
    """The local object store on an 8 KB filesystem: every write of a scan fails with ENOSPC until it ends."""
    objects = home / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(objects)], check=False)
    if mounted.returncode != 0:
        pytest.fail(f"could not mount a small tmpfs at {objects} (the fault tests run as root): {mounted.returncode}")
    try:
        (objects / ".tmp").mkdir()
        yield
    finally:
        subprocess.run(["umount", str(objects)], check=True)


def retrying_job(home: Path, actor: Principal, batch_id: int, path: Path) -> int:
    """A job that met a passing fault (the store's disk full) and waits at least 150 s for its next try."""
    faults = FaultOptions(retry_first_seconds=300, retry_max_seconds=300)
    context = build_context(Settings(home=home, workers=1, ocr_engine="null", faults=faults))
    try:
        [job_id] = submit(context, actor, batch_id, [path])  # accepted first: the free-space check would refuse it
        with full_object_store(home):
            runner = LocalJobRunner(IngestService(context), workers=1)
            try:
                runner.submit(job_id).result(timeout=WAIT_SECONDS)
            finally:
                runner.shutdown()
        with context.db.read() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None and job.state == "retrying", (job and job.state, job and job.error)
        return job_id
    finally:
        context.close()


KILL_MID_JOB = """
import os, signal, sys
from api.ingest.service import IngestService
from api.wiring import build_context, load_settings

def killed(request):
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9 of the process running the job, in the middle of it

IngestService(build_context(load_settings())).process_job(int(sys.argv[1]), killed)
"""


def stuck_job(home: Path, job_id: int) -> None:
    """Run a queued job in a process that is SIGKILLed in the middle of it (with a one-second lease, where
    leases are held); then wait until no live lease holds the job."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DANGAN_HOME": str(home),
        "DANGAN_OCR_ENGINE": "null",
        "DANGAN_FAULTS__JOB_LEASE_SECONDS": "1",
    }
    done = subprocess.run([sys.executable, "-c", KILL_MID_JOB, str(job_id)], env=env, timeout=WAIT_SECONDS, check=False)
    assert done.returncode == -9, done
    context = build_context(Settings(home=home, ocr_engine="null"))
    try:
        deadline = time.monotonic() + 30
        while True:
            with context.db.read() as session:
                job = session.get(IngestJob, job_id)
                assert job is not None and job.state == "processing", job and job.state
                expiry = job.lease_expires_at
            if expiry is None or expiry < utcnow() or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        context.close()
