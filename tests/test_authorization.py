"""The authorization matrix, generated from the app's own route table: every route × every role × clearances ×
departments × {visible, hidden, missing} ids. A route without a row in POLICY fails the test.

The expectations here are written independently of archive/permissions.py: who may use a route (403 otherwise)
and who may see a record (404 otherwise, exactly like a missing one, message included)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.access.users import UserService
from api.http.app import create_app
from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.preservation.maintenance import MaintenanceService
from api.preservation.reindexing import IndexRebuilds
from api.preservation.verification import VerificationService
from api.wiring import Context
from archive.models import Document, IngestJob, Page, User
from archive.values import AccessLevel
from tests.actors import ARCHIVIST, REVIEWER, SYSADMIN
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch

MISSING = 999_999
ROLES = ["archivist", "staff", "compliance", "sysadmin", "secadmin"]
CLEARANCES = ["public", "confidential", "top_secret"]
DEPARTMENTS: list[tuple[str, ...]] = [(), ("finance",)]
READERS = frozenset({"archivist", "staff", "compliance", "sysadmin"})
WORKERS = frozenset({"archivist", "sysadmin"})  # who sees work in progress: jobs, batches, unfiled items


@dataclass(frozen=True)
class Record:
    """One catalogued item of the fixture, with the facts visibility depends on."""

    name: str
    level: str | None
    department: str | None = None
    filed: bool = True


RECORDS = [
    Record("public", "public"),
    Record("internal", "internal"),
    Record("confidential", "confidential"),
    Record("secret", "secret"),
    Record("top_secret", "top_secret"),
    Record("unlevelled", None),
    Record("finance", "internal", department="finance"),
    Record("unfiled", "internal", filed=False),
]


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    clearance: str
    departments: tuple[str, ...]


def sees(user: Person, record: Record) -> bool:
    """The rule as DESIGN.md states it."""
    if user.role not in READERS:
        return False
    if record.level is None:
        return user.role == "sysadmin"
    if AccessLevel.parse(record.level) > AccessLevel.parse(user.clearance):
        return False
    if record.department and user.role != "sysadmin" and record.department not in user.departments:
        return False
    return record.filed or user.role in WORKERS


def sees_batch(user: Person, record: Record) -> bool:
    batch_level = record.level or "public"  # the unlevelled record's batch was made at `public`
    return user.role in WORKERS and AccessLevel.parse(batch_level) <= AccessLevel.parse(user.clearance)


@dataclass(frozen=True)
class Row:
    """A route's policy: who may use it, what it names, what a permitted call answers."""

    roles: frozenset[str] | None  # None: public (no token needed)
    target: str | None = None  # document | job | page | batch | run | browse (the record's series and box)
    ok: int = 200  # the status a permitted call on a visible target answers
    body: Callable[[dict[str, int]], dict[str, Any]] | None = None
    files: str | None = None  # the multipart field of one broken file
    query: str = ""
    fresh_token: bool = False  # the call revokes the token it is made with
    ok_for: dict[str, int] = field(default_factory=dict)  # another answer for the returned batch's record
    names_page: bool = False  # the body names the record's page too: hidden page, 404
    settle: bool = False  # the call starts background work: wait for it to end before the next call


def broken_file(name: str) -> dict[str, Any]:
    return {name: ("note.tif", b"not a tiff at all", "image/tiff")}


ALL = frozenset(ROLES)
POLICY: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(None),
    ("GET", "/"): Row(None),
    ("GET", "/docs"): Row(None),  # the API documentation page; its spec, /openapi.json, is public too
    ("POST", "/api/v1/auth/login"): Row(None, body=lambda ids: {"username": "probe", "password": "probe password"}),
    ("POST", "/api/v1/auth/logout"): Row(ALL, fresh_token=True),
    ("GET", "/api/v1/auth/me"): Row(ALL),  # any signed-in account: who it is and what its roles allow
    # records
    ("GET", "/api/v1/documents/{document_id}"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/pdf"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/original"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/text"): Row(READERS, "document", query="?page=1"),
    ("PATCH", "/api/v1/documents/{document_id}"): Row(WORKERS, "document", 400, body=lambda ids: {"title": " "}),
    ("POST", "/api/v1/documents/{document_id}/withdraw"): Row(
        frozenset({"sysadmin"}), "document", 400, body=lambda ids: {"reason": " "}
    ),
    ("GET", "/api/v1/documents/{document_id}/history"): Row(READERS - {"staff"}, "document"),
    ("GET", "/api/v1/schedule"): Row(frozenset({"sysadmin"})),
    ("POST", "/api/v1/schedule/{duty}/run"): Row(frozenset({"sysadmin"})),  # the duty: a checkpoint
    ("POST", "/api/v1/audit/compliance-report"): Row(frozenset({"compliance"}), query="?days=1"),
    ("GET", "/api/v1/audit/compliance-reports"): Row(frozenset({"compliance"})),
    # a well-formed stamp of no kept report: the auditor hears 404, everyone else 403
    ("GET", "/api/v1/audit/compliance-reports/{stamp}"): Row(frozenset({"compliance"}), ok=404),
    ("GET", "/api/v1/audit/compliance-reports/{stamp}/html"): Row(frozenset({"compliance"}), ok=404),
    ("GET", "/api/v1/documents/{document_id}/pages"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/pages/{number}/image"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/pages/{number}/thumbnail"): Row(READERS, "document"),
    ("GET", "/api/v1/documents/{document_id}/pages/{number}/words"): Row(READERS, "document", query="?q=canary"),
    ("GET", "/api/v1/documents/recent"): Row(READERS, query="?limit=5"),
    ("GET", "/api/v1/browse"): Row(READERS),
    ("GET", "/api/v1/browse/{fonds}"): Row(READERS),  # every reader sees the public record of fonds M1
    ("GET", "/api/v1/browse/{fonds}/{series}"): Row(READERS, "browse"),
    ("GET", "/api/v1/browse/{fonds}/{series}/{box}"): Row(READERS, "browse"),
    ("GET", "/api/v1/search"): Row(READERS, query="?q=canary"),
    ("GET", "/api/v1/search/suggest"): Row(READERS, query="?q=cana"),
    # ingest and the archivist's workflow
    ("POST", "/api/v1/documents"): Row(frozenset({"archivist"}), ok=415, files="file"),
    ("GET", "/api/v1/jobs/{job_id}"): Row(WORKERS, "job"),
    ("GET", "/api/v1/jobs"): Row(WORKERS, query="?all=true"),
    ("POST", "/api/v1/jobs/{job_id}/retry"): Row(WORKERS, "job", 409),  # every fixture job is done: not retryable
    ("POST", "/api/v1/jobs/retry-failed"): Row(WORKERS),  # none failed: nothing queued, 200
    ("POST", "/api/v1/batches"): Row(
        frozenset({"archivist"}), ok=201, body=lambda ids: {"fonds": "M2", "level": "public"}
    ),
    ("GET", "/api/v1/batches"): Row(WORKERS),
    ("GET", "/api/v1/batches/{batch_id}"): Row(WORKERS, "batch"),
    ("GET", "/api/v1/batches/{batch_id}/report"): Row(WORKERS, "batch", query="?format=html"),
    ("POST", "/api/v1/batches/{batch_id}/files"): Row(
        frozenset({"archivist"}), "batch", 409, files="files", ok_for={"unfiled": 415}
    ),
    ("POST", "/api/v1/batches/{batch_id}/sample"): Row(frozenset({"archivist"}), "batch", 409, body=lambda ids: {}),
    ("POST", "/api/v1/batches/{batch_id}/verdicts"): Row(
        frozenset({"archivist"}),
        "batch",
        409,
        body=lambda ids: {"page_id": ids.get("page", MISSING), "verdict": "pass"},
        names_page=True,
    ),
    ("POST", "/api/v1/batches/{batch_id}/decision"): Row(frozenset({"archivist"}), "batch", 409),
    ("POST", "/api/v1/batches/{batch_id}/file"): Row(frozenset({"archivist"}), "batch", 409),
    ("POST", "/api/v1/batches/{batch_id}/reopen"): Row(
        frozenset({"archivist"}), "batch", 400, body=lambda ids: {"reason": " "}
    ),
    ("PUT", "/api/v1/batches/{batch_id}/process"): Row(
        frozenset({"archivist"}), "batch", 409, body=lambda ids: {"scan_dpi": 300}, ok_for={"unfiled": 200}
    ),  # filed batches keep their process metadata; the returned one may change
    # scanning devices: the archivist and the system administrator ({code} is M1: no such device)
    ("GET", "/api/v1/devices"): Row(WORKERS),
    ("POST", "/api/v1/devices"): Row(WORKERS, ok=400, body=lambda ids: {"code": "not a code", "name": "probe"}),
    ("GET", "/api/v1/devices/{code}"): Row(WORKERS, ok=404),
    ("POST", "/api/v1/devices/{code}/maintenance"): Row(WORKERS, ok=404, body=lambda ids: {"result": "pass"}),
    ("POST", "/api/v1/devices/{code}/retire"): Row(WORKERS, ok=404),
    ("GET", "/api/v1/fonds/{code}/template"): Row(frozenset({"archivist"})),
    # descriptive metadata: the Excel 目录 of what the caller may see, custom fields per series
    ("GET", "/api/v1/catalogue.xlsx"): Row(READERS, query="?fonds=M1"),
    ("GET", "/api/v1/fonds/{code}/fields"): Row(READERS),
    ("POST", "/api/v1/fonds/{code}/fields"): Row(
        frozenset({"archivist"}), ok=400, body=lambda ids: {"name": "Not A Name"}
    ),
    ("DELETE", "/api/v1/fonds/{code}/fields/{field}"): Row(frozenset({"archivist"}), ok=404),
    ("GET", "/api/v1/fonds/{code}/template/preview"): Row(
        frozenset({"archivist"}),
        query="?template=%7Bnonsense%7D",  # a bad template is reported, not refused
    ),
    ("PUT", "/api/v1/fonds/{code}/template"): Row(
        frozenset({"archivist"}), ok=400, body=lambda ids: {"template": "{nonsense}", "reason": "matrix"}
    ),
    ("POST", "/api/v1/pages/{page_id}/review"): Row(
        frozenset({"archivist"}), "page", 409, body=lambda ids: {"action": "accept"}
    ),
    ("POST", "/api/v1/pages/{page_id}/rescan"): Row(
        frozenset({"archivist"}), "page", 409, files="file", ok_for={"unfiled": 415}
    ),
    # security administration
    ("GET", "/api/v1/users"): Row(frozenset({"secadmin", "compliance"})),
    ("POST", "/api/v1/users"): Row(
        frozenset({"secadmin"}),
        ok=409,
        body=lambda ids: {"username": "probe", "password": "x" * 20, "roles": ["staff"], "clearance": "public"},
    ),
    ("PATCH", "/api/v1/users/{username}"): Row(frozenset({"secadmin"}), body=lambda ids: {"disabled": False}),
    ("GET", "/api/v1/users/{username}/tokens"): Row(frozenset({"secadmin", "compliance"})),
    ("DELETE", "/api/v1/users/{username}/tokens/{token_id}"): Row(frozenset({"secadmin"}), ok=404),  # no such token
    ("POST", "/api/v1/users/{username}/password-reset"): Row(
        frozenset({"secadmin"}),
        body=lambda ids: {"password": "probe password"},  # the login row keeps working
    ),
    ("GET", "/api/v1/departments"): Row(frozenset({"secadmin", "compliance"})),
    # security audit
    ("GET", "/api/v1/audit/events"): Row(frozenset({"compliance"}), query="?limit=5"),
    ("GET", "/api/v1/audit/export"): Row(frozenset({"compliance"}), query="?limit=5"),
    ("GET", "/api/v1/audit/alerts"): Row(frozenset({"compliance"})),
    ("POST", "/api/v1/audit/verify"): Row(frozenset({"compliance", "sysadmin"})),
    ("POST", "/api/v1/audit/checkpoints"): Row(frozenset({"compliance", "sysadmin"}), ok=201),
    # system administration
    ("POST", "/api/v1/verify"): Row(frozenset({"sysadmin"}), body=lambda ids: {"level": "structure"}),
    ("GET", "/api/v1/verify/runs"): Row(frozenset({"sysadmin", "compliance"})),
    ("GET", "/api/v1/verify/runs/{run_id}"): Row(frozenset({"sysadmin", "compliance"}), "run"),
    # DA/T 70 four-property checks: the archivist and the system administrator, of batches they may see
    ("POST", "/api/v1/dat70/checks"): Row(
        frozenset({"archivist", "sysadmin"}), "batch", body=lambda ids: {"batch_id": ids.get("batch", MISSING)}
    ),
    ("GET", "/api/v1/dat70/runs"): Row(frozenset({"archivist", "sysadmin"})),
    ("GET", "/api/v1/dat70/runs/{run_id}"): Row(frozenset({"archivist", "sysadmin"}), ok=404),  # no such run
    ("GET", "/api/v1/dat70/runs/{run_id}/html"): Row(frozenset({"archivist", "sysadmin"}), ok=404),
    ("GET", "/api/v1/backups"): Row(frozenset({"sysadmin"})),
    ("POST", "/api/v1/backups"): Row(
        frozenset({"sysadmin"}), ok=400, body=lambda ids: {"name": "Not A Name", "path": "/srv/backup"}
    ),
    ("DELETE", "/api/v1/backups/{target}"): Row(frozenset({"sysadmin"}), ok=404),  # no such target
    ("GET", "/api/v1/status"): Row(frozenset({"sysadmin", "archivist"})),
    ("POST", "/api/v1/backups/{target}/run"): Row(frozenset({"sysadmin"}), ok=404),
    ("POST", "/api/v1/backups/{target}/drill"): Row(frozenset({"sysadmin"}), ok=404, body=lambda ids: {}),
    ("POST", "/api/v1/backups/repair"): Row(frozenset({"sysadmin"}), ok=404, body=lambda ids: {}),
    # master keys of encryption at rest: the system administrator's
    ("GET", "/api/v1/keys"): Row(frozenset({"sysadmin"})),
    ("POST", "/api/v1/keys/rotate"): Row(frozenset({"sysadmin"})),
    ("POST", "/api/v1/keys/recover"): Row(frozenset({"sysadmin"}), ok=404, body=lambda ids: {"target": "nowhere"}),
    ("POST", "/api/v1/keys/encrypt-pending"): Row(frozenset({"sysadmin"})),
    ("GET", "/api/v1/backups/runs"): Row(frozenset({"sysadmin"})),
    ("GET", "/api/v1/backups/drills"): Row(frozenset({"sysadmin"})),
    ("POST", "/api/v1/index/rebuild"): Row(frozenset({"sysadmin"}), ok=202, settle=True),
    ("GET", "/api/v1/index/rebuild"): Row(frozenset({"sysadmin"})),
    # retention and disposition: lists for readers (only what each may see); refusals of a blank reason before
    # anything is named; a record named in the path is 404 when hidden
    ("GET", "/api/v1/retention/due"): Row(READERS, query="?within_days=30"),
    ("PUT", "/api/v1/retention/records/{document_id}"): Row(
        frozenset({"archivist"}),
        "document",
        body=lambda ids: {"retention": "Y10", "reason": "matrix"},
        ok_for={"unfiled": 409},  # only filed or withdrawn records have a retention to manage
    ),
    ("POST", "/api/v1/retention/appraisals"): Row(
        frozenset({"archivist"}), ok=400, body=lambda ids: {"document_id": 1, "decision": "keep", "reason": " "}
    ),
    ("GET", "/api/v1/retention/holds"): Row(READERS),
    ("POST", "/api/v1/retention/holds"): Row(
        frozenset({"archivist", "compliance"}), ok=400, body=lambda ids: {"document_id": 1, "reason": " "}
    ),
    ("POST", "/api/v1/retention/holds/{document_id}/release"): Row(
        frozenset({"archivist", "compliance"}), "document", 409, body=lambda ids: {"reason": "matrix"}
    ),  # not held
    ("GET", "/api/v1/retention/dispositions"): Row(READERS),
    ("POST", "/api/v1/retention/dispositions"): Row(
        frozenset({"archivist"}),
        ok=400,
        body=lambda ids: {"action": "destroy", "document_ids": [1], "reason": " "},
    ),
    ("GET", "/api/v1/retention/dispositions/{disposition_id}"): Row(READERS, ok=404),  # none exists
    ("POST", "/api/v1/retention/dispositions/{disposition_id}/approve"): Row(frozenset({"archivist"}), ok=404),
    ("POST", "/api/v1/retention/dispositions/{disposition_id}/cancel"): Row(
        frozenset({"archivist"}), ok=404, body=lambda ids: {"reason": "matrix"}
    ),
    ("POST", "/api/v1/retention/dispositions/{disposition_id}/execute"): Row(
        frozenset({"archivist", "sysadmin"}), ok=404
    ),
    ("GET", "/api/v1/retention/dispositions/{disposition_id}/certificate"): Row(READERS, ok=404),
    ("POST", "/api/v1/retention/dispositions/{disposition_id}/certificate/verify"): Row(READERS, ok=404),
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves, included routers too."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods):
                    yield method, prefix + route.path
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    yield from walk(list(app.routes), "")


@dataclass
class Fixture:
    context: Context
    client: TestClient
    users: list[Person]
    tokens: dict[str, str]
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # record name -> {document, job, page, batch}
    run_id: int = 0


def return_batch(context: Context, batch_id: int) -> None:
    """Sampled, failed, returned, nothing rescanned yet: its item is work in progress."""
    acceptance = AcceptanceService(context)
    sample = acceptance.draw(batch_id, actor=REVIEWER, percent=100, minimum=1)
    for row in sample["pages"]:
        acceptance.record_verdict(batch_id, row["page_id"], actor=REVIEWER, passed=False, defect="illegible")
    assert acceptance.decide(batch_id, actor=REVIEWER)["decision"] == "returned"


def _ingest(context: Context, root: Any) -> dict[str, dict[str, int]]:
    ids: dict[str, dict[str, int]] = {}
    for n, record in enumerate(RECORDS):
        page = render(root / "in" / str(n), f"record-{n}.png", f"Canary record number {n}", "eng", seed=90 + n)
        batch = (
            BatchService(context)
            .create(
                actor=ARCHIVIST,
                fonds="M1",
                series=f"S{n}",
                box=f"B{n}",
                languages="eng",
                level=record.level or "public",
            )
            .id
        )
        job = ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch).jobs[0]
        if record.filed:
            file_batch(context, batch)
        else:
            return_batch(context, batch)
        with context.db.write() as session:  # then the scope: default deny and department scopes
            document = session.get(Document, job.document_id)
            assert document is not None
            document.title = f"canary 金丝雀 档案 {record.name}"
            document.departments = [record.department] if record.department else []
            if record.level is None:
                document.access_level = None  # default deny: a record whose level was never set
            page_id = session.scalars(select(Page.id).where(Page.document_id == document.id)).one()
        ids[record.name] = {"document": job.document_id, "job": job.id, "page": page_id, "batch": batch, "browse": n}
    return ids


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Fixture]:
    """The archive every test here asks, once on SQLite and once on PostgreSQL (where department scopes are
    read from JSON by the server: archive/visibility.py)."""
    root = tmp_path_factory.mktemp("authz")
    url = request.getfixturevalue("pg_server").create_database() if request.param == "postgresql" else None
    context = make_context(root / "var", database_url=url)
    ids = _ingest(context, root)
    MaintenanceService(context).reindex(SYSADMIN)
    run_id = VerificationService(context).verify(SYSADMIN, level="structure").run_id
    users = [
        Person(f"u-{role}-{clearance}-{'-'.join(deps) or 'all'}", role, clearance, deps)
        for role, clearance, deps in itertools.product(ROLES, CLEARANCES, DEPARTMENTS)
        if not deps or (role in READERS and clearance == "confidential")  # departments matter to readers only
    ]
    service = UserService(context)
    with context.db.write() as session:  # the matrix's own accounts (the account rules are tested elsewhere)
        for user in users:
            session.add(
                User(
                    username=user.name,
                    roles=[user.role],
                    clearance=int(AccessLevel.parse(user.clearance)),
                    departments=list(user.departments),
                )
            )
        session.add(User(username="probe", roles=["staff"], clearance=0, departments=[]))
    with context.db.write() as session:
        tokens = {
            user.name: service.issue(
                session, session.scalars(select(User).where(User.username == user.name)).one(), label="t", actor="t"
            )
            for user in users
        }
    from archive.passwords import hash_password

    with context.db.write() as session:
        session.execute(
            update(User).where(User.username == "probe").values(password_hash=hash_password("probe password"))
        )
    with TestClient(create_app(context)) as client:
        yield Fixture(context, client, users, tokens, ids, run_id)
    context.close()


def _url(path: str, row: Row, ids: dict[str, int]) -> str:
    values = {
        "document_id": ids.get("document", MISSING),
        "job_id": ids.get("job", MISSING),
        "page_id": ids.get("page", MISSING),
        "batch_id": ids.get("batch", MISSING),
        "run_id": ids.get("run", MISSING),
        "disposition_id": MISSING,
        "username": "probe",
        "code": "M1",
        "field": "probe",
        "target": "nowhere",
        "duty": "checkpoint",
        "stamp": "20000101T000000Z",
        "token_id": MISSING,
        "number": 1,
        "fonds": "M1",
        "series": f"S{ids['browse']}" if "browse" in ids else "S-none",  # each record is alone in its series and box
        "box": f"B{ids['browse']}" if "browse" in ids else "B-none",
    }
    return path.format(**values) + row.query


def _expected(row: Row, user: Person | None, record: Record | None, exists: bool) -> int:
    if row.roles is None:
        return row.ok
    if user is None:
        return 401
    if user.role not in row.roles:
        return 403
    if row.target in ("document", "job", "page", "browse") and not (
        exists and record is not None and sees(user, record)
    ):
        return 404
    if row.target == "batch" and not (exists and record is not None and sees_batch(user, record)):
        return 404
    if row.names_page and not (record is not None and sees(user, record)):
        return 404
    if row.target == "run" and not exists:
        return 404
    return row.ok_for.get(record.name, row.ok) if record is not None else row.ok


def _call(fx: Fixture, method: str, url: str, row: Row, user: Person | None, ids: dict[str, int]) -> Any:
    headers = {}
    if user is not None:
        token = fx.tokens[user.name]
        if row.fresh_token:
            service = UserService(fx.context)
            token = service.issue_token(service.principal(user.name), user.name, label="fresh").token
        headers["Authorization"] = f"Bearer {token}"
    if row.files:
        return fx.client.request(method, url, headers=headers, files=broken_file(row.files))
    body = row.body(ids) if row.body else None
    response = fx.client.request(method, url, headers=headers, json=body)
    if row.settle:
        IndexRebuilds(fx.context).wait()
    return response


def test_every_route_has_a_policy_row(matrix: Fixture) -> None:
    served = set(app_routes(matrix.client.app))  # type: ignore[arg-type]
    assert served - set(POLICY) == set(), "routes without a policy row"
    assert set(POLICY) - served == set(), "policy rows for routes that do not exist"


@pytest.mark.slow  # ~2,000 requests over every route; `make test` runs it
def test_authorization_matrix_has_no_mismatches(matrix: Fixture) -> None:
    mismatches: list[tuple[Any, ...]] = []
    checked = 0
    principals: list[Person | None] = [*matrix.users, None]
    for (method, path), row in POLICY.items():
        if row.target in ("document", "job", "page", "batch", "browse"):
            targets = [(record, matrix.ids[record.name], True) for record in RECORDS] + [(None, {}, False)]
        elif row.target == "run":
            targets = [(None, {"run": matrix.run_id}, True), (None, {}, False)]
        else:
            targets = [(None, {"page": matrix.ids["public"]["page"]}, True)]
        for user, (record, ids, exists) in itertools.product(principals, targets):
            if (user is None or row.roles is None or user.role not in row.roles) and (record, exists) not in (
                (targets[0][0], True),
                (None, False),
            ):
                continue  # a refusal (401/403) does not depend on the target: one that exists, one that does not
            response = _call(matrix, method, _url(path, row, ids), row, user, ids)
            expected = _expected(row, user, record, exists)
            checked += 1
            if response.status_code != expected:
                mismatches.append(
                    (
                        method,
                        path,
                        user and user.name,
                        record and record.name,
                        expected,
                        response.status_code,
                        response.text[:160],
                    )
                )
            elif expected == 404 and row.target in ("document", "job", "page", "batch"):
                kind = row.target
                if row.names_page and user is not None and record is not None and sees_batch(user, record):
                    kind = "page"  # the batch is visible; the page the body names is not
                wanted = f"{kind} {ids.get(kind, MISSING)} does not exist"
                if not response.json()["message"].startswith(wanted):  # hidden answers exactly like missing
                    mismatches.append(
                        (
                            method,
                            path,
                            user and user.name,
                            record and record.name,
                            "message",
                            response.json()["message"],
                        )
                    )
    print(f"authorization matrix: {checked} requests over {len(POLICY)} routes, {len(mismatches)} mismatches")
    Path("/tmp/matrix-mismatches.txt").write_text("\n".join(map(str, mismatches)))
    assert mismatches == [], "\n".join(map(str, mismatches[:40]))


OWN_ACCOUNT = {("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/logout")}  # and one's own password (below)


def test_a_session_held_to_changing_its_password_may_use_no_other_route(matrix: Fixture) -> None:
    """Signed in with a password someone else set: every route that needs a token answers 403
    password_change_required (before its role, its target or its body are looked at), but for reading one's
    own account, signing out and changing one's own password. A new route gets this row for free."""
    from archive.passwords import hash_password

    given = "given by the security administrator"
    with matrix.context.db.write() as session:
        session.add(
            User(
                username="held",
                roles=["sysadmin"],
                clearance=int(AccessLevel.TOP_SECRET),
                departments=[],
                password_hash=hash_password(given),
                password_change_required=True,
            )
        )

    def held_session() -> dict[str, str]:
        login = matrix.client.post("/api/v1/auth/login", json={"username": "held", "password": given}).json()
        assert login["password_change_required"] is True
        return {"Authorization": f"Bearer {login['token']}"}

    headers = held_session()
    ids = matrix.ids["public"]
    wrong = []
    for (method, path), row in POLICY.items():
        if row.roles is None or (method, path) in OWN_ACCOUNT:
            continue
        url = _url(path, row, ids)  # PATCH /users/{username} names another account (probe): refused too
        if row.files:
            response = matrix.client.request(method, url, headers=headers, files=broken_file(row.files))
        else:
            response = matrix.client.request(method, url, headers=headers, json=row.body(ids) if row.body else None)
        if response.status_code != 403 or response.json()["error"] != "password_change_required":
            wrong.append((method, path, response.status_code, response.text[:120]))
    assert wrong == []
    assert matrix.client.get("/api/v1/auth/me", headers=headers).json()["may"] == []
    assert matrix.client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    headers = held_session()
    changed = matrix.client.patch("/api/v1/users/held", headers=headers, json={"password": "held no longer, mine"})
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False


def test_a_batch_view_lists_only_what_the_caller_may_see(matrix: Fixture) -> None:
    """The unlevelled record's batch is visible to a top-secret archivist; its item is not (default deny)."""
    batch, document = matrix.ids["unlevelled"]["batch"], matrix.ids["unlevelled"]["document"]
    with matrix.context.db.session() as session:
        reference = session.get(Document, document).reference_code  # type: ignore[union-attr]
        job = session.get(IngestJob, matrix.ids["unlevelled"]["job"])
        assert job is not None
    headers = {"Authorization": f"Bearer {matrix.tokens['u-archivist-top_secret-all']}"}
    for url in (
        f"/api/v1/batches/{batch}",
        f"/api/v1/batches/{batch}/report",
        f"/api/v1/batches/{batch}/report?format=html",
    ):
        answer = matrix.client.get(url, headers=headers)
        assert answer.status_code == 200
        assert reference not in answer.text and job.source_name not in answer.text
    sysadmin = {"Authorization": f"Bearer {matrix.tokens['u-sysadmin-top_secret-all']}"}
    assert reference in matrix.client.get(f"/api/v1/batches/{batch}/report", headers=sysadmin).text


def _headers(matrix: Fixture, role: str, clearance: str = "confidential", deps: str = "all") -> dict[str, str]:
    return {"Authorization": f"Bearer {matrix.tokens[f'u-{role}-{clearance}-{deps}']}"}


def _visible_ids(matrix: Fixture, role: str, clearance: str = "confidential") -> set[int]:
    user = Person("x", role, clearance, ())
    return {matrix.ids[r.name]["document"] for r in RECORDS if sees(user, r)}


@pytest.mark.parametrize("word", ["canary", "金丝雀", "CANARY", "档案", "丝雀"])
def test_canaries_beyond_the_scope_never_show_in_search(matrix: Fixture, word: str) -> None:
    for role in READERS:
        visible = _visible_ids(matrix, role)
        found = matrix.client.get("/api/v1/search", params={"q": word}, headers=_headers(matrix, role))
        assert found.status_code == 200
        body = found.json()
        assert {hit["document_id"] for hit in body["hits"]} == visible, (role, word)
        assert body["total"] == len(visible)
        assert sum(body["facets"]["level"].values()) == len(visible)  # facets count only what may be seen


@pytest.mark.parametrize("typed", ["cana", "canary", "CANARY 金丝", "金", "金丝雀 档"])
def test_suggestions_offer_only_visible_records(matrix: Fixture, typed: str) -> None:
    for role in READERS:
        answer = matrix.client.get(
            "/api/v1/search/suggest", params={"q": typed, "limit": 20}, headers=_headers(matrix, role)
        )
        assert answer.status_code == 200
        assert {s["document_id"] for s in answer.json()["suggestions"]} == _visible_ids(matrix, role), (role, typed)


def test_staff_see_an_item_only_once_its_batch_is_filed(matrix: Fixture) -> None:
    unfiled = matrix.ids["unfiled"]["document"]
    for role, expected in (("staff", 404), ("compliance", 404), ("archivist", 200), ("sysadmin", 200)):
        assert matrix.client.get(f"/api/v1/documents/{unfiled}", headers=_headers(matrix, role)).status_code == expected
        hits = matrix.client.get("/api/v1/search", params={"q": "unfiled"}, headers=_headers(matrix, role)).json()
        assert (unfiled in {h["document_id"] for h in hits["hits"]}) == (expected == 200), role


def test_a_level_change_takes_effect_on_the_next_request(matrix: Fixture) -> None:
    staff, editor = _headers(matrix, "staff"), _headers(matrix, "archivist", "top_secret")
    doc = matrix.ids["internal"]["document"]
    assert matrix.client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 200
    assert matrix.client.patch(f"/api/v1/documents/{doc}", headers=editor, json={"level": "secret"}).status_code == 200
    assert matrix.client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 404
    hits = matrix.client.get("/api/v1/search", params={"q": "canary"}, headers=staff).json()["hits"]
    assert doc not in {h["document_id"] for h in hits}
    matrix.client.patch(f"/api/v1/documents/{doc}", headers=editor, json={"level": "internal"})
    assert matrix.client.get(f"/api/v1/documents/{doc}", headers=staff).status_code == 200


def test_nobody_sets_a_level_above_their_own_clearance(matrix: Fixture) -> None:
    doc = matrix.ids["public"]["document"]
    answer = matrix.client.patch(
        f"/api/v1/documents/{doc}", headers=_headers(matrix, "archivist", "confidential"), json={"level": "secret"}
    )
    assert answer.status_code == 400 and "above your own clearance" in answer.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "t", "access_level": 4},
        {"title": "t", "status": "filed"},
        {"roles": ["sysadmin"]},
        {"clearance": "top_secret"},
    ],
)
def test_mass_assignment_is_refused(matrix: Fixture, body: dict[str, Any]) -> None:
    editor = _headers(matrix, "archivist", "top_secret")
    response = matrix.client.patch(f"/api/v1/documents/{matrix.ids['public']['document']}", headers=editor, json=body)
    assert response.status_code == 400
    login = matrix.client.post("/api/v1/auth/login", json={"username": "probe", "password": "probe password", **body})
    assert login.status_code == 400


def test_the_batch_list_shows_only_batches_within_clearance(matrix: Fixture) -> None:
    listed = matrix.client.get("/api/v1/batches", headers=_headers(matrix, "archivist", "public")).json()["batches"]
    levels = {batch["level"] for batch in listed}
    assert levels and levels <= {"public"}, levels
    wider = matrix.client.get("/api/v1/batches", headers=_headers(matrix, "archivist", "top_secret")).json()
    assert {b["level"] for b in wider["batches"]} >= {"public", "internal", "secret", "top_secret"}


def test_the_job_list_holds_exactly_the_jobs_the_caller_may_see(matrix: Fixture) -> None:
    """The listing's scope is in its query: its page and its counts match the rule, for every worker."""
    for user in matrix.users:
        if user.role not in WORKERS:
            continue
        headers = {"Authorization": f"Bearer {matrix.tokens[user.name]}"}
        listed = matrix.client.get("/api/v1/jobs", params={"all": "true"}, headers=headers).json()
        expected = {matrix.ids[record.name]["job"] for record in RECORDS if sees(user, record)}
        assert {row["id"] for row in listed["jobs"]} == expected, user
        assert listed["total"] == len(expected) and sum(listed["counts"].values()) == len(expected), user
