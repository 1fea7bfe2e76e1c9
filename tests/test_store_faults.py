"""The object store unreachable or slow, for real: a TCP fault proxy (tests/faultproxy.py) in front of the moto S3
server adds latency, drops or resets connections, or swallows them (a blackhole).

Store calls end within a bound as 503/504-class errors; the circuit breaker opens after a call used up its
retries (then no call reaches the network: the proxy counts every request) and closes after a good probe;
uploads answer 503 with Retry-After while it is open, and health, search, metadata and the audit log never
touch the store; an ingest with the store blackholed midway ends with exit 8 and retrying jobs that are all
filed exactly once when the store is back. The bounds asserted are generous (ten times what is expected):
they say "does not hang", not "is fast" (figures: bench/bench_store_faults.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from api.http.app import create_app
from api.ingest.service import IngestService
from api.preservation.maintenance import MaintenanceService
from api.runners.local import LocalJobRunner
from api.wiring import Context, build_context
from archive.errors import StorageTimeout, StorageUnavailable
from archive.keys import OBJECT_PREFIX
from archive.models import Document, IngestJob, StoredObject
from archive.values import JobState
from storage_config.resilience import BreakerState, ResilientStore
from storage_config.settings import FaultOptions, S3Options, Settings, StorageOptions
from storage_config.stores import open_store
from tests import actors
from tests.faultproxy import FaultProxy, fault_proxy
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, english_page, render
from tests.s3server import S3Endpoint

TIMEOUT = 0.5  # seconds per store call
RETRIES = 1
BREAKER = 1.5
# A call that meets a fault ends after at most (RETRIES + 1) timeouts and the backoff between: about 1.5 s.
BOUND = 15.0
WAIT = 20.0  # for anything polled
ITEMS = 10
PATIENCE = 4.0  # DANGAN_FAULTS__RETRY_MAX_SECONDS of the CLI in the blackhole test
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def proxy(s3_server: S3Endpoint) -> Iterator[FaultProxy]:
    with fault_proxy(s3_server.host, s3_server.port) as running:
        yield running


def settings_for(
    home: Path, server: S3Endpoint, proxy: FaultProxy, *, bucket: str | None = None, breaker: float = BREAKER
) -> Settings:
    s3 = S3Options(
        endpoint=proxy.endpoint,
        bucket=bucket or f"faults-{uuid.uuid4().hex[:12]}",
        access_key=SecretStr(server.access_key),
        secret_key=SecretStr(server.secret_key),
        secure=False,
        region=server.region,
    )
    faults = FaultOptions(
        store_timeout_seconds=TIMEOUT, store_retries=RETRIES, store_breaker_seconds=breaker, retry_first_seconds=0.0
    )
    return Settings(home=home, workers=2, ocr_engine="null", storage=StorageOptions(backend="s3", s3=s3), faults=faults)


def resilient_store(tmp_path: Path, server: S3Endpoint, proxy: FaultProxy) -> ResilientStore:
    store = open_store(settings_for(tmp_path, server, proxy))
    assert isinstance(store, ResilientStore)
    store.put_bytes("present", b"here")
    return store


def timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT} s")
        time.sleep(0.05)


# --- the store itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected", "status"),
    [
        ("blackhole", StorageTimeout, 504),
        ("slow", StorageTimeout, 504),
        ("drop", StorageUnavailable, 503),
        ("reset", StorageUnavailable, 503),
    ],
)
def test_every_call_ends_within_a_bound_as_503_or_504(
    tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy, fault: str, expected: type, status: int
) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: store.put_bytes("k", b"v"),
        lambda: store.put_file("f", tmp_path / "source"),
        lambda: store.open_read("present"),
        lambda: store.stat("present"),
        lambda: store.delete("present"),
        lambda: list(store.iter_keys()),
    ]
    (tmp_path / "source").write_bytes(b"a file")
    for call in calls:
        store = resilient_store(tmp_path, s3_server, proxy)  # a fresh breaker: each call meets the fault itself
        if fault == "slow":
            proxy.slow(latency_ms=TIMEOUT * 1000 * 3)
        else:
            getattr(proxy, fault)()
        before = proxy.faults
        raised, seconds = timed(call)
        proxy.pass_through()
        assert type(raised) is expected, raised
        assert isinstance(raised, StorageUnavailable) and raised.http_status == status
        assert seconds < BOUND
        assert proxy.endpoint in raised.message
        if fault != "slow":
            assert proxy.faults - before == RETRIES + 1  # tried, retried once, then given up
        assert store.breaker.state is BreakerState.OPEN


def test_latency_under_the_timeout_only_slows_calls(tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy) -> None:
    store = resilient_store(tmp_path, s3_server, proxy)
    proxy.slow(latency_ms=50)
    assert store.put_bytes("slowly", b"still fine").size == 10
    with store.open_read("slowly") as stream:
        assert stream.read() == b"still fine"
    assert store.breaker.state is BreakerState.CLOSED


def test_the_breaker_fails_calls_at_once_then_a_probe_closes_it(
    tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy
) -> None:
    store = resilient_store(tmp_path, s3_server, proxy)
    proxy.blackhole()
    with pytest.raises(StorageTimeout):
        store.stat("present")
    seen = proxy.seen
    for _ in range(20):  # while open: refused without a byte on the wire
        with pytest.raises(StorageUnavailable) as refused:
            store.put_bytes(f"objects/{uuid.uuid4().hex}", b"x")
        assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= BREAKER + 1
        assert "refused for" in refused.value.message
    assert proxy.seen == seen
    with pytest.raises(StorageUnavailable):
        store.check_available()

    wait_until(lambda: store.breaker.state is BreakerState.HALF_OPEN, "the breaker going half-open")
    with pytest.raises(StorageTimeout):  # a failed probe is one try, not a round of retries
        store.stat("present")
    assert proxy.seen == seen + 1
    assert store.breaker.state is BreakerState.OPEN

    proxy.pass_through()
    wait_until(lambda: store.breaker.state is BreakerState.HALF_OPEN, "the breaker going half-open again")
    store.check_available()
    assert store.stat("present") is not None  # the probe succeeds: closed
    assert store.breaker.state is BreakerState.CLOSED
    assert store.put_bytes("after", b"back").size == 4


def test_threads_meeting_an_open_breaker_all_fail_fast(
    tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy
) -> None:
    store = resilient_store(tmp_path, s3_server, proxy)
    proxy.drop()
    with pytest.raises(StorageUnavailable):
        store.stat("present")
    seen = proxy.seen
    outcomes: list[BaseException | None] = []
    lock = threading.Lock()

    def call() -> None:
        raised, _ = timed(lambda: store.put_bytes(f"t/{uuid.uuid4().hex}", b"x"))
        with lock:
            outcomes.append(raised)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert len(outcomes) == 16 and all(isinstance(o, StorageUnavailable) for o in outcomes)
    assert proxy.seen == seen


# --- the HTTP API while the store is down ----------------------------------------------------------------


@pytest.fixture
def archive_on_proxy(tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy) -> Iterator[Context]:
    context = build_context(settings_for(tmp_path / "var", s3_server, proxy, breaker=30.0))
    MaintenanceService(context).initialise()
    yield context
    context.close()


def test_uploads_get_503_with_retry_after_and_reads_never_touch_the_store(
    archive_on_proxy: Context, proxy: FaultProxy, tmp_path: Path
) -> None:
    context = archive_on_proxy
    page = english_page(tmp_path / "in")
    filed = ingest_paths(context, [page.path], actor=actors.ARCHIVIST, languages="eng")
    document_id = filed.jobs[0].document_id
    admin = actors.bearer(context, "keeper", ["archivist"])
    auditor = actors.bearer(context, "auditor")
    upload = english_page(tmp_path / "new", name="new-scan.jpg").path
    with TestClient(create_app(context, runner=_QueueOnly())) as client:
        assert client.get("/healthz").json() == {"status": "ok", "store": "available"}

        proxy.blackhole()  # down, and nobody knows yet: reads must not find out the slow way
        seen = proxy.seen
        reads = {
            "health": lambda: client.get("/healthz"),
            "search": lambda: client.get("/api/v1/search", params={"q": '"payroll registers"'}, headers=admin),
            "metadata": lambda: client.get(f"/api/v1/documents/{document_id}", headers=admin),
            "job": lambda: client.get(f"/api/v1/jobs/{filed.jobs[0].id}", headers=admin),
            "audit log": lambda: client.get("/api/v1/audit/events", headers=auditor),
        }
        for name, read in reads.items():
            assert read().status_code == 200, name
        assert client.get("/api/v1/search", params={"q": '"payroll registers"'}, headers=admin).json()["total"] == 1
        assert proxy.seen == seen  # not one of them reached the store

        download = client.get(f"/api/v1/documents/{document_id}/original", headers=admin)  # this one needs it
        assert download.status_code == 504, download.text
        assert download.json()["error"] == "storage_timeout"
        assert client.get("/healthz").json() == {"status": "ok", "store": "unavailable"}

        with upload.open("rb") as body:
            refused = client.post("/api/v1/documents", headers=admin, files={"file": (upload.name, body)})
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "storage_unavailable"
        assert 1 <= int(refused.headers["Retry-After"]) <= 30
        again = client.get(f"/api/v1/documents/{document_id}/original", headers=admin)
        assert again.status_code == 503 and int(again.headers["Retry-After"]) >= 1
        for name, read in reads.items():
            assert read().status_code == 200, name
        assert proxy.seen == seen + RETRIES + 1  # only the first download tried the network

    incoming = context.settings.spool_dir / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 1  # the refused upload made no job


class _QueueOnly:
    """A runner that only records: the upload test runs no jobs."""

    def submit(self, job_id: int) -> Any:
        from concurrent.futures import Future

        done: Future[None] = Future()
        done.set_result(None)
        return done

    def shutdown(self, *, wait: bool = True) -> None:
        pass


# --- an ingest with the store blackholed midway -------------------------------------------------------


def cli_environment(settings: Settings) -> dict[str, str]:
    s3, faults = settings.storage.s3, settings.faults
    return os.environ | {
        "DANGAN_OCR_ENGINE": "null",
        "DANGAN_WORKERS": "2",
        "DANGAN_STORAGE__BACKEND": "s3",
        "DANGAN_STORAGE__S3__ENDPOINT": s3.endpoint,
        "DANGAN_STORAGE__S3__BUCKET": s3.bucket,
        "DANGAN_STORAGE__S3__ACCESS_KEY": s3.access_key.get_secret_value(),
        "DANGAN_STORAGE__S3__SECRET_KEY": s3.secret_key.get_secret_value(),
        "DANGAN_STORAGE__S3__SECURE": "false",
        "DANGAN_STORAGE__S3__REGION": s3.region or "",
        "DANGAN_FAULTS__STORE_TIMEOUT_SECONDS": str(faults.store_timeout_seconds),
        "DANGAN_FAULTS__STORE_RETRIES": str(faults.store_retries),
        "DANGAN_FAULTS__STORE_BREAKER_SECONDS": str(faults.store_breaker_seconds),
        "DANGAN_FAULTS__RETRY_FIRST_SECONDS": "0",
        "DANGAN_FAULTS__RETRY_MAX_SECONDS": str(PATIENCE),
    }


def test_an_ingest_with_the_store_blackholed_midway_waits_then_files_every_item_once(
    tmp_path: Path, s3_server: S3Endpoint, proxy: FaultProxy
) -> None:
    # The breaker stays open longer than the CLI's patience: the jobs it refused wait for it (their not_before),
    # and the CLI, seeing no job end for PATIENCE seconds, leaves them `retrying` and says so.
    settings = settings_for(tmp_path / "var", s3_server, proxy, breaker=PATIENCE * 2)
    context = build_context(settings)
    MaintenanceService(context).initialise()
    actors.account(context, "archivist", ["archivist"])
    box = tmp_path / "box"
    for n in range(ITEMS):
        render(box, f"item-{n}.png", f"Item number {n} of the store box. " + ENGLISH_TEXT, "eng", seed=60 + n)

    proxy.blackhole_after(40)  # about four items' objects (put, stat, read back: 3 objects each), then silence
    command = [sys.executable, "-m", "api.cli", "--home", str(settings.home_dir), "--user", "archivist"]
    run = subprocess.run(
        [*command, "ingest", str(box), "--lang", "eng"],
        env=cli_environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    faults = proxy.faults
    assert run.returncode == StorageUnavailable.exit_code, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    note = [line for line in run.stdout.splitlines() if "were kept, not lost, and wait" in line]
    assert len(note) == 1 and proxy.endpoint in note[0] and "`dangan jobs run`" in note[0], run.stdout

    with context.db.session() as session:
        states = list(session.scalars(select(IngestJob.state)))
    acknowledged = len(states)
    assert acknowledged == ITEMS
    assert JobState.FAILED not in states and JobState.PROCESSING not in states and JobState.QUEUED not in states
    waiting = states.count(JobState.RETRYING)
    assert 1 <= waiting < ITEMS and states.count(JobState.DONE) == ITEMS - waiting

    proxy.pass_through()  # the store is back: the waiting jobs run when due, on any runner
    service = IngestService(context)
    wait_until(lambda: len(service.runnable_job_ids()) == waiting, "the waiting jobs coming due")
    due = service.runnable_job_ids()  # due once the breaker's interval is over (nothing claimed them in between)
    assert len(due) == waiting
    runner = LocalJobRunner(service, workers=1)
    try:
        for future in [runner.submit(job_id) for job_id in due]:
            future.result(timeout=120)
    finally:
        runner.shutdown()

    with context.db.session() as session:
        states = list(session.scalars(select(IngestJob.state)))
        names = list(session.scalars(select(Document.original_filename)))
        keys = set(session.scalars(select(StoredObject.key)))
        objects = session.scalar(select(func.count()).select_from(StoredObject))
    stuck = sum(1 for state in states if state not in (JobState.DONE, JobState.NEEDS_REVIEW, JobState.FAILED))
    duplicates = len(names) - len(set(names))
    counts = {"faults": faults, "acknowledged": acknowledged, "filed": len(names), "dupes": duplicates, "stuck": stuck}
    print(f"store blackholed midway: {counts}\n{note[0]}")
    assert sorted(names) == sorted(f"item-{n}.png" for n in range(ITEMS)), counts
    assert duplicates == 0 and stuck == 0 and states.count(JobState.DONE) == ITEMS, counts
    assert faults > 0
    assert objects == ITEMS * 3
    stored = set(context.store.iter_keys(OBJECT_PREFIX))
    assert stored == keys  # no object without a row, no row without an object
    context.close()
