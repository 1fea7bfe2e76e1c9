"""Withdrawing a record: it leaves search on the very next request (both engines), answers 404 to all but
the system administrator, keeps its files, survives a reindex, and is logged with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access.accounts import AccountService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.maintenance import MaintenanceService
from api.wiring import Context
from tests.actors import ARCHIVIST, PASSWORD, SYSADMIN, account
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


@pytest.fixture(params=["whoosh", "tantivy"])
def archive(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Context, dict[str, int], dict[str, dict[str, str]]]]:
    monkeypatch.setenv("DANGAN_SEARCH_ENGINE", request.param)
    context = make_context(tmp_path / "var")
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="W1", languages="eng", level="public").id
    ids = {}
    for n, word in enumerate(("harbour", "lighthouse")):
        page = render(tmp_path / "in" / word, f"{word}.png", f"Withdrawal test {word} ledger", "eng", seed=40 + n)
        ids[word] = int(ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch).jobs[0].document_id)
    file_batch(context, batch)  # staff see filed records only
    accounts = AccountService(context)
    headers = {}
    for role in ("sysadmin", "staff", "compliance"):  # withdrawing is the system administrator's; the log the auditor's
        account(context, f"u-{role}", [role], clearance="internal")
        headers[role] = {"Authorization": f"Bearer {accounts.login(f'u-{role}', PASSWORD).token}"}
    yield context, ids, headers
    context.close()


def test_a_withdrawn_record_leaves_search_at_once_and_stays_out(
    archive: tuple[Context, dict[str, int], dict[str, dict[str, str]]],
) -> None:
    context, ids, headers = archive
    with TestClient(create_app(context)) as client:
        assert client.get("/api/v1/search", params={"q": "ledger"}, headers=headers["staff"]).json()["total"] == 2
        path = f"/api/v1/documents/{ids['harbour']}/withdraw"
        assert client.post(path, json={"reason": "x"}, headers=headers["staff"]).status_code == 403
        assert client.post(path, json={"reason": " "}, headers=headers["sysadmin"]).status_code == 400
        done = client.post(path, json={"reason": "transferred to the city archive"}, headers=headers["sysadmin"])
        assert done.status_code == 200 and done.json()["status"] == "withdrawn"
        for role in ("staff", "sysadmin"):  # the very next search, for everyone
            hits = client.get("/api/v1/search", params={"q": "ledger"}, headers=headers[role]).json()["hits"]
            assert [h["document_id"] for h in hits] == [ids["lighthouse"]]
            assert client.get("/api/v1/search/suggest", params={"q": "harb"}, headers=headers[role]).json() == {
                "query": "harb",
                "suggestions": [],
            }
        assert client.get(f"/api/v1/documents/{ids['harbour']}", headers=headers["staff"]).status_code == 404
        assert client.get(f"/api/v1/documents/{ids['harbour']}/pdf", headers=headers["staff"]).status_code == 404
        kept = client.get(f"/api/v1/documents/{ids['harbour']}/original", headers=headers["sysadmin"])
        assert kept.status_code == 200 and kept.content[:4] == b"\x89PNG"  # files are kept
        again = client.post(path, json={"reason": "twice"}, headers=headers["sysadmin"])
        assert again.status_code == 409 and "already withdrawn" in again.json()["message"]
        MaintenanceService(context).reindex(SYSADMIN)
        assert client.get("/api/v1/search", params={"q": "harbour"}, headers=headers["sysadmin"]).json()["total"] == 0
        events = client.get(
            "/api/v1/audit/events", params={"action": "document.withdraw"}, headers=headers["compliance"]
        ).json()["events"]
        assert [e["details"]["reason"] for e in events] == ["transferred to the city archive"]


def test_withdrawing_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    page = render(tmp_path / "in", "notice.png", "Quarterly harbour dues notice", "eng", seed=3)
    assert cli("init").exit_code == 0
    [job] = cli("ingest", str(page), "--json").json["jobs"]
    assert cli("search", "harbour", "--json").json["total"] == 1
    result = cli(
        "--user", "sysadmin", "document", "withdraw", str(job["document_id"]), "--reason", "duplicate of box 12"
    )
    assert result.exit_code == 0 and "withdrew" in result.stdout
    assert cli("search", "harbour", "--json").json["total"] == 0
    assert (
        cli("--user", "sysadmin", "document", "withdraw", str(job["document_id"]), "--reason", "again").exit_code == 5
    )
