"""The object store slow or dead, on loopback: what the API's reads feel, and what a dead store costs per call.

moto's S3 server behind the TCP fault proxy of tests/faultproxy.py; the archive (null OCR engine, one filed
item) on that S3 store, served by uvicorn on 127.0.0.1 in this process. Three store conditions, one after the
other: healthy (the reference), slow (+500 ms on every answer of the store) and blackholed (connections taken,
never answered). In each, a keep-alive client times REQUESTS calls of the health check and of a document's
metadata (a read that does not touch the store), and prints p50/p99 and the ratio to the healthy run.

Then, with the store blackholed, the time the N-th consecutive store call (a stat) takes to fail: through the
ResilientStore with its circuit breaker (the first call uses its retries and opens it; the later ones fail at
once) and with the breaker off (store_breaker_seconds = 0: every call waits out its timeouts and retries);
and the requests each sent (counted by the proxy).
Store settings for the run: timeout 0.5 s, 2 retries, breaker 15 s.

Usage: python -m bench.bench_store_faults [REQUESTS]    (default 100)
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr

from api.access.accounts import AccountService
from api.access.users import UserService
from api.http.app import create_app
from api.ingest.intake import IngestRequest, Intake
from api.preservation.maintenance import MaintenanceService
from api.runners.local import local_runner
from api.wiring import Context, build_context
from archive.errors import StorageUnavailable
from archive.values import Role
from ingest.engines.sidecar import sidecar_path
from ingest.samples import SamplePage, render_page
from storage_config.settings import FaultOptions, S3Options, Settings, StorageOptions
from storage_config.stores import open_store
from tests.faultproxy import FaultProxy, fault_proxy
from tests.s3server import S3Endpoint, running_s3_server

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SLOW_MS = 500
NTH = 4  # the N-th consecutive failing store call
FAULTS = FaultOptions(store_timeout_seconds=0.5, store_retries=2, store_breaker_seconds=15.0)
TEXT = "Municipal Records Office. Retention schedule for personnel files. Payroll registers are kept for ten years."


class _NoRunner:
    def submit(self, job_id: int) -> Future[None]:
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def shutdown(self, *, wait: bool = True) -> None:
        pass


def settings_for(home: Path, server: S3Endpoint, proxy: FaultProxy, faults: FaultOptions = FAULTS) -> Settings:
    s3 = S3Options(
        endpoint=proxy.endpoint,
        bucket=f"bench-{uuid.uuid4().hex[:12]}",
        access_key=SecretStr(server.access_key),
        secret_key=SecretStr(server.secret_key),
        secure=False,
        region=server.region,
    )
    return Settings(home=home, workers=1, ocr_engine="null", storage=StorageOptions(backend="s3", s3=s3), faults=faults)


def prepare(context: Context, folder: Path) -> tuple[str, int]:
    """An archivist's token and the id of one filed document."""
    MaintenanceService(context).initialise()
    users = UserService(context)
    users.bootstrap()
    AccountService(context).create(
        actor=users.officer(Role.SECADMIN),
        username="bench-archivist",
        password="bench password of some length",
        roles=[Role.ARCHIVIST.value],
        clearance="top_secret",
    )
    archivist = users.principal("bench-archivist")
    scan = folder / "schedule.png"
    folder.mkdir(parents=True, exist_ok=True)
    render_page(SamplePage(TEXT, "eng"), height_mm=70, font_pt=14, seed=3).save(scan, dpi=(300, 300))
    sidecar_path(scan).write_text(TEXT, encoding="utf-8")
    run = Intake(context).ingest_paths(
        IngestRequest(paths=[scan], languages="eng"), actor=archivist, runner=local_runner
    )
    document_id = run.jobs[0].document_id
    assert document_id is not None, run
    return str(users.issue_token(archivist, "bench-archivist", label="bench").token), document_id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return 1000 * statistics.median(latencies), 1000 * cuts[98]


def timed_gets(http: httpx.Client, path: str, headers: dict[str, str]) -> tuple[float, float, int]:
    latencies, errors = [], 0
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = http.get(path, headers=headers)
        latencies.append(time.perf_counter() - started)
        errors += response.status_code != 200
    p50, p99 = percentiles(latencies)
    return p50, p99, errors


def nth_failure_seconds(store_call: Callable[[], object]) -> float:
    """Seconds the NTH consecutive call takes to fail (each must fail as StorageUnavailable)."""
    seconds = 0.0
    for _ in range(NTH):
        started = time.perf_counter()
        try:
            store_call()
        except StorageUnavailable:
            seconds = time.perf_counter() - started
        else:
            raise AssertionError("a store call through the blackhole succeeded")
    return seconds


def reads(url: str, token: str, document_id: int, proxy: FaultProxy) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    paths = {"health": "/healthz", "metadata": f"/api/v1/documents/{document_id}"}
    conditions: dict[str, Callable[[], None]] = {
        "healthy": proxy.pass_through,
        f"slow +{SLOW_MS} ms": lambda: proxy.slow(SLOW_MS),
        "blackholed": proxy.blackhole,
    }
    reference: dict[str, float] = {}
    print(f"{'store':<16}{'read':<10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'p50 x':>8}{'p99 x':>8}")
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in [*paths.values()] * 20:  # connect, warm up, and the first checkpoint look, before the clock
            http.get(path, headers=headers)
        seen = proxy.seen
        for condition, switch in conditions.items():
            switch()
            for name, path in paths.items():
                p50, p99, errors = timed_gets(http, path, headers)
                reference.setdefault(f"{name}50", p50)
                reference.setdefault(f"{name}99", p99)
                ratio50, ratio99 = p50 / reference[f"{name}50"], p99 / reference[f"{name}99"]
                print(f"{condition:<16}{name:<10}{p50:9.2f}{p99:9.2f}{errors:8d}{ratio50:8.2f}{ratio99:8.2f}")
    print(f"store requests made by these {len(conditions) * len(paths) * REQUESTS} reads: {proxy.seen - seen}")
    proxy.pass_through()


def dead_store_cost(home: Path, server: S3Endpoint, proxy: FaultProxy) -> None:
    with_breaker = open_store(settings_for(home / "a", server, proxy))
    no_breaker_faults = FAULTS.model_copy(update={"store_breaker_seconds": 0})
    without = open_store(settings_for(home / "b", server, proxy, no_breaker_faults))
    proxy.blackhole()
    seen = proxy.seen
    breaker = nth_failure_seconds(lambda: with_breaker.stat("absent"))
    breaker_calls = proxy.seen - seen
    seen = proxy.seen
    no_breaker = nth_failure_seconds(lambda: without.stat("absent"))
    plain_calls = proxy.seen - seen
    proxy.pass_through()
    print(f"call #{NTH} to a blackholed store fails in {1000 * breaker:.3f} ms with the breaker open, ")
    print(f"  {1000 * no_breaker:.0f} ms without (ratio {no_breaker / max(breaker, 1e-9):.0f}x); requests sent for")
    print(f"  {NTH} calls: {breaker_calls} with the breaker, {plain_calls} without")


def main() -> None:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-store-") as scratch,
        running_s3_server() as server,
        fault_proxy(server.host, server.port) as proxy,
    ):
        context = build_context(settings_for(Path(scratch) / "var", server, proxy))
        token, document_id = prepare(context, Path(scratch) / "in")
        port = free_port()
        app = create_app(context, runner=_NoRunner())
        served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
        thread = threading.Thread(target=served.run, daemon=True)
        thread.start()
        while not served.started:
            time.sleep(0.05)
        try:
            print(f"{REQUESTS} sequential requests per row; store timeout 0.5 s, 2 retries, breaker 15 s")
            reads(f"http://127.0.0.1:{port}", token, document_id, proxy)
            dead_store_cost(Path(scratch), server, proxy)
        finally:
            served.should_exit = True
            thread.join(10)
            context.close()
    print(f"({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
