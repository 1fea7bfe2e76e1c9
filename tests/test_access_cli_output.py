"""What `dangan users` and `dangan audit` print for a person: readable text, never a Python repr; tables for
lists; empty results and empty exports say so. `--json` prints the API's JSON; the routes declare their models,
their refusals and the export's media types."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.wiring import Context
from archive.errors import ExitCode
from archive.permissions import ROLE_TITLES
from archive.values import Role
from tests.actors import bearer
from tests.conftest import Cli

REPR_FRAGMENTS = ("Role.", "AccessLevel.", "datetime.", "{'", "['", "[<", "<api.", "<archive.", "None", "View(")


def assert_readable(text: str) -> None:
    assert text.strip(), "nothing printed"
    for fragment in REPR_FRAGMENTS:
        assert fragment not in text, f"{fragment!r} in:\n{text}"


def test_users_commands_print_words_not_reprs(cli: Cli, tmp_path: Path) -> None:
    password = tmp_path / "pw.txt"
    password.write_text("a long enough password\n", encoding="utf-8")
    made = cli(
        "--user", "secadmin", "users", "create", "li.wei", "--role", "staff", "--role", "archivist",
        "--clearance", "confidential", "--department", "hr", "--department", "finance",
        "--display-name", "Li Wei", "--password-file", str(password),
    )  # fmt: skip
    assert made.exit_code == ExitCode.OK, made.stderr
    assert_readable(made.stdout)
    assert "li.wei (Li Wei): archivist, staff; clearance confidential; departments finance, hr; active" in made.stdout
    assert "; must choose a new password at the next sign-in;" in made.stdout  # an initial password
    changed = cli("--user", "secadmin", "users", "update", "li.wei", "--clearance", "internal")
    assert changed.exit_code == ExitCode.OK and "clearance internal" in changed.stdout
    assert_readable(changed.stdout)
    disabled = cli("--user", "secadmin", "users", "disable", "li.wei")
    assert disabled.exit_code == ExitCode.OK and "; disabled;" in disabled.stdout
    enabled = cli("--user", "secadmin", "users", "enable", "li.wei")
    assert enabled.exit_code == ExitCode.OK and "; active;" in enabled.stdout
    for result in (disabled, enabled):
        assert_readable(result.stdout)

    listed = cli("--user", "secadmin", "users", "list")
    assert listed.exit_code == ExitCode.OK, listed.stderr
    assert_readable(listed.stdout)
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:4] == ["USER", "STATE", "ROLES", "CLEARANCE"]
    auditor = next(line for line in lines if line.startswith("auditor "))
    assert ROLE_TITLES[Role.COMPLIANCE] in auditor and "top_secret" in auditor and "active" in auditor
    assert " to be changed " in next(line for line in lines if line.startswith("li.wei "))
    assert lines[-1] == f"{len(cli('--user', 'secadmin', 'users', 'list', '--json').json['users'])} user(s)"
    assert re.search(r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ", auditor), auditor  # ISO, local offset

    issued = cli("--user", "secadmin", "users", "token", "li.wei")
    assert issued.exit_code == ExitCode.OK and issued.stdout.strip().startswith("dgn_")


def test_bootstrap_names_roles_by_title(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    home = ["--home", str(tmp_path / "fresh")]
    assert main([*home, "users", "bootstrap"]) == ExitCode.OK
    printed = capsys.readouterr().out
    assert_readable(printed)
    for role in (Role.SYSADMIN, Role.SECADMIN, Role.COMPLIANCE):
        assert f"({ROLE_TITLES[role]}): password " in printed
    assert main([*home, "users", "bootstrap"]) == ExitCode.OK
    assert "exist already" in capsys.readouterr().out


def test_audit_events_alerts_and_checkpoint_print_tables_and_words(cli: Cli) -> None:
    assert cli("batch", "create", "--fonds", "T1", "--lang", "eng").exit_code == ExitCode.OK
    listed = cli("--user", "auditor", "audit", "events", "--action", "batch.*")
    assert listed.exit_code == ExitCode.OK, listed.stderr
    assert_readable(listed.stdout)
    header, row, total = listed.stdout.splitlines()
    assert header.split() == ["ID", "AT", "ACTOR", "ACTION", "OUTCOME", "CLIENT", "TARGET"]
    cells = row.split()
    assert cells[2:5] == ["archivist", "batch.create", "success"] and cells[-1] == "batch:1"
    assert cells[1][:4].isdigit() and cells[1][-6] in "+-"  # ISO 8601 with the local offset
    assert total == "1 event(s)"

    none = cli("--user", "auditor", "audit", "events", "--user", "nobody-at-all")
    assert none.exit_code == ExitCode.OK and none.stdout.strip() == "no events match these filters"
    quiet = cli("--user", "auditor", "audit", "alerts")
    assert quiet.exit_code == ExitCode.OK and quiet.stdout.strip() == "no alerts in this period"

    sealed = cli("--user", "auditor", "audit", "checkpoint")
    assert sealed.exit_code == ExitCode.OK, sealed.stderr
    assert_readable(sealed.stdout)
    assert sealed.stdout.startswith("checkpoint 1: event ") and "signed " in sealed.stdout


def test_an_empty_export_says_so_and_stays_a_clean_file(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    piped = cli("--user", "auditor", "audit", "export", "--user", "nobody-at-all")
    assert piped.exit_code == ExitCode.OK, piped.stderr
    assert list(csv.reader(io.StringIO(piped.stdout))) == [
        ["id", "at", "actor", "action", "target", "outcome", "client", "details", "hash"]
    ]
    assert "no events match these filters" in piped.stderr and "CSV header only" in piped.stderr

    target = tmp_path / "log.json"
    written = cli("--user", "auditor", "audit", "export", "--format", "json", "--output", str(target), "--user", "x")
    assert written.exit_code == ExitCode.OK, written.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == []
    assert "no events match these filters" in written.stdout and str(target) in written.stdout

    full = tmp_path / "all.csv"
    everything = cli("--user", "auditor", "audit", "export", "--output", str(full))
    rows = list(csv.DictReader(io.StringIO(full.read_text(encoding="utf-8"))))
    assert rows and everything.stdout.strip() == f"{len(rows)} event(s) written to {full}"
    exports = cli("--user", "auditor", "audit", "events", "--action", "audit.export", "--json").json["events"]
    assert [event["details"]["count"] for event in exports] == [0, 0, len(rows)]  # each export is logged


def test_access_routes_declare_models_refusals_and_export_media_types(context: Context) -> None:
    auditor = bearer(context, "auditor")
    with TestClient(create_app(context)) as client:
        schema = client.get("/openapi.json").json()
        exported = client.get("/api/v1/audit/export", headers=auditor, params={"user": "nobody", "format": "json"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
        assert exported.json() == [] and 'filename="access-log.json"' in exported.headers["content-disposition"]
    declared = {
        ("post", "/api/v1/auth/login"): ("LoginView", {"401", "429"}),
        ("post", "/api/v1/auth/logout"): ("LogoutView", {"401"}),
        ("get", "/api/v1/auth/me"): ("MeView", {"401"}),
        ("get", "/api/v1/users"): ("UserListView", {"403"}),
        ("post", "/api/v1/users"): ("UserView", {"403", "409"}),
        ("patch", "/api/v1/users/{username}"): ("UserView", {"403", "404"}),
        ("get", "/api/v1/audit/events"): ("AuditEventsView", {"403"}),
        ("get", "/api/v1/audit/alerts"): ("AlertsView", {"403"}),
        ("post", "/api/v1/audit/checkpoints"): ("CheckpointView", {"403"}),
    }
    for (method, path), (model, refusals) in declared.items():
        responses = schema["paths"][path][method]["responses"]
        success = next(body for status, body in responses.items() if status.startswith("2"))
        assert success["content"]["application/json"]["schema"]["$ref"].endswith(f"/{model}"), path
        for status in refusals | {"400", "500"}:
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody"), path
    export = schema["paths"]["/api/v1/audit/export"]["get"]["responses"]
    assert {"text/csv", "application/json"} <= set(export["200"]["content"]) and "403" in export


def test_cli_json_is_the_api_json(cli: Cli, context: Context) -> None:
    via_cli = cli("--user", "secadmin", "users", "list", "--json").json  # the same home as `context`
    with TestClient(create_app(context)) as client:
        via_api = client.get("/api/v1/users", headers=bearer(context, "secadmin")).json()
    assert via_cli == via_api and {"username", "roles", "clearance", "created_at"} <= set(via_api["users"][0])
