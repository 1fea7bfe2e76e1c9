"""/api/v1/jobs: the HTTP twins of `dangan jobs` — the same use cases, the same permission rows: 404 for a job
the caller may not see (exactly like a missing one), 409 when a job cannot run again, 403 for other roles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.access.users import UserService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.views.jobs import JobList, JobRetry
from api.wiring import Context
from archive.access import Principal
from archive.events import AuditAction
from archive.models import AuditEvent
from tests.actors import account, token
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.job_faults import WAIT_SECONDS, failed_jobs, keep_spooled_copy, lose_spooled_copy
from tests.pages import render


@dataclass
class Server:
    context: Context
    client: TestClient
    actor: Principal
    batch: int
    pages: list[Path]
    failed: list[int]
    folder: Path
    secret_batch: int | None = None  # a secret batch, and its failed job for the hr department
    hidden_job: int | None = None

    def as_user(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(self.context, username)}"}


@contextmanager
def serving(tmp_path: Path, *, with_secret_job: bool) -> Iterator[Server]:
    """A running app (with the installation's job runner) over a batch with two failed jobs; with
    `with_secret_job`, also a failed job in a secret batch for the hr department. Every failed job is made
    before the app starts: its runner would otherwise claim a queued job first and OCR it for real."""
    context = make_context(tmp_path / "var")
    actor = account(context, "clerk", ["archivist"])
    batch = BatchService(context).create(actor=actor, fonds="J2", languages="eng", level="internal").id
    folder = tmp_path / "in"
    pages = [render(folder, f"deed-{n}.png", f"Deed number {n} of the harbour", "eng", seed=80 + n) for n in (0, 1)]
    failed = failed_jobs(context, actor, batch, pages)
    secret: int | None = None
    hidden: int | None = None
    if with_secret_job:
        secret = BatchService(context).create(actor=actor, fonds="J2", languages="eng", level="secret").id
        page = render(folder, "secret.png", "A secret deed of the harbour", "eng", seed=89)
        [hidden] = failed_jobs(context, actor, secret, [page], departments=["hr"])
    with TestClient(create_app(context)) as client:
        yield Server(context, client, actor, batch, pages, failed, folder, secret, hidden)
    context.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path, with_secret_job=False) as running:
        yield running


@pytest.fixture
def server_with_secret(tmp_path: Path) -> Iterator[Server]:
    with serving(tmp_path, with_secret_job=True) as running:
        yield running


def test_the_listing_filters_pages_and_counts(server: Server) -> None:
    clerk = server.as_user("clerk")
    answer = server.client.get("/api/v1/jobs", headers=clerk)
    assert answer.status_code == 200
    listed = JobList.model_validate(answer.json())
    assert [row.id for row in listed.jobs] == server.failed and listed.counts == {"failed": 2}
    assert listed.states == ["stuck", "retrying", "failed"] and listed.total == 2
    assert "the OCR worker process died twice on deed-0.png" in str(listed.jobs[0].reason)
    paged = server.client.get("/api/v1/jobs", params={"all": "true", "limit": 1, "offset": 1}, headers=clerk).json()
    assert [row["id"] for row in paged["jobs"]] == server.failed[1:] and paged["total"] == 2
    some = server.client.get("/api/v1/jobs", params=[("state", "queued"), ("state", "done")], headers=clerk).json()
    assert some["jobs"] == [] and some["states"] == ["queued", "done"]
    wrong = server.client.get("/api/v1/jobs", params={"state": "broken"}, headers=clerk)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_input"
    missing = server.client.get("/api/v1/jobs", params={"batch_id": 999}, headers=clerk)
    assert missing.status_code == 404 and missing.json()["message"].startswith("batch 999 does not exist")


def test_a_retried_job_is_queued_and_the_running_server_files_it(server: Server) -> None:
    job_id = server.failed[0]
    keep_spooled_copy(server.context, job_id, server.pages[0])
    answer = server.client.post(f"/api/v1/jobs/{job_id}/retry", headers=server.as_user("clerk"))
    assert answer.status_code == 200, answer.text
    retried = JobRetry.model_validate(answer.json())
    assert [row.id for row in retried.queued] == [job_id] and retried.refused == []
    assert retried.queued[0].previous_error is not None and "dangan jobs run" in retried.next_step
    deadline = time.monotonic() + WAIT_SECONDS
    while (state := server.client.get(f"/api/v1/jobs/{job_id}", headers=server.as_user("clerk")).json()["state"]) in (
        "queued",
        "processing",
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state == "done"
    with server.context.db.read() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.INGEST_RETRY))
        assert event.actor == "clerk" and event.target == f"job:{job_id}" and event.client == "testclient"


def test_a_job_that_cannot_run_again_answers_409_with_the_reason(server: Server) -> None:
    clerk = server.as_user("clerk")
    gone, archived = server.failed
    lose_spooled_copy(server.context, gone)
    answer = server.client.post(f"/api/v1/jobs/{gone}/retry", headers=clerk)
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "conflict",
        "message": f"the file of job {gone} is gone; submit it again",
        "reason": "job_file_gone",
        "params": {"job": gone},
    }
    keep_spooled_copy(server.context, archived, server.pages[1])
    filed = ingest_paths(server.context, [server.pages[1]], actor=server.actor, batch_id=server.batch).jobs[0]
    answer = server.client.post(f"/api/v1/jobs/{archived}/retry", headers=clerk)
    assert answer.status_code == 409
    message = answer.json()["message"]
    assert message == (
        f"job {archived} cannot run again: deed-1.png is already archived as {filed.reference_code} "
        f"(document {filed.document_id})"
    )
    assert answer.json()["reason"] == "already_archived"  # the cause's reason: what the page says
    assert answer.json()["params"] == {"name": "deed-1.png", "reference_code": filed.reference_code}
    done = server.client.post(f"/api/v1/jobs/{filed.id}/retry", headers=clerk)
    assert done.status_code == 409 and "only failed, retrying or stuck jobs can be retried" in done.json()["message"]
    assert done.json()["reason"] == "job_not_retryable" and done.json()["params"] == {"job": filed.id, "state": "done"}


def test_retry_failed_queues_what_can_run_and_lists_the_rest(server: Server) -> None:
    kept, lost = server.failed
    keep_spooled_copy(server.context, kept, server.pages[0])
    lose_spooled_copy(server.context, lost)
    answer = server.client.post(
        "/api/v1/jobs/retry-failed", params={"batch_id": server.batch}, headers=server.as_user("clerk")
    )
    assert answer.status_code == 200, answer.text
    retried = JobRetry.model_validate(answer.json())
    assert [row.id for row in retried.queued] == [kept]
    assert [(r.job, r.error, r.message) for r in retried.refused] == [
        (lost, "conflict", f"the file of job {lost} is gone; submit it again")
    ]


def test_other_scopes_see_nothing_and_other_roles_are_refused(server_with_secret: Server) -> None:
    server, secret, hidden = server_with_secret, server_with_secret.secret_batch, server_with_secret.hidden_job
    account(server.context, "li", ["archivist"], clearance="internal", departments=["finance"])
    account(server.context, "reader", ["staff"])
    li = server.as_user("li")
    listed = server.client.get("/api/v1/jobs", headers=li).json()
    assert [row["id"] for row in listed["jobs"]] == server.failed and listed["counts"] == {"failed": 2}
    for job_id in (hidden, 999_999):
        answer = server.client.post(f"/api/v1/jobs/{job_id}/retry", headers=li)
        assert answer.status_code == 404 and answer.json()["message"] == f"job {job_id} does not exist"
    hidden_batch = server.client.get("/api/v1/jobs", params={"batch_id": secret}, headers=li)
    assert hidden_batch.status_code == 404
    assert hidden_batch.json()["message"].startswith(f"batch {secret} does not exist")
    sysadmin = server.client.get("/api/v1/jobs", headers=server.as_user("sysadmin")).json()
    assert [row["id"] for row in sysadmin["jobs"]] == [*server.failed, hidden]
    for username in ("auditor", "reader"):
        headers = server.as_user(username)
        for method, url in (
            ("GET", "/api/v1/jobs"),
            ("POST", f"/api/v1/jobs/{server.failed[0]}/retry"),
            ("POST", "/api/v1/jobs/retry-failed"),
        ):
            answer = server.client.request(method, url, headers=headers)
            assert answer.status_code == 403, (username, url, answer.text)
    assert UserService(server.context).principal("auditor").username == "auditor"
