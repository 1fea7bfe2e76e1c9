"""Compliance officers' tools over HTTP and the CLI: every access is logged, queried, exported (and the export
logged), and turned into alerts with the events behind them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.wiring import Context
from tests.actors import ARCHIVIST, PASSWORD, account
from tests.conftest import Cli
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


@pytest.fixture
def secret_document(context: Context, tmp_path: Path) -> int:
    page = render(tmp_path / "in", "plan.png", "Secret reconstruction plan for the east wing.", "eng", seed=5)
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="S1", languages="eng", level="secret").id
    document_id = int(ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch).jobs[0].document_id)
    file_batch(context, batch)  # staff and the security auditor see filed records only
    return document_id


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def login(client: TestClient, context: Context, name: str, role: str, clearance: str) -> dict[str, str]:
    account(context, name, [role], clearance)  # made by the security administrator
    token = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_denied_burst_is_logged_queried_exported_and_alerted(
    client: TestClient, context: Context, secret_document: int, cli: Cli
) -> None:
    snoop = login(client, context, "snoop", "staff", "internal")
    officer = login(client, context, "officer", "compliance", "public")
    for _ in range(6):
        assert client.get(f"/api/v1/documents/{secret_document}", headers=snoop).status_code == 404
    assert client.get("/api/v1/users", headers=snoop).status_code == 403

    events = client.get(
        "/api/v1/audit/events", headers=officer, params={"user": "snoop", "document": secret_document}
    ).json()["events"]
    assert len(events) == 6 and {e["outcome"] for e in events} == {"denied_or_missing"}
    denied = client.get("/api/v1/audit/events", headers=officer, params={"action": "access.denied"}).json()["events"]
    assert [(e["actor"], e["target"]) for e in denied] == [("snoop", "GET /api/v1/users")]
    logins = client.get("/api/v1/audit/events", headers=officer, params={"action": "login"}).json()["events"]
    assert {e["actor"] for e in logins} == {"snoop", "officer"}

    alerts = client.get("/api/v1/audit/alerts", headers=officer).json()["alerts"]
    [burst] = [a for a in alerts if a["kind"] == "denied_burst"]
    assert burst["actor"] == "snoop" and burst["count"] == 7
    assert sorted(burst["event_ids"]) == sorted([e["id"] for e in events] + [denied[0]["id"]])

    exported = client.get("/api/v1/audit/export", headers=officer, params={"format": "csv", "user": "snoop"})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) >= 8 and all(row["actor"] == "snoop" for row in rows)
    logged = client.get("/api/v1/audit/events", headers=officer, params={"action": "audit.export"}).json()["events"]
    assert logged[-1]["actor"] == "officer" and logged[-1]["details"]["count"] == len(rows)

    cli_events = cli("--user", "auditor", "audit", "events", "--user", "snoop", "--action", "document.*", "--json")
    assert cli_events.exit_code == 0, cli_events.stderr
    assert len(cli_events.json["events"]) == 6, cli_events.stdout[:800]
    assert client.get("/api/v1/audit/events", headers=snoop).status_code == 403  # staff cannot read the log


def test_compliance_cannot_edit_records_or_users(client: TestClient, context: Context, secret_document: int) -> None:
    officer = login(client, context, "officer2", "compliance", "top_secret")
    assert client.patch(f"/api/v1/documents/{secret_document}", headers=officer, json={"title": "x"}).status_code == 403
    assert (
        client.post(
            "/api/v1/users", headers=officer, json={"username": "z", "password": PASSWORD, "roles": ["archivist"]}
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/documents/{secret_document}", headers=officer).status_code == 200  # may read


def test_events_carry_the_actors_roles(client: TestClient, context: Context, secret_document: int) -> None:
    reader = login(client, context, "reader", "staff", "top_secret")
    client.get(f"/api/v1/documents/{secret_document}", headers=reader)
    client.get("/api/v1/search", params={"q": "reconstruction"}, headers=reader)
    officer = login(client, context, "officer3", "compliance", "public")
    events = client.get("/api/v1/audit/events", headers=officer, params={"user": "reader"}).json()["events"]
    by_action = {event["action"]: event for event in events}
    assert by_action["login"]["details"]["roles"] == ["staff"]
    assert by_action["document.view"]["details"]["roles"] == ["staff"]
    assert by_action["search"]["details"] == {"query": "reconstruction", "hits": 1, "roles": ["staff"]}
