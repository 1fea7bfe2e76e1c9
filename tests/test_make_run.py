"""`dangan run`, what `make run` calls: the token and the password it prints must work on the server it starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.cli.demo
from api.http.app import create_app
from api.wiring import Context
from tests.conftest import Cli


def test_the_printed_token_and_password_work_on_the_served_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "var", capsys, accounts=False)  # a fresh install: `make run` makes the accounts itself
    served: list[dict[str, object]] = []

    def serve_in_a_test_client(context: Context, *, banner: str = "", **_: object) -> None:
        """Instead of serving forever: call the app the way the banner tells a user to."""
        token = re.search(r"Bearer (dgn_\S+)'", banner)
        password = re.search(r"with password (\S+) \(shown once\)", banner)
        with TestClient(create_app(context)) as client:
            headers = {"Authorization": f"Bearer {token.group(1) if token else ''}"}
            found = client.get("/api/v1/search", params={"q": "retention schedule"}, headers=headers)
            login = None
            if password:
                login = client.post("/api/v1/auth/login", json={"username": "archivist", "password": password.group(1)})
            page = client.get("/")
        served.append(
            {
                "search": (found.status_code, found.json().get("total")),
                "login": login.status_code if login else None,
                "page": (page.status_code, "text/html" in page.headers["content-type"]),
            }
        )

    monkeypatch.setattr(api.cli.demo, "serve_forever", serve_in_a_test_client)
    first = cli("run")
    assert first.exit_code == 0, first.stderr
    assert served[0] == {"search": (200, 1), "login": 200, "page": (200, True)}
    second = cli("run")  # again: the existing archivist gets a fresh token; the password is not shown again
    assert second.exit_code == 0 and "fresh token for the existing archivist" in second.stdout
    assert served[1] == {"search": (200, 1), "login": None, "page": (200, True)}
