"""Build the running system from the one Settings object. Nothing below api/ reads settings itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import select

from api.sealing import catalogue_lookup, key_provider
from archive.db import Database
from archive.errors import ConfigurationError
from archive.models import Document
from archive.ports import BlobStore
from ingest.engines import ENGINES
from ingest.engines.base import EngineOptions
from search.index import SearchIndex, open_index
from storage_config.encryption import Envelope, PlaintextStore
from storage_config.keyring import FileKeyProvider
from storage_config.settings import Settings, settings_error, settings_parse_error
from storage_config.stores import open_store

if TYPE_CHECKING:
    from archive.preservation.dat70_run import Tools


@dataclass
class Context:
    """The live objects one process works with."""

    settings: Settings
    db: Database
    store: BlobStore
    index: SearchIndex
    # The store as readers see it: encrypted objects (and their page images) decrypted on the way; `store` is
    # the stored bytes (backups, restore, repair, stored-hash checks).
    plain: BlobStore
    envelope: Envelope

    def close(self) -> None:
        self.index.close()
        self.db.dispose()


def load_settings(home: Path | None = None) -> Settings:
    """Read DANGAN_* from the environment; `home` (a CLI option) overrides DANGAN_HOME. A bad value raises
    ConfigurationError naming the variable (exit 12 on the command line)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None
    except SettingsError as exc:  # a nested setting given as JSON that does not parse
        raise settings_parse_error(exc) from None
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    return settings


def build_context(settings: Settings, *, migrate: bool = True) -> Context:
    """Create the data directory, bring the catalogue schema up to date, open store and index."""
    check_ocr_engine(settings.ocr_engine)
    if settings.home_dir.exists() and not settings.home_dir.is_dir():
        raise ConfigurationError(f"DANGAN_HOME={settings.home_dir} (or --home): not a directory")
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, busy_seconds=settings.faults.db_busy_seconds)
    if migrate:
        db.migrate()
    index = open_index(settings.resolved_index_dir, settings.search_engine)
    if not index.exists() and db.is_initialised() and not _has_documents(db):
        index.create()  # an empty catalogue has nothing to lose; a non-empty one needs `dangan reindex`
    store = open_store(settings)
    provider = key_provider(settings, db)
    if migrate and settings.encryption.enabled and isinstance(provider, FileKeyProvider):
        provider.ensure()  # a new archive's keyring, made before it is needed (never in place of a lost one)
    envelope = Envelope(provider)
    plain = PlaintextStore(store, envelope, catalogue_lookup(db))
    return Context(settings=settings, db=db, store=store, index=index, plain=plain, envelope=envelope)


def engine_options(settings: Settings) -> EngineOptions:
    """How the OCR engine runs in each worker process (PP-OCR's threads and execution provider)."""
    return EngineOptions(threads=settings.ocr_threads, provider=settings.ocr_execution_provider)


def check_ocr_engine(name: str) -> None:
    if name not in ENGINES:
        valid = ", ".join(ENGINES)
        raise ConfigurationError(f"DANGAN_OCR_ENGINE={name!r} is not an OCR engine; choose one of: {valid}")


def _has_documents(db: Database) -> bool:
    with db.session() as session:
        return session.scalars(select(Document.id).limit(1)).first() is not None


def dat70_tools(context: Context) -> Tools:
    """What the DA/T 70 checks need from outside the core: the store, fido/Pillow/pikepdf, ClamAV, a scratch
    folder under the spool (a killed run's folder is swept like the spool's other scratch)."""
    from archive.preservation.dat70_run import Tools
    from ingest.inspection import FileInspector
    from ingest.virus_scan import ClamScanner

    return Tools(context.plain, FileInspector(), ClamScanner(), context.settings.spool_dir / "dat70")
