"""Login throttling cannot be used to lock someone out: failures count per (account, client address), the
wait grows 1 s, 2 s, 4 s ... up to 15 minutes, and a sprayer meets a wider cap per address across usernames.

Each address is a real TestClient with its own client host (what `request.client.host` reports)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.access.accounts import AccountService
from api.access.login_throttle import LoginThrottle
from api.access.users import UserService
from api.http.app import create_app
from api.wiring import Context
from archive.errors import AuthenticationRequired, TooManyAttempts
from archive.models import AuditEvent
from tests.actors import PASSWORD, account

WRONG = "not the password at all"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


def from_address(app: FastAPI, host: str) -> TestClient:
    return TestClient(app, client=(host, 40000))  # no lifespan: logins need no job runner


def login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object], str | None]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return response.status_code, response.json(), response.headers.get("retry-after")


def test_an_attacker_cannot_lock_the_auditor_out(context: Context) -> None:
    # The security auditor's account comes from the bootstrap, with the random password handed to its owner.
    [auditor] = [row for row in UserService(context).bootstrap().created if row.username == "auditor"]
    with context.db.session() as session:
        bootstrapped = max(e.id for e in session.scalars(select(AuditEvent)))
    app = create_app(context)
    attacker, owner = from_address(app, ATTACKER), from_address(app, OWNER)
    for _ in range(5):
        assert login(attacker, "auditor", WRONG)[0] == 401
    status, body, retry_after = login(attacker, "auditor", auditor.password)  # even the right password waits
    assert status == 429 and body["error"] == "too_many_attempts"
    assert "too many failed logins" in str(body["message"]) and "try again in 1 s" in str(body["message"])
    assert retry_after == "1"

    status, body, _ = login(owner, "auditor", auditor.password)
    assert status == 200 and body["token"]

    with context.db.session() as session:  # what happened after the bootstrap made the account
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > bootstrapped).order_by(AuditEvent.id)).all()
        attempts = [(e.outcome, e.client) for e in events if e.action == "login"]
        issued = [e for e in events if e.action == "token.issue"]
    assert attempts == [*[("failure", ATTACKER)] * 5, ("throttled", ATTACKER), ("success", OWNER)]
    assert [(e.actor, e.client, e.target) for e in issued] == [("auditor", OWNER, "user:auditor")]


def test_the_wait_doubles_with_each_further_failure(context: Context) -> None:
    account(context, "target", ["staff"], "public")
    attacker = from_address(create_app(context), ATTACKER)
    for _ in range(5):
        assert login(attacker, "target", WRONG)[0] == 401
    waits = []
    for _ in range(2):
        status, _, retry_after = login(attacker, "target", WRONG)
        assert status == 429 and retry_after is not None
        waits.append(int(retry_after))
        time.sleep(int(retry_after))  # Retry-After is rounded up: after it, one more try is let through
        assert login(attacker, "target", WRONG)[0] == 401
    assert waits == [1, 2]  # and 4, 8, ... up to 15 minutes: test_backoff_policy_numbers


def test_backoff_policy_numbers() -> None:
    policy = LoginThrottle()
    seconds = [policy.backoff(n, 5).total_seconds() for n in range(4, 20)]
    assert seconds[:6] == [0, 1, 2, 4, 8, 16]
    assert seconds[-1] == 900 and max(seconds) == 900  # capped at 15 minutes
    assert policy.backoff(10**9, 5) == dt.timedelta(minutes=15)


def test_a_success_starts_the_count_afresh(context: Context) -> None:
    account(context, "typist", ["staff"], "public")
    owner = from_address(create_app(context), OWNER)
    for _ in range(2):
        for _ in range(4):
            assert login(owner, "typist", WRONG)[0] == 401
        assert login(owner, "typist", PASSWORD)[0] == 200


def test_password_spraying_is_slowed_per_address(context: Context) -> None:
    """The per-address cap across usernames, through the service with a small cap (each guess is an Argon2 hash)."""
    account(context, "someone", ["staff"], "public")
    accounts = AccountService(context, throttle=LoginThrottle(client_free_failures=3))
    for n in range(3):  # one guess each at many usernames: no per-account count is ever reached
        with pytest.raises(AuthenticationRequired):
            accounts.login(f"user{n}", WRONG, client=ATTACKER)
    with pytest.raises(TooManyAttempts, match="from this address; try again in 1 s") as refused:
        accounts.login("someone", PASSWORD, client=ATTACKER)
    assert refused.value.retry_after == 1
    assert accounts.login("someone", PASSWORD, client=OWNER).token
    with pytest.raises(AuthenticationRequired):  # other addresses keep their own counts
        accounts.login("user0", WRONG, client=OWNER)
