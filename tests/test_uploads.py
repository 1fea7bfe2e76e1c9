"""Uploads: refused before the body is stored, filed with what the uploader said, claimed once, named safely."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.wiring import Context, build_context
from archive.models import AuditEvent, Document, IngestJob
from archive.text import display_name
from archive.values import JobState
from ingest.ocr import process
from storage_config.settings import Settings
from tests import actors
from tests.actors import ARCHIVIST
from tests.pages import english_page

MiB = 1024 * 1024


class QueueOnly:
    """A job runner that only queues: the test runs the jobs it needs itself, in-process."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, job_id: int) -> Future[None]:
        self.submitted.append(job_id)
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def shutdown(self, *, wait: bool = True) -> None:
        return None


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[Context]:
    from api.preservation.maintenance import MaintenanceService

    context = build_context(Settings(home=tmp_path / "small", workers=1, max_upload_mb=1))
    MaintenanceService(context).initialise()
    yield context
    context.close()


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context, runner=QueueOnly())) as test_client:
        yield test_client


@pytest.fixture
def admin(context: Context) -> dict[str, str]:
    """The uploader: an archivist account cleared for everything (only the archivist may upload)."""
    return actors.bearer(context, "clerk", ["archivist"])


def account(context: Context, name: str, *, roles: list[str], clearance: str, departments: list[str]) -> dict[str, str]:
    """A second account made by the security administrator, with its bearer headers."""
    actors.account(context, name, roles, clearance, departments)
    return actors.bearer(context, name)


# --- refused before the body is stored ----------------------------------------------------------------------


def post_streaming(
    app: FastAPI, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, dict[str, Any], int]:
    """POST through the app's real ASGI interface; returns status, JSON body and how many chunks it read."""
    consumed = 0
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if consumed == len(chunks):
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += 1
        return {"type": "http.request", "body": chunks[consumed - 1], "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return int(answer["status"]), json.loads(answer["body"]), consumed


MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}
BODY = [b"--xyz\r\nContent-Disposition: form-data; name=file; filename=big.tif\r\n\r\n"] + [b"\0" * (256 * 1024)] * 16


def spooled_files(context: Context) -> list[Path]:
    return [p for p in context.settings.spool_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/batches/1/files", "/api/v1/pages/1/rescan"])
def test_an_anonymous_upload_is_refused_before_a_byte_is_read(context: Context, path: str) -> None:
    status, body, consumed = post_streaming(create_app(context), path, MULTIPART | {"Content-Length": "99999999"}, BODY)
    assert (status, body["error"], consumed) == (401, "unauthenticated", 0)
    assert "bearer token" in body["message"]
    assert spooled_files(context) == []
    with context.db.session() as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert [event.target for event in denied] == [f"POST {path}"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body(small_limit: Context) -> None:
    headers = MULTIPART | actors.bearer(small_limit, "clerk", ["archivist"]) | {"Content-Length": str(5 * MiB)}
    status, body, consumed = post_streaming(create_app(small_limit), "/api/v1/documents", headers, BODY)
    assert (status, body["error"], consumed) == (413, "too_large", 0)
    assert "1 MB limit (max_upload_mb)" in body["message"]


def test_a_chunked_body_is_cut_off_at_the_cap_and_nothing_is_kept(small_limit: Context) -> None:
    headers = MULTIPART | actors.bearer(small_limit, "clerk", ["archivist"])
    chunks = BODY * 3  # 12 MiB, no Content-Length
    status, body, consumed = post_streaming(create_app(small_limit), "/api/v1/documents", headers, chunks)
    assert (status, body["error"]) == (413, "too_large")
    assert consumed <= 10  # the 1 MiB limit plus framing: the rest of the 12 MiB is never read
    assert spooled_files(small_limit) == []


def test_an_accepted_upload_is_moved_into_its_job_not_copied_again(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    page = english_page(tmp_path).path
    response = client.post("/api/v1/documents", headers=admin, files={"file": (page.name, page.read_bytes())})
    assert response.status_code == 202, response.text
    with context.db.session() as session:
        job = session.get(IngestJob, response.json()["id"])
        assert job is not None
        spooled = sorted(Path(str(job.spool_path)).iterdir())
    assert [p.read_bytes() for p in spooled] == [page.read_bytes()]
    assert spooled_files(context) == spooled  # the received copy was moved: no second copy, no leftovers


# --- what the uploader says reaches the filed record ----------------------------------------------------------


def test_level_date_and_departments_reach_the_filed_document(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", languages="eng", level="internal").id
    page = english_page(tmp_path).path
    fields = {"level": "secret", "date": "1998-03", "departments": ["finance", "legal, hr"], "batch_id": str(batch)}
    response = client.post(
        "/api/v1/documents", headers=admin, files={"file": (page.name, page.read_bytes())}, data=fields
    )
    assert response.status_code == 202, response.text
    IngestService(context).process_job(response.json()["id"], process)
    with context.db.session() as session:
        document = session.scalars(select(Document)).one()
        assert (document.access_level, document.date, document.departments) == (
            3,
            dt.date(1998, 3, 1),
            ["finance", "hr", "legal"],
        )


def test_a_level_above_the_uploaders_clearance_is_refused(client: TestClient, context: Context, tmp_path: Path) -> None:
    archivist = account(context, "arch", roles=["archivist"], clearance="internal", departments=[])
    page = english_page(tmp_path).path
    response = client.post(
        "/api/v1/documents", headers=archivist, files={"file": (page.name, page.read_bytes())}, data={"level": "secret"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "above your own clearance (internal)" in response.json()["message"]
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 0
    assert spooled_files(context) == []


def test_a_retry_with_the_same_external_id_gets_the_same_job(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    page = english_page(tmp_path).path
    answers = [
        client.post(
            "/api/v1/documents",
            headers=admin,
            files={"file": (page.name, page.read_bytes())},
            data={"external_id": "hr-system:4711"},
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 200, 200]
    assert len({a.json()["id"] for a in answers}) == 1
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 1


# --- one file, one job: the claim is atomic ---------------------------------------------------------------------


def test_twenty_simultaneous_uploads_of_one_file_make_one_job(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    data = english_page(tmp_path).path.read_bytes()

    def send(_: int) -> int:
        return client.post("/api/v1/documents", headers=admin, files={"file": ("same.jpg", data)}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(send, range(20)))
    assert statuses == [202] + [409] * 19
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 1
    assert len(spooled_files(context)) == 1


def test_a_failed_job_gives_its_file_back(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    page = english_page(tmp_path).path
    first = client.post("/api/v1/documents", headers=admin, files={"file": (page.name, page.read_bytes())}).json()
    with context.db.session() as session:
        job = session.get(IngestJob, first["id"])
        assert job is not None
        spool = Path(str(job.spool_path))
    for path in spool.iterdir():
        path.unlink()  # the spooled copy is lost: the job fails when it runs
    IngestService(context).process_job(first["id"], process)
    failed = IngestService(context).job(ARCHIVIST, first["id"])
    assert failed.state == JobState.FAILED and failed.error is not None and "spooled copy" in failed.error
    failure = {"error": "unsupported_file", "reason": "spooled_copy_gone", "params": {"job": first["id"]}}
    assert failed.failure is not None and failed.failure.model_dump(exclude={"message"}) == failure
    [row] = client.get("/api/v1/jobs", headers=admin, params={"state": "failed"}).json()["jobs"]
    assert row["failure"] == {**failure, "message": row["reason"]}  # the page says it in its language
    again = client.post("/api/v1/documents", headers=admin, files={"file": (page.name, page.read_bytes())})
    assert again.status_code == 202 and again.json()["id"] != first["id"]


def test_the_conflict_names_the_record_only_to_those_who_may_see_it(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", languages="eng", level="secret").id
    page = english_page(tmp_path).path
    first = client.post(
        "/api/v1/documents",
        headers=admin,
        files={"file": (page.name, page.read_bytes())},
        data={"batch_id": str(batch)},
    )
    IngestService(context).process_job(first.json()["id"], process)
    with context.db.session() as session:
        reference = session.scalars(select(Document.reference_code)).one()
    archivist = account(context, "arch", roles=["archivist"], clearance="internal", departments=[])
    refusals = [
        client.post("/api/v1/documents", headers=who, files={"file": ("copy.jpg", page.read_bytes())})
        for who in (admin, archivist)
    ]
    assert [r.status_code for r in refusals] == [409, 409]
    assert reference in refusals[0].json()["message"]
    hidden = refusals[1].json()["message"]
    assert hidden == "this file is already in the archive; it was not added again"
    assert reference not in hidden and "document" not in hidden


# --- names are shown safely -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("nul\x00byte.tif", "nulbyte.tif"),
        ("C:\\scans\\box 7\\letter.tif", "C:/scans/box 7/letter.tif"),
        ("  many \t\n  spaces\u2067 ", "many spaces"),
        ("\u202e\x00", "upload"),
    ],
)
def test_the_sanitiser(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


def test_a_hostile_file_name_becomes_a_clean_title(
    client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path
) -> None:
    data = english_page(tmp_path).path.read_bytes()
    hostile = "C:\\Users\\x\\pay\u202eroll\u200b   2019_report.jpg"  # NUL: see test_the_sanitiser
    response = client.post("/api/v1/documents", headers=admin, files={"file": (hostile, data)})
    assert response.status_code == 202, response.text
    assert response.json()["source_name"] == "payroll 2019_report.jpg"
    with context.db.session() as session:
        job = session.get(IngestJob, response.json()["id"])
        assert job is not None
        assert job.options["title"] == "payroll 2019 report"
