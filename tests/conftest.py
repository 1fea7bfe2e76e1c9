"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.pgserver import PgServer
    from tests.s3server import S3Endpoint


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Endpoint]:
    """A real S3 server (moto, server mode) on 127.0.0.1 for the session; use a fresh bucket per test."""
    from tests.s3server import running_s3_server  # lazily: only S3 tests need the project root on sys.path

    with running_s3_server() as endpoint:
        yield endpoint


# --- the archive under test: real settings, real SQLite, real local store, real Whoosh ---------------------

import json  # noqa: E402
import os  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from api.cli import main as cli_main  # noqa: E402
from api.preservation.maintenance import MaintenanceService  # noqa: E402
from api.wiring import Context, build_context  # noqa: E402
from storage_config.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's DANGAN_* variables must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith("DANGAN_"):
            monkeypatch.delenv(name)


ESCROW_PASSPHRASE = "the tests' escrow passphrase"


@pytest.fixture(scope="session", autouse=True)
def _escrow_passphrase_for_wider_fixtures() -> Iterator[None]:
    """The same for module- and session-scoped archives, which are made before any function's fixtures run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", ESCROW_PASSPHRASE)
        yield


@pytest.fixture(autouse=True)
def _escrow_passphrase(monkeypatch: pytest.MonkeyPatch, _no_outside_settings: None) -> None:
    """Every test installation seals its backups' key escrow, as a real one should (archive/preservation/
    escrow.py); the tests of a missing or wrong escrow secret change or remove it."""
    monkeypatch.setenv("DANGAN_BACKUP_ESCROW_PASSPHRASE", ESCROW_PASSPHRASE)


@pytest.fixture(autouse=True)
def _null_ocr_unless_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _no_outside_settings: None
) -> None:
    """The fast tier: tests run the null OCR engine (text from sidecar files, see ingest/engines/null.py) unless
    they are marked `ocr`, which run real tesseract (not the default `auto`: the tests that want PP-OCR or auto
    say so). Settings read it from the environment, so in-process CLI runs, contexts and child processes all
    see it."""
    monkeypatch.setenv("DANGAN_OCR_ENGINE", ocr_engine_for(request))


def ocr_engine_for(request: pytest.FixtureRequest) -> str:
    """Real tesseract for tests marked `ocr`, the null engine (sidecar text) for the rest: the fast tier."""
    return "null" if request.node.get_closest_marker("ocr") is None else "tesseract"


def make_context(home: Path, *, ocr_engine: str = "null", database_url: str | None = None) -> Context:
    """An initialised archive; module-scoped fixtures get the null engine unless they ask for tesseract.
    `database_url`: another catalogue than the SQLite file under home (a test PostgreSQL database)."""
    context = build_context(Settings(home=home, workers=2, ocr_engine=ocr_engine, database_url=database_url))
    MaintenanceService(context).initialise()
    return context


@pytest.fixture
def context(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Context]:
    ctx = make_context(tmp_path / "var", ocr_engine=ocr_engine_for(request))
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL cluster on 127.0.0.1 for the session (tests/pgserver.py); a database per test."""
    from tests.pgserver import running_pg_server

    with running_pg_server() as server:
        yield server


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database, dropped after the test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """The catalogue a `db_context` test runs on: None (SQLite under home), then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def db_context(tmp_path: Path, request: pytest.FixtureRequest, database_url: str | None) -> Iterator[Context]:
    """The `context` archive, once on SQLite and once on PostgreSQL (tests that must hold on both)."""
    ctx = make_context(tmp_path / "var", ocr_engine=ocr_engine_for(request), database_url=database_url)
    yield ctx
    ctx.close()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """Runs `dangan` in-process, as the console script would, against one data directory.

    Commands act as a named account, as they do for a person: `archivist` by default (made on first use with
    the three officer accounts and a second archivist, `reviewer`); `cli("--user", "sysadmin", "verify")`
    acts as another."""

    def __init__(
        self, home: Path, capsys: pytest.CaptureFixture[str], *, user: str = "archivist", accounts: bool = True
    ) -> None:
        self.home = home
        self.capsys = capsys
        self.user = user
        self._accounts = not accounts  # accounts=False: a fresh install, no accounts made before the first command

    def __call__(self, *args: str) -> CliResult:
        if not self._accounts:
            self._make_accounts()
        self.capsys.readouterr()
        who = [] if args[:1] == ("--user",) else ["--user", self.user]
        code = cli_main(["--home", str(self.home), *who, *args])
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def _make_accounts(self) -> None:
        from tests.actors import account

        context = make_context(self.home)
        try:
            account(context, "archivist", ["archivist"])
            account(context, "reviewer", ["archivist"])
        finally:
            context.close()
        self._accounts = True


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "var", capsys)
