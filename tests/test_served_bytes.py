"""What is served is what was stored: damaged bytes are refused, logged and alerted on; files and HTML carry
headers that keep the browser from running them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.service import IngestService
from api.wiring import Context
from archive.audit.alerts import AlertRules, compute_alerts
from archive.models import AuditEvent, Document, StoredObject
from archive.values import ObjectRole
from ingest.ocr import process
from tests.actors import ARCHIVIST, bearer
from tests.pages import english_page
from tests.test_uploads import QueueOnly


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context, runner=QueueOnly())) as test_client:
        yield test_client


@pytest.fixture
def admin(context: Context) -> dict[str, str]:
    """The archivist who uploads (and, before filing, the one who may read the record)."""
    return bearer(context, "clerk", ["archivist"])


@pytest.fixture
def document_id(client: TestClient, context: Context, admin: dict[str, str], tmp_path: Path) -> int:
    page = english_page(tmp_path).path
    job = client.post("/api/v1/documents", headers=admin, files={"file": (page.name, page.read_bytes())}).json()
    IngestService(context).process_job(job["id"], process)
    return int(IngestService(context).job(ARCHIVIST, job["id"]).document_id)


def object_file(context: Context, document_id: int, role: ObjectRole) -> Path:
    """The local store's own file for one of the document's objects (the real seam a disk fault hits)."""
    with context.db.session() as session:
        key = session.scalars(
            select(StoredObject.key).where(StoredObject.document_id == document_id, StoredObject.role == role)
        ).one()
    path = context.settings.home_dir / "objects" / key
    assert path.is_file()
    return path


def test_intact_files_are_served_with_safe_headers(client: TestClient, admin: dict[str, str], document_id: int) -> None:
    original = client.get(f"/api/v1/documents/{document_id}/original", headers=admin)
    assert original.status_code == 200
    assert original.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("inline;")
    for response in (original, pdf):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("role", [ObjectRole.ORIGINAL, ObjectRole.PDFA])
def test_a_damaged_object_is_refused_audited_and_alerted(
    client: TestClient, context: Context, admin: dict[str, str], document_id: int, role: ObjectRole
) -> None:
    stored = object_file(context, document_id, role)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: bit rot, a bad sector, a careless edit
    stored.write_bytes(bytes(data))
    route = "original" if role == ObjectRole.ORIGINAL else "pdf"
    response = client.get(f"/api/v1/documents/{document_id}/{route}", headers=admin)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "integrity_failure"
    assert "damaged" in body["message"] and "dangan verify" in body["message"]
    assert str(context.settings.home_dir) not in body["message"] and "/" not in body["message"]
    with context.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.target == f"document:{document_id}")).all()
        actions = [(e.action, e.outcome) for e in events]
        alerts = compute_alerts(session, AlertRules(), level_of=lambda ids: dict.fromkeys(ids, 0))
    assert ("document.integrity", "failure") in actions
    assert ("document.download", "success") not in actions
    assert [a.kind for a in alerts if a.kind == "integrity_failure"] == ["integrity_failure"]
    assert f"document:{document_id}" in alerts[-1].message


def test_a_missing_object_is_an_integrity_failure_without_server_paths(
    client: TestClient, context: Context, admin: dict[str, str], document_id: int
) -> None:
    object_file(context, document_id, ObjectRole.ORIGINAL).unlink()
    response = client.get(f"/api/v1/documents/{document_id}/original", headers=admin)
    assert (response.status_code, response.json()["error"]) == (500, "integrity_failure")
    assert str(context.settings.home_dir) not in response.text


def test_the_served_copy_leaves_nothing_behind(
    client: TestClient, context: Context, admin: dict[str, str], document_id: int
) -> None:
    assert client.get(f"/api/v1/documents/{document_id}/pdf", headers=admin).status_code == 200
    assert [p for p in (context.settings.spool_dir / "served").iterdir()] == []


def test_the_html_batch_report_carries_a_strict_policy(
    client: TestClient, context: Context, admin: dict[str, str], document_id: int
) -> None:
    with context.db.session() as session:
        batch_id = session.scalars(select(Document.batch_id).where(Document.id == document_id)).one()
    response = client.get(f"/api/v1/batches/{batch_id}/report", params={"format": "html"}, headers=admin)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]  # the UI keeps its own policy
