"""A record's text (`GET /api/v1/documents/{id}/text`, `dangan document text`), `dangan document show`, and the
search command's snippets and empty answers, over one two-page record (one OCR run for the module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import select

from api.access.users import UserService
from api.cli.searching import snippet_line
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.records.documents import DocumentService
from api.views.search import Snippet
from api.wiring import Context
from archive.errors import NotFound
from archive.models import AuditEvent, Page
from tests.actors import STAFF, account, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render


@dataclass
class Record:
    context: Context
    client: TestClient
    headers: dict[str, str]
    document_id: int
    texts: list[str]  # each current page's text, in page order
    home: Path


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    root = tmp_path_factory.mktemp("text")
    scans = root / "scans"
    render(scans / "ledger", "p1.png", "Harbour ledger of ships and cargo, first page.", "eng", seed=51)
    render(scans / "ledger", "p2.png", "Lighthouse keepers and their wages, second page.", "eng", seed=52)
    context = make_context(root / "var")
    account(context, "archivist", ["archivist"])  # the account the CLI acts as
    headers = bearer(context, "clerk", ["archivist"])
    clerk = UserService(context).principal("clerk")
    batch = BatchService(context).create(actor=clerk, fonds="TXT", languages="eng", level="public").id
    outcome = ingest_paths(context, [scans], actor=clerk, batch_id=batch)  # the sub-folder is one item
    document_id = int(outcome.jobs[0].document_id or 0)
    with context.db.session() as session:
        pages = session.scalars(
            select(Page).where(Page.document_id == document_id, Page.current.is_(True)).order_by(Page.number)
        ).all()
        texts = [page.text for page in pages]
    assert len(texts) == 2 and all(texts), texts
    with TestClient(create_app(context)) as client:
        yield Record(context, client, headers, document_id, texts, root / "var")
    context.close()


@pytest.fixture
def cli(record: Record, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(record.home, capsys, accounts=False)


def _views_logged(record: Record) -> list[AuditEvent]:
    with record.context.db.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "document.view", AuditEvent.target == f"document:{record.document_id}"
                )
            )
        )


def test_the_text_route_answers_all_pages_with_a_form_feed_between(record: Record) -> None:
    before = len(_views_logged(record))
    answer = record.client.get(f"/api/v1/documents/{record.document_id}/text", headers=record.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == "\f".join(record.texts)
    assert "Harbour" in answer.text.split("\f")[0] and "Lighthouse" in answer.text.split("\f")[1]
    logged = _views_logged(record)
    assert len(logged) == before + 1 and logged[-1].details["text"] == "all"  # the same event as a read


def test_one_page_and_a_page_that_does_not_exist(record: Record) -> None:
    url = f"/api/v1/documents/{record.document_id}/text"
    second = record.client.get(url, params={"page": 2}, headers=record.headers)
    assert second.status_code == 200 and second.text == record.texts[1] and "\f" not in second.text
    missing = record.client.get(url, params={"page": 3}, headers=record.headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "not_found",
        "message": f"document {record.document_id} has no page 3 (it has 2)",
    }
    assert record.client.get(url, params={"page": 0}, headers=record.headers).status_code == 400


def test_the_text_obeys_the_same_rule_as_the_record(record: Record) -> None:
    """The record is unfiled: staff may not see it, and its text answers exactly like a missing record."""
    with pytest.raises(NotFound) as hidden:
        DocumentService(record.context).text(STAFF, record.document_id)
    with pytest.raises(NotFound) as missing:
        DocumentService(record.context).text(STAFF, 999_999)
    assert str(hidden.value.message).replace(str(record.document_id), "N") == str(missing.value.message).replace(
        "999999", "N"
    )
    assert record.client.get(f"/api/v1/documents/{record.document_id}", headers=record.headers).json()["links"][
        "text"
    ] == (f"/api/v1/documents/{record.document_id}/text")


def test_document_text_prints_the_text(cli: Cli, record: Record) -> None:
    everything = cli("document", "text", str(record.document_id))
    assert everything.exit_code == 0, everything.stderr
    assert everything.stdout.rstrip("\n") == "\f".join(record.texts).rstrip("\n")
    first = cli("document", "text", str(record.document_id), "--page", "1")
    assert first.exit_code == 0 and first.stdout.rstrip("\n") == record.texts[0].rstrip("\n")
    missing = cli("document", "text", str(record.document_id), "--page", "9")
    assert missing.exit_code == NotFound.exit_code and "has no page 9" in missing.stderr


def test_document_show_lists_metadata_pages_and_files_without_reprs(cli: Cli, record: Record) -> None:
    shown = cli("document", "show", str(record.document_id))
    assert shown.exit_code == 0, shown.stderr
    assert "page 1:" in shown.stdout and "page 2:" in shown.stdout and "file original:" in shown.stdout
    for repr_marker in ("{'", "['", "Role.", "datetime(", "None"):
        assert repr_marker not in shown.stdout, repr_marker
    as_json = cli("document", "show", str(record.document_id), "--json").json
    api = record.client.get(f"/api/v1/documents/{record.document_id}", headers=record.headers).json()
    assert as_json == api
    assert f"status {api['status']}" in shown.stdout and api["reference_code"] in shown.stdout
    assert "no quality findings" in shown.stdout or "threshold" in shown.stdout


def test_search_shows_snippets_as_plain_text_when_piped(cli: Cli, record: Record) -> None:
    found = cli("search", "lighthouse")
    assert found.exit_code == 0, found.stderr
    assert "1 document(s) match 'lighthouse'" in found.stdout and "(pages 2;" in found.stdout
    [snippet] = [line for line in found.stdout.splitlines() if line.strip().startswith("p.2:")]
    assert "Lighthouse" in snippet and "<mark" not in snippet and "mark>" not in snippet and "&" not in snippet


def test_search_says_when_nothing_matches(cli: Cli, record: Record) -> None:
    nothing = cli("search", "zeppelin")
    assert nothing.exit_code == 0 and nothing.stdout.strip() == "no documents match 'zeppelin'"
    assert cli("search", "zeppelin", "--json").json["hits"] == []


def test_matches_are_bold_on_a_terminal_and_plain_otherwise() -> None:
    snippet = Snippet(page=3, text='the <mark class="match term0">harbour</mark> &amp; its <mark>ledger</mark>')
    assert [piece for piece, matched in snippet.parts() if matched] == ["harbour", "ledger"]
    terminal = Console(force_terminal=True, color_system="standard", width=200)
    with terminal.capture() as captured:
        terminal.print(snippet_line(snippet, bold=True), highlight=False)
    assert "\x1b[1mharbour" in captured.get()
    plain = snippet_line(snippet, bold=False)
    assert plain.plain.strip() == "p.3: the harbour & its ledger" and not plain.spans
