"""The authorization matrix, generated from a policy table: every role × every route × every level × foreign ids.

What a user may *do* comes from their roles (403 when not allowed); what they may *see* from their clearance:
a record above it answers 404 exactly like one that does not exist, on every path, search included."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.services.accounts import AccountService
from api.services.maintenance import MaintenanceService
from api.services.users import UserService
from api.web import create_app
from api.wiring import Context
from archive.access import system_operator
from archive.models import Document
from archive.values import AccessLevel
from tests.conftest import make_context
from tests.pages import render

LEVELS: list[str | None] = ["public", "internal", "confidential", "secret", "top_secret", None]
ROLES = ["archivist", "staff", "compliance", "admin"]
CLEARANCE = AccessLevel.CONFIDENTIAL
FOREIGN_ID = 9999
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {id} is a document id
    roles: frozenset[str]  # who may use it at all
    on_document: bool  # answers 404 for documents the caller may not see
    body: dict[str, Any] | None = None


ANY = frozenset(ROLES)
EDITORS = frozenset({"archivist", "admin"})
POLICY = [
    Route("GET", "/api/v1/documents/{id}", ANY, True),
    Route("GET", "/api/v1/documents/{id}/pdf", ANY, True),
    Route("GET", "/api/v1/documents/{id}/original", ANY, True),
    Route("PATCH", "/api/v1/documents/{id}", EDITORS, True, {"date": "2020-01-02"}),
    Route("GET", "/api/v1/search?q=canary", ANY, False),
    Route("GET", "/api/v1/search/suggest?q=cana", ANY, False),
    Route("GET", "/api/v1/batches", ANY, False),
    Route("POST", "/api/v1/batches", EDITORS, False, {"fonds": "M1"}),
    Route("GET", "/api/v1/users", frozenset({"admin"}), False),
    Route("GET", "/api/v1/audit/events", frozenset({"compliance", "admin"}), False),
    Route("GET", "/api/v1/audit/alerts", frozenset({"compliance", "admin"}), False),
    Route(
        "POST",
        "/api/v1/users",
        frozenset({"admin"}),
        False,
        {"username": "x-{n}", "password": PASSWORD, "roles": ["staff"]},
    ),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, dict[str | None, int]]]:
    root = tmp_path_factory.mktemp("authz")
    context = make_context(root / "var")
    from api.cli.ingesting import ingest_paths
    from api.services.batches import BatchService

    ids: dict[str | None, int] = {}
    for n, level in enumerate(LEVELS):
        page = render(root / "in" / str(n), f"record-{n}.png", f"Canary record number {n}", "eng", seed=90 + n)
        batch = BatchService(context).create(actor="t", fonds="M1", languages="eng", level=level or "public")["id"]
        outcome = ingest_paths(context, [page], batch_id=batch)
        ids[level] = int(outcome.jobs[0]["document_id"])
    with context.db.write() as session:  # canary titles, and default deny for a record whose level was never set
        for level, document_id in ids.items():
            session.execute(
                update(Document)
                .where(Document.id == document_id)
                .values(title=f"canary 金丝雀 档案 {level or 'unlevelled'}")
            )
        session.execute(update(Document).where(Document.id == ids[None]).values(access_level=None))
    MaintenanceService(context).reindex(system_operator())
    yield context, ids
    context.close()


@pytest.fixture(scope="module")
def client(archive: tuple[Context, dict[str | None, int]]) -> Iterator[TestClient]:
    with TestClient(create_app(archive[0])) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def tokens(archive: tuple[Context, dict[str | None, int]]) -> dict[str, str]:
    context = archive[0]
    accounts = AccountService(context)
    result = {}
    for role in ROLES:
        accounts.create(actor="t", username=f"u-{role}", password=PASSWORD, roles=[role], clearance=CLEARANCE.label)
        result[role] = accounts.login(f"u-{role}", PASSWORD)["token"]
    return result


def expected_status(route: Route, role: str | None, level: str | None, exists: bool) -> int:
    if role is None:
        return 401
    if role not in route.roles:
        return 403
    if route.on_document:
        # default deny: a record with no level is for admins only
        visible = exists and (role == "admin" if level is None else AccessLevel.parse(level) <= CLEARANCE)
        if not visible:
            return 404
    return 201 if route.method == "POST" else 200


def test_authorization_matrix_has_no_mismatches(
    client: TestClient, archive: tuple[Context, dict[str | None, int]], tokens: dict[str, str]
) -> None:
    _, ids = archive
    targets: list[tuple[str | None, int, bool]] = [(level, ids[level], True) for level in LEVELS]
    targets.append(("public", FOREIGN_ID, False))
    mismatches, checked = [], 0
    for n, (route, role, (level, doc_id, exists)) in enumerate(itertools.product(POLICY, [*ROLES, None], targets)):
        if not route.on_document and (level, exists) != ("public", True):
            continue  # routes without a document are checked once per role
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        body = {k: (v.format(n=n) if isinstance(v, str) else v) for k, v in (route.body or {}).items()}
        response = client.request(
            route.method, route.path.format(id=doc_id), headers=headers, json=body if route.body else None
        )
        expected = expected_status(route, role, level, exists)
        checked += 1
        if response.status_code != expected:
            mismatches.append((route.method, route.path, role, level, exists, expected, response.status_code))
        if expected == 404 and response.status_code == 404:
            assert response.json()["message"] == f"document {doc_id} does not exist"  # hidden == missing
    assert mismatches == [], "\n".join(map(str, mismatches[:30]))
    assert checked == 4 * 5 * 7 + 8 * 5  # document routes × roles × targets, plus the other routes × roles
    print(f"authorization matrix: {checked} requests, 0 mismatches")


def visible_to(role: str, ids: dict[str | None, int]) -> set[int]:
    """The records a user cleared for confidential sees; unlevelled ones are for admins only."""
    return {ids[level] for level in ("public", "internal", "confidential")} | (
        {ids[None]} if role == "admin" else set()
    )


@pytest.mark.parametrize("word", ["canary", "金丝雀", "CANARY", "档案", "丝雀"])
def test_canaries_above_clearance_never_show_in_search(
    client: TestClient, tokens: dict[str, str], archive: tuple[Context, dict[str | None, int]], word: str
) -> None:
    _, ids = archive
    for role in ROLES:
        visible = visible_to(role, ids)
        found = client.get("/api/v1/search", params={"q": word}, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert found.status_code == 200
        body = found.json()
        assert {hit["document_id"] for hit in body["hits"]} == visible, (role, word)
        assert body["total"] == len(visible)
        assert sum(body["facets"]["level"].values()) == len(visible)  # facets count only what may be seen
        assert set(body["facets"]["level"]) <= {"public", "internal", "confidential", "unlevelled"}


@pytest.mark.parametrize("typed", ["cana", "canary", "CANARY 金丝", "金", "金丝雀 档"])
def test_suggestions_offer_only_visible_records(
    client: TestClient, tokens: dict[str, str], archive: tuple[Context, dict[str | None, int]], typed: str
) -> None:
    _, ids = archive
    for role in ROLES:
        visible = visible_to(role, ids)
        answer = client.get(
            "/api/v1/search/suggest",
            params={"q": typed, "limit": 20},
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )
        assert answer.status_code == 200
        offered = answer.json()["suggestions"]
        assert {s["document_id"] for s in offered} == visible, (role, typed)
        assert all(s["title"].startswith("canary 金丝雀 档案") for s in offered)


def test_a_level_change_takes_effect_on_the_next_request(
    client: TestClient, tokens: dict[str, str], archive: tuple[Context, dict[str | None, int]]
) -> None:
    context, ids = archive
    admin = UserService(context).create_admin("root-admin", if_missing=True)["token"]
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    doc = ids["internal"]
    assert client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 200
    raised = client.patch(
        f"/api/v1/documents/{doc}", headers={"Authorization": f"Bearer {admin}"}, json={"level": "secret"}
    )
    assert raised.status_code == 200
    assert client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 404
    assert doc not in {
        h["document_id"] for h in client.get("/api/v1/search", params={"q": "canary"}, headers=staff).json()["hits"]
    }
    client.patch(f"/api/v1/documents/{doc}", headers={"Authorization": f"Bearer {admin}"}, json={"level": "internal"})
    assert client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"title": "t", "access_level": 4},
        {"title": "t", "status": "filed"},
        {"roles": ["admin"]},
        {"clearance": "top_secret"},
    ],
)
def test_mass_assignment_is_refused(
    client: TestClient, tokens: dict[str, str], archive: tuple[Context, dict[str | None, int]], body: dict[str, Any]
) -> None:
    _, ids = archive
    archivist = {"Authorization": f"Bearer {tokens['archivist']}"}
    response = client.patch(f"/api/v1/documents/{ids['public']}", headers=archivist, json=body)
    assert response.status_code == 400
    login = client.post("/api/v1/auth/login", json={"username": "u-staff", "password": PASSWORD, **body})
    assert login.status_code == 400


def test_logins_are_throttled_and_audited(client: TestClient, archive: tuple[Context, dict[str | None, int]]) -> None:
    context, _ = archive
    AccountService(context).create(actor="t", username="victim", password=PASSWORD, roles=["staff"], clearance="public")
    for _ in range(5):
        assert (
            client.post("/api/v1/auth/login", json={"username": "victim", "password": "wrong-" * 3}).status_code == 401
        )
    refused = client.post("/api/v1/auth/login", json={"username": "victim", "password": PASSWORD})
    assert refused.status_code == 429 and "too many failed logins" in refused.json()["message"]


def test_disabling_a_user_revokes_their_tokens(
    client: TestClient, archive: tuple[Context, dict[str | None, int]]
) -> None:
    context, _ = archive
    accounts = AccountService(context)
    accounts.create(actor="t", username="leaver", password=PASSWORD, roles=["staff"], clearance="public")
    token = client.post("/api/v1/auth/login", json={"username": "leaver", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/search", params={"q": "canary"}, headers=headers).status_code == 200
    accounts.update(actor="t", username="leaver", disabled=True)
    assert client.get("/api/v1/search", params={"q": "canary"}, headers=headers).status_code == 401
    accounts.update(actor="t", username="leaver", disabled=False)
    assert client.get("/api/v1/search", params={"q": "canary"}, headers=headers).status_code == 401  # stays revoked
    again = client.post("/api/v1/auth/login", json={"username": "leaver", "password": PASSWORD})
    assert again.status_code == 200
    out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {again.json()['token']}"})
    assert out.status_code == 200
    assert (
        client.get("/api/v1/batches", headers={"Authorization": f"Bearer {again.json()['token']}"}).status_code == 401
    )
