"""Read throughput and latency of `dangan serve` on loopback: 1 and 16 concurrent clients, one HTTP process
(the old configuration, the reference) and one per core (the new default), measured in the same run.

The archive: the three sample documents of `dangan sample` (an English page, a Chinese page, a two-page
record), ingested with real OCR. Each client is a thread with its own keep-alive connection (httpx) that
cycles through a search, a document's metadata and a document's page text (`/text`; where the server has no
such route, the PDF download instead, and the table says so) for a fixed time. Every request is a read that
appends its audit event. Prints throughput, p50/p95/p99 and errors side by side, the 16/1 ratio of each
configuration, and the load average (the machine may be shared).

Usage: python -m bench.bench_api [SECONDS_PER_RUN]    (default 15)
Goals (issue 11 item 9): 16 clients p99 <= 200 ms with 0 errors; 16-client throughput >= 1.6x the 1-client one.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from api.access.accounts import AccountService
from api.access.users import UserService
from api.cli.ingesting import ingest_paths
from api.ingest.batches import BatchService
from api.ingest.intake import IngestRequest
from api.wiring import build_context
from archive.models import Document
from archive.values import Role
from ingest.samples import write_sample_batch
from storage_config.settings import Settings

DANGAN = Path(sys.executable).parent / "dangan"
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
CLIENTS = (1, 16)
QUERIES = ("retention", "personnel files", "档案", "committee", "records officer", "数字化")
PASSWORD = "bench password of some length"


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # used by the server's processes during the run

    def cpu_line(self) -> str:
        """Server CPU per request, and the cores it got: on a shared machine, the figure that travels."""
        per_request = 1000 * self.cpu_seconds / max(1, len(self.latencies))
        return f"{per_request:8.1f} {self.cpu_seconds / self.seconds:6.2f}"

    def line(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        rate = len(ms) / self.seconds if self.seconds else 0.0
        if not ms:
            return f"{rate:9.1f} {'-':>8} {'-':>8} {'-':>8} {self.errors:7d}"
        q = statistics.quantiles(ms, n=100, method="inclusive")
        return f"{rate:9.1f} {q[49]:8.1f} {q[94]:8.1f} {q[98]:8.1f} {self.errors:7d}"

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles([x * 1000 for x in self.latencies], n=100, method="inclusive")[98]


def build_archive(home: Path) -> tuple[str, list[int]]:
    """The three sample documents, filed through the real ingest path; an archivist's token."""
    context = build_context(Settings(home=home, workers=2))
    try:
        from api.preservation.maintenance import MaintenanceService

        MaintenanceService(context).initialise()
        users = UserService(context)
        users.bootstrap()
        AccountService(context).create(
            actor=users.officer(Role.SECADMIN),
            username="reader",
            password=PASSWORD,
            roles=["archivist"],
            clearance="top_secret",
        )
        reader = users.principal("reader")
        batch = BatchService(context).create(actor=reader, fonds="F001", languages="chi_sim+eng").id
        scans = write_sample_batch(home.parent / "scans")
        ingest_paths(context, IngestRequest(paths=list(scans), batch_id=batch), actor=reader)
        with context.db.read() as session:
            ids = list(session.scalars(select(Document.id).order_by(Document.id)))
        return str(users.issue_token(reader, "reader", label="bench").token), ids
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")} | {"DANGAN_HOME": str(home)}
    process = subprocess.Popen(
        [str(DANGAN), "serve", "--workers", str(workers), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(home.parent / f"serve-{workers}.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server with {workers} workers did not start; see {home.parent}/serve-{workers}.log")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and every process below it (HTTP workers, OCR workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                todo.append(child)
    return sum(used.get(p, 0.0) for p in tree)


def request_paths(url: str, token: str, documents: list[int]) -> tuple[list[str], str]:
    """The cycle of reads; page text through /text when the server has that route, else the PDF."""
    headers = {"Authorization": f"Bearer {token}"}
    text_route = httpx.get(f"{url}/api/v1/documents/{documents[0]}/text", headers=headers, timeout=30)
    third = "text" if text_route.status_code == 200 else "pdf"
    paths: list[str] = []
    for number, query in enumerate(QUERIES):
        document = documents[number % len(documents)]
        paths += [f"/api/v1/search?q={query}", f"/api/v1/documents/{document}", f"/api/v1/documents/{document}/{third}"]
    return paths, third


def drive(url: str, token: str, paths: list[str], clients: int, seconds: float) -> Run:
    run = Run()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(offset: int) -> None:
        latencies: list[float] = []
        errors = 0
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            http.get("/healthz")  # connect before the clock starts
            start.wait()
            number = offset
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                try:
                    answer = http.get(paths[number % len(paths)])
                    answer.read()
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += 0 if ok else 1
                number += 1
        with lock:
            run.latencies += latencies
            run.errors += errors

    threads = [threading.Thread(target=client, args=(n * 7,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    return run


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        home = Path(tmp) / "var"
        print(f"building the archive (3 sample documents, real OCR) in {home} ...", flush=True)
        token, documents = build_archive(home)
        results: dict[tuple[int, int], Run] = {}
        third = "pdf"
        for workers in (1, cores):
            process, url = start_server(home, workers)
            try:
                paths, third = request_paths(url, token, documents)
                drive(url, token, paths, 4, 2.0)  # warm-up: searchers opened, caches filled
                for clients in CLIENTS:
                    cpu_before = server_cpu_seconds(process.pid)
                    results[workers, clients] = drive(url, token, paths, clients, SECONDS)
                    results[workers, clients].cpu_seconds = server_cpu_seconds(process.pid) - cpu_before
                    print(f"  {workers} process(es), {clients:2d} clients: done", flush=True)
            finally:
                process.terminate()
                process.wait(60)
        load = os.getloadavg()
        print(f"\n{len(documents)} documents; each client cycles search / metadata / {third}; {SECONDS:.0f} s per run")
        print(f"cores: {cores}; load average after the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print(
            f"{'configuration':28} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
            f" {'CPU ms/req':>10} {'cores':>6}"
        )
        for (workers, clients), run in results.items():
            label = f"{workers} process{'es' if workers > 1 else ''}, {clients} client{'s' if clients > 1 else ''}"
            print(f"{label:28} {run.line()}   {run.cpu_line()}")
        print("(CPU ms/req: server CPU per request; cores: the CPU the server got, of the machine's", cores, ")")
        for workers in (1, cores):
            one, many = results[workers, 1], results[workers, 16]
            print(f"{workers} process(es): 16-client / 1-client throughput = {many.rate / one.rate:.2f}x")
        new_one, new_many = results[cores, 1], results[cores, 16]
        old_many = results[1, 16]
        print(f"16 clients, {cores} vs 1 process: {new_many.rate / old_many.rate:.2f}x throughput")
        print(
            f"goals: p99 {new_many.p99_ms:.0f} ms <= 200 with 0 errors ({new_many.errors}): "
            f"{'met' if new_many.p99_ms <= 200 and new_many.errors == 0 else 'NOT met'}; "
            f"ratio {new_many.rate / new_one.rate:.2f}x >= 1.6: "
            f"{'met' if new_many.rate / new_one.rate >= 1.6 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
