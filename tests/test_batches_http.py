"""The batch workflow over HTTP: create with a manifest, upload a ZIP, status, review, sample, decide, report."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.wiring import Context
from tests.actors import bearer
from tests.pages import ENGLISH_TEXT, render


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.fixture
def headers(context: Context) -> dict[str, str]:
    """The archivist who creates the batch and uploads its scans."""
    return bearer(context, "clerk", ["archivist"])


@pytest.fixture
def reviewer(context: Context, headers: dict[str, str]) -> dict[str, str]:
    """A second archivist: samples and decides what the clerk scanned (four eyes)."""
    return bearer(context, "reviewer", ["archivist"])


def wait_for_batch(client: TestClient, headers: dict[str, str], batch_id: int, items: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"/api/v1/batches/{batch_id}", headers=headers).json()
        if sum(status["jobs"].get(s, 0) for s in ("done", "needs_review", "failed")) >= items:
            return status
        time.sleep(0.3)
    raise AssertionError("batch did not finish")


def test_zip_upload_to_a_batch_with_a_manifest(
    client: TestClient, headers: dict[str, str], reviewer: dict[str, str], tmp_path: Path
) -> None:
    pages = [
        render(tmp_path / "src", f"letter-{n}.png", f"Letter {n}. " + ENGLISH_TEXT, "eng", seed=60 + n)
        for n in range(3)
    ]
    archive = tmp_path / "box.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for page in pages:
            bundle.write(page, f"box/{page.name}")
        bundle.writestr("box/notes.docx", b"not a scan")
    manifest = "item,title,pages,file\n1,First letter,1,letter-0.png\n2,Second letter,1,letter-1.png\n"
    created = client.post(
        "/api/v1/batches",
        headers=headers,
        json={"fonds": "Z1", "year": 2024, "languages": "eng", "manifest_csv": manifest},
    )
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    with archive.open("rb") as stream:
        accepted = client.post(
            f"/api/v1/batches/{batch_id}/files",
            headers=headers,
            files=[("files", ("box.zip", stream, "application/zip"))],
        )
    assert accepted.status_code == 202, accepted.text
    assert len(accepted.json()["jobs"]) == 3
    status = wait_for_batch(client, headers, batch_id, 3)
    assert status["jobs"] == {"done": 3}
    rec = status["reconciliation"]
    assert [e["source_name"] for e in rec["extra_items"]] == ["letter-2.png"]
    assert rec["missing_items"] == [] and rec["numbering_gaps"] == []
    codes = sorted(j["reference_code"] for j in rec["extra_items"])
    assert codes == ["Z1-2024-Y30-0003"]

    sample = client.post(f"/api/v1/batches/{batch_id}/sample", headers=reviewer, json={"percent": 100, "minimum": 1})
    assert sample.status_code == 201
    for row in sample.json()["pages"]:
        verdict = client.post(
            f"/api/v1/batches/{batch_id}/verdicts",
            headers=reviewer,
            json={"page_id": row["page_id"], "verdict": "pass"},
        )
        assert verdict.status_code == 200
    decision = client.post(f"/api/v1/batches/{batch_id}/decision", headers=reviewer).json()
    assert decision["decision"] == "accepted"
    html = client.get(f"/api/v1/batches/{batch_id}/report", params={"format": "html"}, headers=headers)
    assert html.status_code == 200 and "Decision: accepted" in html.text
    assert client.post(f"/api/v1/batches/{batch_id}/file", headers=headers).json()["status"] == "filed"
    late = client.post(
        f"/api/v1/batches/{batch_id}/files",
        headers=headers,
        files=[("files", ("late.png", pages[0].read_bytes(), "image/png"))],
    )
    assert late.status_code == 409
    assert late.json()["message"] == (
        f"batch {batch_id} is filed and closed; reopen it first with a reason "
        f"(`dangan batch reopen {batch_id} --reason ...`)"
    )


def test_unknown_fields_are_refused_not_assigned(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/api/v1/batches", headers=headers, json={"fonds": "Z2", "status": "accepted"})
    assert response.status_code == 400
    response = client.post("/api/v1/batches", headers=headers, json={"fonds": "Z2", "created_by": "mallory"})
    assert response.status_code == 400


def test_bad_zip_is_refused_with_a_reason(client: TestClient, headers: dict[str, str], tmp_path: Path) -> None:
    batch_id = client.post("/api/v1/batches", headers=headers, json={"fonds": "Z3"}).json()["id"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.writestr("../escape.png", b"x")
    response = client.post(
        f"/api/v1/batches/{batch_id}/files",
        headers=headers,
        files=[("files", ("evil.zip", evil.read_bytes(), "application/zip"))],
    )
    assert response.json()["jobs"] == []
    assert "evil.zip" in response.json()["rejected"][0]["message"]
