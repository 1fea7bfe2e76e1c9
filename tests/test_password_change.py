"""A password someone else set must be changed by its holder before anything else: after a security
administrator's reset, for a new account's initial password, and for the bootstrap's officers. Signing in with
it opens a session that may only read its own account, change that password (to another one) and sign out;
everything else answers 403 `password_change_required` (and is an `access.denied` event). Changing it oneself
clears the flag; API tokens made at the server are not sign-ins and are not held. Real app, real catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.access.users import UserService
from api.http.app import create_app
from api.wiring import Context
from archive.errors import ExitCode
from tests.actors import PASSWORD, account, bearer
from tests.conftest import Cli

NEW_PASSWORD = "my very own pass phrase"


@pytest.fixture
def client(context: Context) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str, password: str) -> tuple[dict[str, str], dict[str, Any]]:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return {"Authorization": f"Bearer {body['token']}"}, body


def events(client: TestClient, context: Context, **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(
        "/api/v1/audit/events", headers=bearer(context, "auditor"), params=params
    ).json()["events"]
    return found


def test_after_a_reset_the_user_must_change_the_password_before_anything_else(
    client: TestClient, context: Context
) -> None:
    account(context, "li.wei", ["archivist"], "secret")
    settled, body = sign_in(client, "li.wei", PASSWORD)
    assert body["password_change_required"] is False  # chosen by li.wei: nothing held
    assert client.get("/api/v1/batches", headers=settled).status_code == 200

    reset = client.post("/api/v1/users/li.wei/password-reset", headers=bearer(context, "secadmin")).json()
    assert reset["password_change_required"] is True and reset["sessions_revoked"] == 1
    listed = client.get("/api/v1/users", headers=bearer(context, "secadmin")).json()["users"]
    assert next(u for u in listed if u["username"] == "li.wei")["password_change_required"] is True

    held, body = sign_in(client, "li.wei", reset["password"])  # sign-in works ...
    assert body["password_change_required"] is True
    for method, path in (  # ... and nothing else does, whatever the role allows
        ("GET", "/api/v1/batches"),
        ("GET", "/api/v1/search?q=record"),
        ("GET", "/api/v1/documents/recent"),
        ("GET", "/api/v1/users/li.wei/tokens"),
        ("POST", "/api/v1/batches"),
    ):
        refused = client.request(method, path, headers=held, json={"fonds": "X1"} if method == "POST" else None)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"] == "password_change_required", path
        assert "choose a new one first" in refused.json()["message"]
    upload = client.post("/api/v1/documents", headers=held, files={"file": ("x.tif", b"II*\0", "image/tiff")})
    assert upload.status_code == 403 and upload.json()["error"] == "password_change_required"  # before the body
    me = client.get("/api/v1/auth/me", headers=held).json()  # one's own account reads
    assert me["username"] == "li.wei" and me["roles"] == ["archivist"]
    assert me["password_change_required"] is True and me["may"] == []
    own_clearance = client.patch("/api/v1/users/li.wei", headers=held, json={"clearance": "public"})
    assert own_clearance.json()["error"] == "password_change_required"  # only the password
    other = client.patch("/api/v1/users/auditor", headers=held, json={"password": NEW_PASSWORD})
    assert other.json()["error"] == "password_change_required"
    same = client.patch("/api/v1/users/li.wei", headers=held, json={"password": reset["password"]})
    assert same.status_code == 400 and same.json()["error"] == "password_reused"

    changed = client.patch("/api/v1/users/li.wei", headers=held, json={"password": NEW_PASSWORD})
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False
    assert client.get("/api/v1/auth/me", headers=held).status_code == 401  # a new password ends every session
    fresh, body = sign_in(client, "li.wei", NEW_PASSWORD)
    assert body["password_change_required"] is False
    assert client.get("/api/v1/batches", headers=fresh).status_code == 200  # now it works
    me = client.get("/api/v1/auth/me", headers=fresh).json()
    assert me["password_change_required"] is False and "ingest.submit" in me["may"]
    assert client.post("/api/v1/auth/logout", headers=fresh).status_code == 200

    updates = [
        (e["actor"], e["details"]["changed"], e["details"]["password_changed"])
        for e in events(client, context, action="user.update")
    ]
    assert updates[-2:] == [  # the reset, then li.wei's own choice
        ("secadmin", {"password_change_required": True}, True),
        ("li.wei", {"password_change_required": False}, True),
    ]
    logins = [e["details"] for e in events(client, context, action="login", user="li.wei")]
    assert [d.get("password_change_required", False) for d in logins] == [False, True, False]
    denied = events(client, context, action="access.denied", user="li.wei")
    assert len(denied) == 8 and {e["details"]["reason"] for e in denied} == {"password_change_required"}
    assert reset["password"] not in str(updates + logins + denied)


def test_a_held_session_signs_out(client: TestClient, context: Context) -> None:
    account(context, "zhang.min", ["staff"], "internal")
    reset = client.post(
        "/api/v1/users/zhang.min/password-reset", headers=bearer(context, "secadmin"), json={"password": "x" * 20}
    ).json()
    assert reset["password"] is None and reset["password_change_required"] is True  # chosen by the admin: still
    held, _ = sign_in(client, "zhang.min", "x" * 20)
    assert client.post("/api/v1/auth/logout", headers=held).json() == {"revoked": True}
    assert client.get("/api/v1/auth/me", headers=held).status_code == 401


def test_new_accounts_and_the_bootstraps_officers_choose_their_own_password(
    client: TestClient, context: Context
) -> None:
    [secadmin] = [a for a in UserService(context).bootstrap().created if a.username == "secadmin"]
    api_token = {"Authorization": f"Bearer {secadmin.token}"}  # made at the server: an API token, not a sign-in
    made = client.post(
        "/api/v1/users",
        headers=api_token,
        json={"username": "wang.fang", "password": "an initial pass phrase", "roles": ["staff"]},
    )
    assert made.status_code == 201 and made.json()["password_change_required"] is True
    held, body = sign_in(client, "wang.fang", "an initial pass phrase")
    assert body["password_change_required"] is True
    assert client.get("/api/v1/search", params={"q": "x"}, headers=held).json()["error"] == "password_change_required"

    officer, body = sign_in(client, "secadmin", secadmin.password)  # whoever installed saw this password
    assert body["password_change_required"] is True
    assert client.get("/api/v1/users", headers=officer).json()["error"] == "password_change_required"
    own = client.patch("/api/v1/users/secadmin", headers=officer, json={"password": NEW_PASSWORD})
    assert own.status_code == 200 and own.json()["password_change_required"] is False
    officer, body = sign_in(client, "secadmin", NEW_PASSWORD)
    assert body["password_change_required"] is False
    assert client.get("/api/v1/users", headers=officer).status_code == 200

    created = events(client, context, action="user.create", user="secadmin")
    assert [e["details"]["password_change_required"] for e in created] == [True]


def test_the_command_line_reports_a_password_to_be_changed(context: Context, cli: Cli, tmp_path: Path) -> None:
    """The command line acts as a named account at the server, not by a password: it is not held back, and
    says whose password is due; `users update NAME --password-file` as NAME is the change."""
    account(context, "li.wei", ["staff"], "internal")
    given, chosen = tmp_path / "given.txt", tmp_path / "chosen.txt"
    given.write_text("given by the administrator\n", encoding="utf-8")
    chosen.write_text(f"{NEW_PASSWORD}\n", encoding="utf-8")

    reset = cli("--user", "secadmin", "users", "update", "li.wei", "--password-file", str(given))
    assert reset.exit_code == ExitCode.OK and "must choose a new password at the next sign-in" in reset.stdout
    listed = cli("--user", "secadmin", "users", "list")
    assert " to be changed " in next(line for line in listed.stdout.splitlines() if line.startswith("li.wei "))
    searched = cli("--user", "li.wei", "search", "anything")
    assert searched.exit_code == ExitCode.OK, searched.stderr

    again = cli("--user", "li.wei", "users", "update", "li.wei", "--password-file", str(given))
    assert again.exit_code == ExitCode.INVALID_INPUT and "not the one you were given" in again.stderr
    own = cli("--user", "li.wei", "users", "update", "li.wei", "--password-file", str(chosen))
    assert own.exit_code == ExitCode.OK and "must choose" not in own.stdout
    listed = cli("--user", "secadmin", "users", "list", "--json").json["users"]
    assert next(u for u in listed if u["username"] == "li.wei")["password_change_required"] is False
