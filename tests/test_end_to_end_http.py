"""The whole path through HTTP: upload answers 202, a worker process OCRs, the document is found and served."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.http.app import create_app
from api.wiring import Context
from archive.models import Document
from archive.values import AccessLevel
from tests.actors import bearer
from tests.pages import chinese_page, english_page
from tests.workflow_helpers import file_batch


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.fixture
def admin_headers(context: Context) -> dict[str, str]:
    """The archivist who uploads: sees their items before they are filed, and their jobs."""
    return bearer(context, "clerk", ["archivist"])


def wait_for_job(client: TestClient, headers: dict[str, str], job_id: int, timeout: float = 120) -> dict[str, Any]:
    """Until the job has failed, or is done and its document searchable (the index follows the filing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] == "failed" or (job["state"] == "done" and job["searchable"]):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def upload(client: TestClient, headers: dict[str, str], path: Path, **fields: str) -> Any:
    with path.open("rb") as stream:
        return client.post("/api/v1/documents", headers=headers, files={"file": (path.name, stream)}, data=fields)


@pytest.mark.ocr  # an upload carries no sidecar: its text is found only when really recognised
def test_upload_ocr_search_and_download(client: TestClient, admin_headers: dict[str, str], tmp_path: Path) -> None:
    zh, en = chinese_page(tmp_path / "in"), english_page(tmp_path / "in")
    accepted = [upload(client, admin_headers, page.path) for page in (zh, en)]
    assert [response.status_code for response in accepted] == [202, 202]
    assert all(response.json()["state"] == "queued" for response in accepted)
    jobs = [wait_for_job(client, admin_headers, response.json()["id"]) for response in accepted]
    assert [job["state"] for job in jobs] == ["done", "done"], jobs

    zh_id = jobs[0]["document_id"]
    found = client.get("/api/v1/search", params={"q": "纸质档案"}, headers=admin_headers).json()
    assert [hit["document_id"] for hit in found["hits"]] == [zh_id]
    assert found["hits"][0]["pages"] == [1]
    found = client.get("/api/v1/search", params={"q": '"payroll registers"'}, headers=admin_headers).json()
    assert [hit["document_id"] for hit in found["hits"]] == [jobs[1]["document_id"]]

    meta = client.get(f"/api/v1/documents/{zh_id}", headers=admin_headers).json()
    assert meta["page_count"] == 1 and meta["access_level"] == "internal"
    original = client.get(f"/api/v1/documents/{zh_id}/original", headers=admin_headers)
    assert original.status_code == 200 and original.content == zh.path.read_bytes()
    pdf = client.get(f"/api/v1/documents/{zh_id}/pdf", headers=admin_headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_requests_without_a_valid_token_are_refused(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401
    bad = client.get("/api/v1/search", params={"q": "x"}, headers={"Authorization": "Bearer dgn_nope"})
    assert bad.status_code == 401
    assert bad.json() == {
        "error": "unauthenticated",
        "message": "a valid bearer token is required (Authorization: Bearer <token>)",
    }


def test_errors_are_json_with_actionable_messages(client: TestClient, admin_headers: dict[str, str]) -> None:
    missing = client.get("/api/v1/documents/999", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad_query = client.get("/api/v1/search", params={"q": "((("}, headers=admin_headers)
    assert bad_query.status_code == 400 and "query" in bad_query.json()["message"]
    assert client.get("/api/v1/jobs/999", headers=admin_headers).status_code == 404
    assert client.get("/docs").status_code == 200
    assert "/api/v1/documents" in client.get("/openapi.json").json()["paths"]


def _user_with_token(context: Context, clearance: AccessLevel) -> dict[str, str]:
    """A staff account made by the security administrator."""
    return bearer(context, f"staff-{clearance.label}", ["staff"], clearance=clearance.label)


@pytest.mark.ocr  # an upload carries no sidecar: its text is found only when really recognised
def test_documents_above_clearance_are_not_found_anywhere(
    client: TestClient, context: Context, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    page = chinese_page(tmp_path / "in")
    batch = client.post("/api/v1/batches", headers=admin_headers, json={"fonds": "S01", "level": "secret"})
    assert batch.status_code == 201, batch.text
    queued = upload(client, admin_headers, page.path, batch_id=str(batch.json()["id"]))
    job = wait_for_job(client, admin_headers, queued.json()["id"])
    assert job["state"] == "done"
    document_id = job["document_id"]
    file_batch(context, batch.json()["id"])  # staff see filed records only: what hides it below is its level
    staff = _user_with_token(context, AccessLevel.CONFIDENTIAL)
    for path in ("", "/pdf", "/original"):
        response = client.get(f"/api/v1/documents/{document_id}{path}", headers=staff)
        assert response.status_code == 404, path
        assert response.json()["message"] == f"document {document_id} does not exist"
    found = client.get("/api/v1/search", params={"q": "档案数字化"}, headers=staff).json()
    assert found["total"] == 0 and found["hits"] == []
    assert client.post("/api/v1/documents", headers=staff, files={"file": ("a.png", b"x")}).status_code == 403
    cleared = _user_with_token(context, AccessLevel.SECRET)
    assert client.get("/api/v1/search", params={"q": "档案数字化"}, headers=cleared).json()["total"] == 1


def test_a_done_job_says_whether_its_document_is_searchable_yet(
    client: TestClient, context: Context, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    """ "done" means filed; the index follows a moment later, and the job says when it has (a client that searches
    right after "done" would otherwise find nothing, as CI once did)."""
    queued = upload(client, admin_headers, english_page(tmp_path / "in").path)
    job = wait_for_job(client, admin_headers, queued.json()["id"])
    assert job["state"] == "done" and job["searchable"] is True
    with context.db.write() as session:  # as between the filing's commit and the index's
        session.execute(update(Document).where(Document.id == job["document_id"]).values(indexed_at=None))
    again = client.get(f"/api/v1/jobs/{job['id']}", headers=admin_headers).json()
    assert again["state"] == "done" and again["searchable"] is False
