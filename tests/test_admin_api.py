"""The HTTP routes behind the system administrator's, security administrator's and auditor's screens: the
status page in one call, a reindex that does not hold up the request, sessions and password resets, the
departments list, and paging through the access log. Real app, real catalogue, real index and store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.reindexing import IndexRebuilds
from api.wiring import Context
from archive.passwords import MIN_LENGTH
from tests.actors import ARCHIVIST, PASSWORD, SYSADMIN, account, bearer
from tests.conftest import Cli
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.fixture
def filed(context: Context, tmp_path: Path) -> int:
    pages = [render(tmp_path / "in", f"p{n}.png", f"Status page record {n}", "eng", seed=n) for n in range(2)]
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="A1", languages="eng", level="internal").id
    ingest_paths(context, pages, actor=ARCHIVIST, batch_id=batch)
    file_batch(context, batch)
    return batch


def test_the_status_page_has_workers_storage_index_backups_and_verification(
    client: TestClient, context: Context, filed: int, tmp_path: Path, cli: Cli
) -> None:
    BackupTargets(context).add(SYSADMIN, TargetSpec(name="vault", kind="local", path=str(tmp_path / "vault")))
    admin = bearer(context, "sysadmin")
    assert client.post("/api/v1/backups/vault/run", headers=admin).json()["status"] == "complete"
    verified = client.post("/api/v1/verify", headers=admin, json={"level": "structure"}).json()

    status = client.get("/api/v1/status", headers=admin).json()
    assert status["workers"]["runner_alive"] is True  # this app's process holds the installation's runner lock
    assert status["workers"]["worker_processes"] == context.settings.workers
    assert status["storage"]["objects"] > 0 and status["storage"]["bytes"] > 0
    index = status["index"]
    assert index["state"] == "ok" and index["pages_indexed"] == index["pages_in_catalogue"] == 2
    assert index["documents_in_catalogue"] == 2 and index["bytes"] > 0
    assert [b["target"] for b in status["backups"]] == ["vault"]
    assert status["backups"][0]["status"] == "complete" and status["backups"][0]["grade"] == "clean"
    assert status["last_verification"]["id"] == verified["run_id"]
    assert status["last_verification"]["level"] == "structure"
    assert str(tmp_path) not in json.dumps(status)  # no server path over HTTP

    archivist = bearer(context, "scanner", ["archivist"])
    mine = client.get("/api/v1/status", headers=archivist).json()
    assert mine["backups"] is None and mine["last_verification"] is None  # the sysadmin's business
    assert mine["index"]["pages_indexed"] == 2

    printed = cli("--user", "sysadmin", "status")
    assert "search index" in printed.stdout and "2 of 2 page(s)" in printed.stdout
    assert "vault: complete" in printed.stdout and "verification" in printed.stdout
    as_json = cli("--user", "sysadmin", "status", "--json").json
    assert as_json["storage"] == status["storage"] and as_json["index"]["pages_indexed"] == 2


def test_a_damaged_index_shows_on_the_status_page(client: TestClient, context: Context, filed: int) -> None:
    (context.settings.resolved_index_dir / "dangan-index.json").write_text("{}")
    status = client.get("/api/v1/status", headers=bearer(context, "sysadmin")).json()
    assert status["index"]["state"] == "unavailable" and status["index"]["pages_indexed"] is None
    assert any("search index is unavailable" in line for line in status["warnings"])
    coded = status["warning_codes"][status["warnings"].index(next(w for w in status["warnings"] if "index" in w))]
    assert coded == {"code": "index_unavailable", "params": {"problem": status["index"]["problem"]}}


def test_reindex_over_http_runs_in_the_background_one_at_a_time(
    client: TestClient, context: Context, filed: int
) -> None:
    admin = bearer(context, "sysadmin")
    assert client.get("/api/v1/index/rebuild", headers=admin).json()["state"] == "idle"
    started = client.post("/api/v1/index/rebuild", headers=admin)
    assert started.status_code == 202 and started.json()["state"] == "running"
    assert started.json()["started_by"] == "sysadmin"
    IndexRebuilds(context).wait(timeout=60)
    finished = client.get("/api/v1/index/rebuild", headers=admin).json()
    assert finished["state"] == "finished" and finished["done"] == finished["total"] == 2
    assert client.get("/api/v1/search", params={"q": "record"}, headers=admin).json()["total"] == 2
    status = client.get("/api/v1/status", headers=admin).json()["index"]
    assert status["last_rebuild_by"] == "sysadmin" and status["rebuild"]["state"] == "finished"
    auditor = bearer(context, "auditor")
    logged = client.get("/api/v1/audit/events", headers=auditor, params={"action": "index.rebuild"}).json()
    assert [event["actor"] for event in logged["events"]][-1] == "sysadmin"

    elsewhere = IndexRebuilds(context)  # another process (or `dangan reindex`) holds the rebuild lock
    elsewhere.lock.take()
    try:
        refused = client.post("/api/v1/index/rebuild", headers=admin)
        assert refused.status_code == 409 and refused.json()["error"] == "rebuild_running"
    finally:
        elsewhere.lock.release()
    assert client.post("/api/v1/index/rebuild", headers=bearer(context, "scanner", ["archivist"])).status_code == 403


def test_a_rebuild_whose_process_died_reads_as_interrupted(client: TestClient, context: Context) -> None:
    rebuilds = IndexRebuilds(context)
    rebuilds.state_file.write_text(json.dumps({"state": "running", "started_by": "sysadmin", "done": 3, "total": 9}))
    state = client.get("/api/v1/index/rebuild", headers=bearer(context, "sysadmin")).json()
    assert state["state"] == "interrupted" and state["done"] == 3


def test_the_cli_reindex_takes_the_same_lock(context: Context, filed: int, cli: Cli) -> None:
    elsewhere = IndexRebuilds(context)
    elsewhere.lock.take()
    try:
        busy = cli("--user", "sysadmin", "reindex")
        assert busy.exit_code != 0 and "being rebuilt already" in busy.stderr
    finally:
        elsewhere.lock.release()
    assert cli("--user", "sysadmin", "reindex").exit_code == 0
    assert IndexRebuilds(context).current().state == "finished"


def test_a_security_administrator_lists_and_revokes_sessions(client: TestClient, context: Context) -> None:
    account(context, "li.wei", ["staff"], "internal", ["finance"])
    login = client.post("/api/v1/auth/login", json={"username": "li.wei", "password": PASSWORD}).json()
    user = {"Authorization": f"Bearer {login['token']}"}
    secadmin = bearer(context, "secadmin")
    listed = client.get("/api/v1/users/li.wei/tokens", headers=secadmin)
    assert listed.status_code == 200
    sessions = listed.json()["sessions"]
    assert [s["active"] for s in sessions] == [True] and sessions[0]["label"].startswith("login from")
    assert login["token"] not in listed.text and "sha256" not in listed.text

    revoked = client.delete(f"/api/v1/users/li.wei/tokens/{sessions[0]['id']}", headers=secadmin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert client.get("/api/v1/search", params={"q": "x"}, headers=user).status_code == 401
    again = client.get("/api/v1/users/li.wei/tokens", headers=secadmin).json()["sessions"]
    assert [s["active"] for s in again] == [False]
    other = client.delete(f"/api/v1/users/secadmin/tokens/{sessions[0]['id']}", headers=secadmin)
    assert other.status_code == 404  # a session of another account is not found under this one
    auditor = bearer(context, "auditor")
    events = client.get("/api/v1/audit/events", headers=auditor, params={"action": "token.revoke"}).json()["events"]
    assert any(e["actor"] == "secadmin" and e["details"].get("session") == sessions[0]["id"] for e in events)
    assert client.get("/api/v1/users/li.wei/tokens", headers=auditor).status_code == 200  # the auditor reads
    assert client.delete("/api/v1/users/li.wei/tokens/1", headers=auditor).status_code == 403


def test_a_password_reset_generates_a_one_time_password_and_ends_sessions(client: TestClient, context: Context) -> None:
    account(context, "zhang.min", ["archivist"], "secret")
    old = client.post("/api/v1/auth/login", json={"username": "zhang.min", "password": PASSWORD}).json()["token"]
    secadmin = bearer(context, "secadmin")
    reset = client.post("/api/v1/users/zhang.min/password-reset", headers=secadmin)
    assert reset.status_code == 200
    body = reset.json()
    assert body["sessions_revoked"] == 1 and len(body["password"]) >= 16
    assert client.get("/api/v1/batches", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    fresh = client.post("/api/v1/auth/login", json={"username": "zhang.min", "password": body["password"]})
    assert fresh.status_code == 200
    refused = client.post("/api/v1/auth/login", json={"username": "zhang.min", "password": PASSWORD})
    assert refused.status_code == 401
    chosen = client.post(
        "/api/v1/users/zhang.min/password-reset", headers=secadmin, json={"password": "a chosen pass phrase"}
    ).json()
    assert chosen["password"] is None  # nothing to show: the administrator typed it
    events = client.get(
        "/api/v1/audit/events", headers=bearer(context, "auditor"), params={"user": "secadmin", "action": "user.update"}
    ).json()["events"]
    assert len(events) == 2 and all(e["details"]["password_changed"] for e in events)
    assert body["password"] not in json.dumps(events)  # the password is never logged
    assert client.post("/api/v1/users/nobody/password-reset", headers=secadmin).status_code == 404
    staff = bearer(context, "reader", ["staff"], "internal")
    assert client.post("/api/v1/users/zhang.min/password-reset", headers=staff).status_code == 403
    self_reset = client.post("/api/v1/users/secadmin/password-reset", headers=secadmin)
    assert self_reset.status_code == 200  # one's own password may change (nothing else of one's own) ...
    assert client.get("/api/v1/users", headers=secadmin).status_code == 401  # ... and it ends one's sessions


def test_departments_come_from_accounts_and_records(client: TestClient, context: Context, filed: int) -> None:
    account(context, "a", ["staff"], "internal", ["finance", "legal"])
    account(context, "b", ["staff"], "internal", ["finance"])
    document = client.get("/api/v1/search", params={"q": "record"}, headers=bearer(context, "sysadmin")).json()
    editor = bearer(context, "editor", ["archivist"])
    doc_id = document["hits"][0]["document_id"]
    assert client.patch(f"/api/v1/documents/{doc_id}", headers=editor, json={"departments": ["archives"]}).is_success
    listed = client.get("/api/v1/departments", headers=bearer(context, "secadmin")).json()["departments"]
    assert listed == [
        {"name": "archives", "accounts": 0},
        {"name": "finance", "accounts": 2},
        {"name": "legal", "accounts": 1},
    ]


def test_the_access_log_pages_with_a_total(client: TestClient, context: Context) -> None:
    auditor = bearer(context, "auditor")
    for _ in range(5):
        client.get("/api/v1/users", headers=bearer(context, "reader", ["staff"]) if _ == 0 else auditor)
    everything = client.get("/api/v1/audit/events", headers=auditor, params={"limit": 100_000}).json()
    total = everything["total"]
    assert total == len(everything["events"]) and everything["next_offset"] is None
    first = client.get("/api/v1/audit/events", headers=auditor, params={"limit": 2}).json()
    assert first["total"] == total and first["next_offset"] == 2 and first["limit"] == 2
    seen, offset = [], 0
    while offset is not None:
        page = client.get("/api/v1/audit/events", headers=auditor, params={"limit": 3, "offset": offset}).json()
        seen += [event["id"] for event in page["events"]]
        offset = page["next_offset"]
    assert seen[: len(everything["events"])] == [e["id"] for e in everything["events"]]
    denied = client.get("/api/v1/audit/events", headers=auditor, params={"action": "access.denied"}).json()
    assert denied["total"] == len(denied["events"]) >= 1


def test_a_system_administrator_registers_and_removes_a_backup_target_over_http(
    client: TestClient, context: Context, filed: int, tmp_path: Path
) -> None:
    admin = bearer(context, "sysadmin")
    vault = tmp_path / "vault"
    added = client.post("/api/v1/backups", headers=admin, json={"name": "vault", "path": str(vault)})
    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "local" and added.json()["path"] == str(vault.resolve())
    again = client.post("/api/v1/backups", headers=admin, json={"name": "vault", "path": str(tmp_path / "other")})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert again.json()["reason"] == "backup_target_exists" and again.json()["params"] == {"name": "vault"}
    assert "exists" in again.json()["message"]  # the English sentence is kept for clients and the log
    for bad, reason, params in (
        ({"name": "relative", "path": "backups/here"}, "backup_target_path_not_absolute", {"path": "backups/here"}),
        ({"name": "inside", "path": str(context.settings.home_dir / "backup")}, "backup_target_inside_archive", {}),
        ({"name": "Bad Name", "path": str(tmp_path / "x")}, "backup_target_name", {"name": "Bad Name"}),
        ({"name": "nowhere", "kind": "s3", "endpoint": "127.0.0.1:9"}, "backup_target_needs_bucket", {}),
    ):
        refused = client.post("/api/v1/backups", headers=admin, json=bad)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_input", bad
        assert (refused.json()["reason"], refused.json()["params"]) == (reason, params), refused.json()
    secret = {"name": "keys", "kind": "s3", "endpoint": "127.0.0.1:9", "bucket": "b", "secret_key": "x"}
    assert client.post("/api/v1/backups", headers=admin, json=secret).status_code == 400  # keys never travel

    assert [t["name"] for t in client.get("/api/v1/backups", headers=admin).json()["targets"]] == ["vault"]
    assert client.post("/api/v1/backups/vault/run", headers=admin).json()["status"] == "complete"
    removed = client.delete("/api/v1/backups/vault", headers=admin)
    assert removed.status_code == 200 and removed.json() == {"removed": "vault"}
    assert client.get("/api/v1/backups", headers=admin).json()["targets"] == []
    assert any(vault.rglob("*")), "removing a target leaves its backups where they are"
    assert client.delete("/api/v1/backups/vault", headers=admin).status_code == 404
    log = client.get("/api/v1/audit/events", headers=bearer(context, "auditor"), params={"limit": 50}).json()
    actions = [e["action"] for e in log["events"] if e.get("target") == "backup:vault"]
    assert "backup.target.add" in actions and "backup.target.remove" in actions


def test_creating_an_existing_user_answers_with_its_reason_and_params(client: TestClient, context: Context) -> None:
    """The refusal a page translates: code, reason and params; the message stays; a refusal without a finer
    reason keeps the old shape (no reason, no params)."""
    secadmin = bearer(context, "secadmin")
    clerk = {"username": "clerk9", "password": "a long enough password 9", "roles": ["archivist"]}
    assert client.post("/api/v1/users", headers=secadmin, json=clerk).status_code == 201
    again = client.post("/api/v1/users", headers=secadmin, json=clerk)
    assert again.status_code == 409
    assert again.json() == {
        "error": "conflict",
        "message": "user 'clerk9' already exists",
        "reason": "user_exists",
        "params": {"username": "clerk9"},
    }
    short = client.post("/api/v1/users", headers=secadmin, json=clerk | {"username": "clerk10", "password": "short"})
    assert short.status_code == 400 and short.json()["reason"] == "password_too_short"
    assert short.json()["params"] == {"minimum": MIN_LENGTH}
    missing = client.get("/api/v1/users/nobody/tokens", headers=secadmin)
    assert missing.status_code == 404 and set(missing.json()) == {"error", "message"}
