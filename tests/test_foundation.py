"""Settings, the error table, migrations and the audit chain."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.cli import main as cli_main
from api.http.app import create_app
from api.wiring import Context
from archive.audit import log as audit
from archive.db import Database
from archive.errors import DanganError, all_error_classes
from archive.events import AuditAction
from archive.models import AuditEvent, Base
from storage_config.settings import Settings


def test_settings_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.home_dir == (tmp_path / "var").resolve()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/var/catalogue.sqlite3"
    assert settings.resolved_index_dir == (tmp_path / "var" / "index").resolve()
    assert settings.storage.backend == "local"
    assert settings.ocr_languages == "chi_sim+eng"
    assert settings.workers == (os.cpu_count() or 1)


def test_settings_from_environment_with_nesting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("DANGAN_DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/dangan")
    monkeypatch.setenv("DANGAN_STORAGE__BACKEND", "s3")
    monkeypatch.setenv("DANGAN_STORAGE__S3__ENDPOINT", "127.0.0.1:9100")
    monkeypatch.setenv("DANGAN_STORAGE__S3__SECRET_KEY", "hunter2")
    monkeypatch.setenv("DANGAN_WORKERS", "3")
    monkeypatch.setenv("DANGAN_OCR_LANGUAGES", "chi_tra+eng")
    settings = Settings()
    assert settings.home_dir == (tmp_path / "h").resolve()
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert settings.storage.backend == "s3" and settings.storage.s3.endpoint == "127.0.0.1:9100"
    assert settings.storage.s3.secret_key.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)
    assert settings.workers == 3 and settings.ocr_languages == "chi_tra+eng"


def test_every_error_class_has_an_exit_code_and_http_status() -> None:
    classes = all_error_classes()
    assert len(classes) > 10
    for cls in classes:
        assert isinstance(cls.exit_code, int) and 1 <= cls.exit_code <= 125, cls
        assert isinstance(cls.http_status, int) and 400 <= cls.http_status <= 599, cls
        assert "code" in vars(cls), f"{cls.__name__} must name its own error code"
        assert cls.__doc__, f"{cls.__name__} needs a docstring saying when it is raised"
    assert len({cls.code for cls in classes}) == len(classes), "error codes must be distinct"


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_each_error_maps_to_its_exit_code_and_http_status(cls: type[DanganError], context: Context) -> None:
    from api.cli import app

    @app.command(f"raise-{cls.__name__.lower()}", hidden=True)
    def _raise() -> None:
        raise cls("what to do next")

    assert cli_main(["--home", str(context.settings.home), f"raise-{cls.__name__.lower()}"]) == cls.exit_code
    app.registered_commands.pop()

    web = create_app(context)

    @web.get("/raise")
    def _route() -> None:
        raise cls("what to do next")

    with TestClient(web) as client:
        response = client.get("/raise")
    assert response.status_code == cls.http_status
    assert response.json() == {"error": cls.code, "message": "what to do next"}


def test_migrations_match_the_models_and_are_idempotent(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    database.migrate()
    database.migrate()
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    database.dispose()


def test_audit_events_form_a_hash_chain(context: Context) -> None:
    for n in range(3):
        with context.db.write() as session:
            audit.record(
                session, actor="tester", action=AuditAction.DOCUMENT_VIEW, target=f"t:{n}", details={"n": n, "字": "档"}
            )
    with context.db.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert events[0].prev_hash == audit.GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(audit.recompute_hash(event) == event.hash for event in events)
    events[1].details = {"n": 99}
    assert audit.recompute_hash(events[1]) != events[1].hash
