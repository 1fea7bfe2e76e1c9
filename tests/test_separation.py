"""三员分立: the system administrator, the security administrator and the security auditor are three people.

No account holds two of the three duties; nobody changes their own roles, clearance or departments; nobody grants a
clearance above their own; a security administrator neither makes nor changes a peer; and each duty's powers are
its own (the auditor sees the other two's actions, they do not see the log)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.access.accounts import AccountService
from api.access.users import UserService
from api.http.app import create_app
from api.wiring import Context
from archive.db import Database, alembic_config
from archive.errors import InvalidInput, PermissionDenied
from tests.actors import PASSWORD, account, bearer, principal
from tests.conftest import Cli, make_context


@pytest.fixture
def client(context: Context) -> TestClient:
    return TestClient(create_app(context))


def test_the_bootstrap_makes_three_officers_each_with_one_duty(cli: Cli) -> None:
    listed = cli("--user", "secadmin", "users", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    roles = {user["username"]: user["roles"] for user in listed.json["users"]}
    assert (
        roles["sysadmin"] == ["sysadmin"] and roles["secadmin"] == ["secadmin"] and roles["auditor"] == ["compliance"]
    )
    again = cli("users", "bootstrap", "--json")
    assert again.exit_code == 0 and again.json["created"] == []  # once: a second run creates nobody


def test_a_fresh_bootstrap_prints_how_to_hand_the_roles_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    assert main(["--home", str(tmp_path / "fresh"), "users", "bootstrap"]) == 0
    printed = capsys.readouterr().out
    for name in ("sysadmin", "secadmin", "auditor", "different person"):
        assert name in printed
    assert printed.count("): password ") == 3


def test_no_account_holds_two_officer_duties(context: Context) -> None:
    secadmin = account(context, "secadmin", ["secadmin"])
    accounts = AccountService(context)
    for roles in (["sysadmin", "compliance"], ["sysadmin", "secadmin"], ["compliance", "secadmin"]):
        with pytest.raises((InvalidInput, PermissionDenied)):
            accounts.create(actor=secadmin, username="both", password=PASSWORD, roles=roles, clearance="public")
    account(context, "ops", ["sysadmin"])
    with pytest.raises(InvalidInput, match="三员分立"):
        accounts.update(actor=secadmin, username="ops", roles=["sysadmin", "compliance"])
    with pytest.raises(InvalidInput, match="split in three"):
        accounts.create(actor=secadmin, username="root", password=PASSWORD, roles=["admin"], clearance="public")


def test_nobody_changes_their_own_roles_or_clearance(context: Context, client: TestClient) -> None:
    headers = bearer(context, "secadmin")
    for body in ({"roles": ["secadmin", "staff"]}, {"clearance": "public"}, {"departments": ["hr"]}):
        answer = client.patch("/api/v1/users/secadmin", headers=headers, json=body)
        assert answer.status_code == 403 and "own" in answer.json()["message"], body
    assert client.patch("/api/v1/users/secadmin", headers=headers, json={"disabled": True}).status_code == 403


def test_nobody_grants_a_clearance_above_their_own(context: Context, client: TestClient) -> None:
    """A security administrator cleared to `secret` made a top-secret user and raised its own clearance."""
    UserService(context).bootstrap()
    with context.db.write() as session:
        session.execute(text("UPDATE user_account SET clearance = 3 WHERE username = 'secadmin'"))
    headers = bearer(context, "secadmin")
    made = client.post(
        "/api/v1/users",
        headers=headers,
        json={"username": "spy", "password": PASSWORD, "roles": ["staff"], "clearance": "top_secret"},
    )
    assert made.status_code == 403 and "above your own" in made.json()["message"]
    account(context, "li.wei", ["staff"], "internal")
    raised = client.patch("/api/v1/users/li.wei", headers=headers, json={"clearance": "top_secret"})
    assert raised.status_code == 403
    assert client.patch("/api/v1/users/li.wei", headers=headers, json={"clearance": "secret"}).status_code == 200


def test_a_security_administrator_neither_makes_nor_changes_a_peer(context: Context) -> None:
    secadmin = account(context, "secadmin", ["secadmin"])
    accounts = AccountService(context)
    with pytest.raises(PermissionDenied, match="another security administrator"):
        accounts.create(actor=secadmin, username="sec2", password=PASSWORD, roles=["secadmin"], clearance="public")
    other = principal("secadmin", name="other-secadmin")
    with pytest.raises(PermissionDenied, match="another security administrator"):
        accounts.update(actor=other, username="secadmin", disabled=True)


def test_each_duty_has_its_own_powers_and_the_auditor_sees_the_others(context: Context, client: TestClient) -> None:
    sysadmin, secadmin, auditor = (bearer(context, name) for name in ("sysadmin", "secadmin", "auditor"))
    assert client.post("/api/v1/verify", headers=sysadmin, json={"level": "structure"}).status_code == 200
    made = {"username": "clerk", "password": PASSWORD, "roles": ["staff"], "clearance": "public"}
    assert client.post("/api/v1/users", headers=secadmin, json=made).status_code == 201
    for headers in (sysadmin, secadmin):  # neither reads the log
        assert client.get("/api/v1/audit/events", headers=headers).status_code == 403
    assert client.post("/api/v1/users", headers=sysadmin, json=made | {"username": "x"}).status_code == 403
    assert client.post("/api/v1/verify", headers=secadmin, json={"level": "structure"}).status_code == 403
    assert client.post("/api/v1/users", headers=auditor, json=made | {"username": "y"}).status_code == 403
    events = client.get("/api/v1/audit/events", headers=auditor, params={"limit": 1000}).json()["events"]
    actions = {(event["actor"], event["action"]) for event in events}
    assert ("sysadmin", "verify.run") in actions and ("secadmin", "user.create") in actions
    assert ("sysadmin", "access.denied") in actions  # refusals are in the log too


def test_existing_admins_are_migrated_to_the_system_administrator(tmp_path: Path) -> None:
    """A catalogue from before the split: `admin` becomes `sysadmin`; `admin` + `compliance` keeps `compliance`."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for n, roles in enumerate(('["admin"]', '["admin", "compliance"]', '["staff"]')):
            connection.execute(
                text(
                    "INSERT INTO user_account (username, display_name, roles, clearance, departments, disabled, "
                    "created_at) VALUES (:u, '', :r, 4, '[]', 0, '2026-01-01')"
                ),
                {"u": f"old{n}", "r": roles},
            )
    engine.dispose()
    database = Database(url)
    database.migrate()
    with database.engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT username, roles FROM user_account")).fetchall())
    database.dispose()
    assert rows == {"old0": '["sysadmin"]', "old1": '["compliance"]', "old2": '["staff"]'}


def test_the_command_line_acts_as_a_named_account(cli: Cli) -> None:
    """Every CLI action is the account's, never `system`; an unknown account is refused with what to do."""
    assert cli("--user", "sysadmin", "verify", "--level", "structure").exit_code == 0
    made = cli("--user", "secadmin", "users", "create", "clerk", "--role", "staff", "--password-file", __file__)
    assert made.exit_code == 0, made.stderr
    log = cli("--user", "auditor", "audit", "events", "--json")
    assert log.exit_code == 0, log.stderr
    actors = {(event["actor"], event["action"], event["target"]) for event in log.json["events"]}
    assert ("sysadmin", "verify.run") in {(actor, action) for actor, action, _ in actors}
    assert ("secadmin", "user.create", "user:clerk") in actors
    by_system = {(action, target) for actor, action, target in actors if actor == "system"}
    assert by_system <= {("user.create", f"user:{name}") for name in ("sysadmin", "secadmin", "auditor")} | {
        ("token.issue", f"user:{name}") for name in ("sysadmin", "secadmin", "auditor")
    } | {("fonds.create", "fonds:F001")}  # only the installation's own work: bootstrap and the default fonds
    nobody = cli("--user", "nobody", "search", "x")
    assert nobody.exit_code == 6 and "--user NAME" in nobody.stderr
    refused = cli("--user", "auditor", "verify")
    assert refused.exit_code == 6 and "system administrator" in refused.stderr


def test_a_fresh_archive_answers_the_bootstrap_question(tmp_path: Path) -> None:
    context = make_context(tmp_path / "var")
    try:
        created = UserService(context).bootstrap().created
        assert sorted(account.role for account in created) == ["compliance", "secadmin", "sysadmin"]
        assert all(account.password and account.token for account in created)
    finally:
        context.close()


def test_anyone_changes_their_own_password_and_nothing_else(context: Context, client: TestClient) -> None:
    account(context, "li.wei", ["staff"], "internal")
    headers = bearer(context, "li.wei")
    changed = client.patch("/api/v1/users/li.wei", headers=headers, json={"password": "a new long passphrase"})
    assert changed.status_code == 200
    login = client.post("/api/v1/auth/login", json={"username": "li.wei", "password": "a new long passphrase"})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.json()['token']}"}
    assert client.patch("/api/v1/users/li.wei", headers=fresh, json={"clearance": "public"}).status_code == 403
    assert client.patch("/api/v1/users/auditor", headers=fresh, json={"password": "x" * 20}).status_code == 403


def test_the_last_security_auditor_cannot_be_disabled_or_demoted(context: Context, client: TestClient) -> None:
    """A security administrator disabled the compliance officer: the one who would have seen it."""
    secadmin = bearer(context, "secadmin")
    assert client.patch("/api/v1/users/auditor", headers=secadmin, json={"disabled": True}).status_code == 403
    assert client.patch("/api/v1/users/auditor", headers=secadmin, json={"roles": ["staff"]}).status_code == 403
    made = {"username": "auditor2", "password": PASSWORD, "roles": ["compliance"], "clearance": "top_secret"}
    assert client.post("/api/v1/users", headers=secadmin, json=made).status_code == 201
    assert client.patch("/api/v1/users/auditor", headers=secadmin, json={"disabled": True}).status_code == 200
    events = client.get("/api/v1/audit/events", headers=bearer(context, "auditor2"), params={"action": "user.*"})
    assert ("secadmin", "user.disable", "user:auditor") in {
        (e["actor"], e["action"], e["target"]) for e in events.json()["events"]
    }


def test_web_logins_and_refused_ingests_are_named_events(context: Context, client: TestClient) -> None:
    account(context, "li.wei", ["archivist"], "secret")
    login = client.post("/api/v1/auth/login", json={"username": "li.wei", "password": PASSWORD})
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    refused = client.post("/api/v1/documents", headers=headers, files={"file": ("x.tif", b"not a scan", "image/tiff")})
    assert refused.status_code == 415
    log = client.get("/api/v1/audit/events", headers=bearer(context, "auditor"), params={"user": "li.wei"}).json()
    seen = {(e["action"], e["client"], e["outcome"]) for e in log["events"]}
    assert ("token.issue", "testclient", "success") in seen and ("login", "testclient", "success") in seen
    assert ("ingest.refused", "testclient", "refused") in seen
