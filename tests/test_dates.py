"""Archival dates keep their precision (a year, a month or a day) from manifest or edit to view, export and
search; a date that is not one is a 400 that says what a date looks like."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.access.users import UserService
from api.http.app import create_app
from api.wiring import Context
from tests.actors import bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, TestClient, dict[str, str], int]]:
    """One record filed from a manifest that dates it only to a month (one OCR run for the module)."""
    root = tmp_path_factory.mktemp("dates")
    context = make_context(root / "var")
    headers = bearer(context, "clerk", ["archivist"])  # batches, records and their dates are the archivist's
    with TestClient(create_app(context)) as client:
        created = client.post(
            "/api/v1/batches",
            headers=headers,
            json={
                "fonds": "D1",
                "languages": "eng",
                "level": "public",
                "manifest_csv": "item,title,date,file\n1,Harbour ledger,1998-06,ledger.png\n",
            },
        )
        assert created.status_code == 201, created.text
        page = render(root / "in", "ledger.png", "Harbour ledger of ships and cargo", "eng", seed=31)
        outcome = ingest_paths(
            context, [page], actor=UserService(context).principal("clerk"), batch_id=created.json()["id"]
        )
        document_id = int(outcome.jobs[0].document_id)
        yield context, client, headers, document_id
    context.close()


def get(archive: tuple[Context, TestClient, dict[str, str], int]) -> dict[str, Any]:
    _, client, headers, document_id = archive
    response = client.get(f"/api/v1/documents/{document_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def patch(archive: tuple[Context, TestClient, dict[str, str], int], date: str) -> Any:
    _, client, headers, document_id = archive
    return client.patch(f"/api/v1/documents/{document_id}", headers=headers, json={"date": date})


def search(archive: tuple[Context, TestClient, dict[str, str], int], **dates: str) -> list[dict[str, Any]]:
    _, client, headers, _ = archive
    response = client.get("/api/v1/search", headers=headers, params={"q": "harbour", **dates})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def test_a_manifest_month_reaches_the_filed_record_as_a_month(
    archive: tuple[Context, TestClient, dict[str, str], int],
) -> None:
    assert patch(archive, "1998-06").status_code == 200  # (re)set, whatever an earlier test left
    document = get(archive)
    assert document["date"] == "1998-06"
    assert document["date_precision"] == "month"
    assert document["date_range"] == {"start": "1998-06-01", "end": "1998-06-30"}
    assert [hit["date"] for hit in search(archive)] == ["1998-06"]


def test_the_manifest_date_flows_with_its_precision_into_the_filed_document(tmp_path: Path, cli: Cli) -> None:
    manifest = tmp_path / "box.csv"
    manifest.write_text("item,title,date,file\n1,Yearbook,1923,yearbook.png\n", encoding="utf-8")
    batch = cli("batch", "create", "--fonds", "D2", "--lang", "eng", "--manifest", str(manifest), "--json")
    assert batch.exit_code == 0, batch.stderr
    page = render(tmp_path / "in", "yearbook.png", "Yearbook of the harbour school", "eng", seed=32)
    ingested = cli("ingest", str(page), "--batch", str(batch.json["id"]), "--json")
    assert ingested.exit_code == 0, ingested.stdout
    found = cli("search", "yearbook", "--date-from", "1923", "--date-to", "1923-01", "--json")
    assert found.exit_code == 0, found.stderr
    assert [(hit["title"], hit["date"]) for hit in found.json["hits"]] == [("Yearbook", "1923")]


@pytest.mark.parametrize(
    ("typed", "shown", "precision", "start", "end"),
    [
        ("2023", "2023", "year", "2023-01-01", "2023-12-31"),
        ("1998-06", "1998-06", "month", "1998-06-01", "1998-06-30"),
        ("2024-02", "2024-02", "month", "2024-02-01", "2024-02-29"),
        ("1931-05-04", "1931-05-04", "day", "1931-05-04", "1931-05-04"),
        ("1931/5/4", "1931-05-04", "day", "1931-05-04", "1931-05-04"),
    ],
)
def test_an_edited_date_keeps_its_precision(
    archive: tuple[Context, TestClient, dict[str, str], int],
    typed: str,
    shown: str,
    precision: str,
    start: str,
    end: str,
) -> None:
    response = patch(archive, typed)
    assert response.status_code == 200, response.text
    for document in (response.json(), get(archive)):
        assert document["date"] == shown and document["date_precision"] == precision
        assert document["date_range"] == {"start": start, "end": end}


def test_an_empty_date_clears_it(archive: tuple[Context, TestClient, dict[str, str], int]) -> None:
    assert patch(archive, "").status_code == 200
    document = get(archive)
    assert (document["date"], document["date_precision"], document["date_range"]) == (None, None, None)


@pytest.mark.parametrize("typed", ["9999-99-99", "2020-02-30", "0000", "hello", "2023-13", "1998-06-31", "98-06"])
def test_a_date_that_is_not_one_is_a_400_saying_what_a_date_looks_like(
    archive: tuple[Context, TestClient, dict[str, str], int], typed: str
) -> None:
    before = get(archive)["date"]
    response = patch(archive, typed)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert repr(typed) in body["message"] and "YYYY-MM-DD, YYYY-MM or YYYY" in body["message"]
    assert get(archive)["date"] == before


def test_search_ranges_cover_the_whole_period_a_partial_date_names(
    archive: tuple[Context, TestClient, dict[str, str], int],
) -> None:
    assert patch(archive, "1998-06").status_code == 200
    assert len(search(archive, date_from="1998", date_to="1998")) == 1
    assert len(search(archive, date_from="1998-06", date_to="1998-06")) == 1
    assert len(search(archive, date_from="1998-05-01", date_to="1998-06-30")) == 1
    assert search(archive, date_from="1998-07") == []
    assert search(archive, date_to="1998-05") == []
    _, client, headers, _ = archive
    refused = client.get("/api/v1/search", headers=headers, params={"q": "harbour", "date_to": "1998-02-30"})
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.json()["message"]


def test_cli_search_takes_partial_dates_and_refuses_bad_ones(
    archive: tuple[Context, TestClient, dict[str, str], int], capsys: pytest.CaptureFixture[str]
) -> None:
    context = archive[0]
    assert patch(archive, "1998-06").status_code == 200
    cli = Cli(context.settings.home_dir, capsys)
    found = cli("search", "harbour", "--date-from", "1998", "--date-to", "1998-06", "--json")
    assert found.exit_code == 0, found.stderr
    assert [hit["date"] for hit in found.json["hits"]] == ["1998-06"]
    assert cli("search", "harbour", "--date-to", "1998-05", "--json").json["hits"] == []
    bad = cli("search", "harbour", "--date-from", "2021-02-29")
    assert bad.exit_code == 2 and "February 2021 has days 1–28, not 29" in bad.stderr


def test_manifest_dates_are_checked_row_by_row(archive: tuple[Context, TestClient, dict[str, str], int]) -> None:
    _, client, headers, _ = archive
    manifest = "item,title,date\n1,Fine,1998-06\n2,Bad day,2020-02-30\n3,Not a date,hello\n4,Year,0000\n"
    response = client.post("/api/v1/batches", headers=headers, json={"fonds": "D3", "manifest_csv": manifest})
    assert response.status_code == 400
    message = response.json()["message"]
    assert "row 3: date '2020-02-30' is not a real date: February 2020 has days 1–29, not 30" in message
    assert "row 4: date 'hello' is not a date" in message
    assert "row 5: date '0000' is not a real date" in message
    assert "row 2" not in message
