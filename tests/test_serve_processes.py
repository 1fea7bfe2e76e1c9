"""Two real `dangan serve` processes on loopback against one archive: one job runner between them (each job
processed exactly once, by one process), and metadata changed through both at the same moment leaves the
catalogue, the search index and the audit chain in agreement."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.access.auditing import AuditService
from archive.models import AuditEvent, Document, IngestJob
from tests.actors import AUDITOR, account, token
from tests.conftest import make_context
from tests.pages import ENGLISH_TEXT, render

DANGAN = Path(sys.executable).parent / "dangan"
UPLOADS_PER_SERVER = 2
ROUNDS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@dataclass
class Installation:
    home: Path
    servers: list[subprocess.Popen[bytes]]
    urls: list[str]
    headers: dict[str, str]
    jobs: list[int]  # queued through the first and the second server alternately


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def wait_for_jobs(client: httpx.Client, job_ids: list[int]) -> None:
    deadline = time.monotonic() + 300
    for job_id in job_ids:
        while not ended_and_indexed(job := client.get(f"/api/v1/jobs/{job_id}").json()):
            assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
            time.sleep(0.3)


def ended_and_indexed(job: dict[str, Any]) -> bool:
    """Failed, or filed with its document in the search index (which follows the filing by a moment)."""
    if job["state"] in ("queued", "processing", "retrying"):
        return False
    return job["state"] == "failed" or bool(job["searchable"])


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    home = tmp_path_factory.mktemp("serve") / "var"
    context = make_context(home)
    account(context, "archivist", ["archivist"])
    headers = {"Authorization": f"Bearer {token(context, 'archivist')}"}
    context.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env |= {"DANGAN_HOME": str(home), "DANGAN_WORKERS": "1", "DANGAN_OCR_LANGUAGES": "eng"}
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(DANGAN), "serve", "--workers", "1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(home.parent / f"server-{port}.log").open("wb"),
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, server in zip(urls, servers, strict=True):
            wait_until_up(url, server)
        jobs = []
        for number in range(UPLOADS_PER_SERVER * 2):
            page = render(home.parent / "scans", f"page-{number}.png", ENGLISH_TEXT, "eng", seed=number)
            answer = httpx.post(
                f"{urls[number % 2]}/api/v1/documents",
                headers=headers,
                files={"file": (page.name, page.read_bytes(), "image/png")},
                data={"title": f"page {number}"},
                timeout=60,
            )
            assert answer.status_code == 202, answer.text
            jobs.append(int(answer.json()["id"]))
        with httpx.Client(base_url=urls[1], headers=headers, timeout=30) as client:
            wait_for_jobs(client, jobs)
        yield Installation(home, servers, urls, headers, jobs)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()


def test_one_process_runs_the_jobs_each_exactly_once(installation: Installation) -> None:
    context = make_context(installation.home)
    try:
        with context.db.read() as session:
            jobs = list(session.scalars(select(IngestJob).where(IngestJob.id.in_(installation.jobs))))
            processed = Counter(session.scalars(select(AuditEvent.target).where(AuditEvent.action == "ingest.process")))
            documents = list(session.scalars(select(Document.id)))
    finally:
        context.close()
    assert all(job.state in ("done", "needs_review") for job in jobs), [(j.id, j.state, j.error) for j in jobs]
    assert len(jobs) == len(installation.jobs)
    assert [job.attempts for job in jobs] == [1] * len(jobs)  # claimed once: never by both processes
    assert processed == Counter({f"document:{job.document_id}": 1 for job in jobs})  # each filed once
    assert len(documents) == len(installation.jobs)
    running_ocr = [server.pid for server in installation.servers if children_of(server.pid)]
    assert len(running_ocr) == 1  # one process started OCR workers: the holder of the runner lock


def test_simultaneous_edits_through_two_processes_agree(installation: Installation) -> None:
    with httpx.Client(base_url=installation.urls[0], headers=installation.headers, timeout=30) as client:
        documents = sorted(int(client.get(f"/api/v1/jobs/{job}").json()["document_id"]) for job in installation.jobs)

    def title(writer: int, round_number: int) -> str:  # one distinct searchable word per write
        letters = "".join(chr(ord("b") + int(digit)) for digit in f"{writer}{round_number}")
        return f"record zq{letters}x"

    def edit(writer: int) -> list[int]:
        # Writers 0-3 go through the first process, 4-7 through the second: each document is changed through
        # both at once, and different documents at the same moment too.
        url = installation.urls[writer // len(documents)]
        document = documents[writer % len(documents)]
        with httpx.Client(base_url=url, headers=installation.headers, timeout=60) as client:
            return [
                client.patch(f"/api/v1/documents/{document}", json={"title": title(writer, r)}).status_code
                for r in range(ROUNDS)
            ]

    writers = 2 * len(documents)
    with ThreadPoolExecutor(writers) as pool:
        statuses = [status for answer in pool.map(edit, range(writers)) for status in answer]
    assert statuses == [200] * writers * ROUNDS

    context = make_context(installation.home)
    try:
        with context.db.read() as session:
            final = {d.id: d.title for d in session.scalars(select(Document).where(Document.id.in_(documents)))}
            updates = Counter(session.scalars(select(AuditEvent.target).where(AuditEvent.action == "document.update")))
        report = AuditService(context).verify(AUDITOR)
    finally:
        context.close()
    assert report.ok is True, report
    assert updates == Counter({f"document:{d}": 2 * ROUNDS for d in documents})  # every change is in the log
    for document, last_title in final.items():
        word = last_title.split()[-1]
        for url in installation.urls:  # each process's searcher sees the other's index commits
            with httpx.Client(base_url=url, headers=installation.headers, timeout=30) as client:
                hits = client.get("/api/v1/search", params={"q": word}).json()["hits"]
            assert [hit["document_id"] for hit in hits] == [document], (url, last_title)
        replaced = {title(w, r).split()[-1] for w in range(writers) for r in range(ROUNDS)} - {word}
        with httpx.Client(base_url=installation.urls[0], headers=installation.headers, timeout=30) as client:
            stale = [w for w in sorted(replaced) if document in _hit_ids(client.get("/api/v1/search", params={"q": w}))]
        assert stale == [], (document, last_title, stale)  # no older title of this record is still indexed


def _hit_ids(answer: httpx.Response) -> list[int]:
    return [int(hit["document_id"]) for hit in answer.json()["hits"]]
