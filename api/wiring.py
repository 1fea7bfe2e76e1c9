"""Build the running system from the one Settings object. Nothing below api/ reads settings itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive.db import Database
from archive.errors import ConfigurationError
from archive.models import Document
from archive.ports import BlobStore
from ingest.engines import ENGINES
from search.index import SearchIndex, open_index
from storage_config.settings import Settings
from storage_config.stores import open_store


@dataclass
class Context:
    """The live objects one process works with."""

    settings: Settings
    db: Database
    store: BlobStore
    index: SearchIndex

    def close(self) -> None:
        self.index.close()
        self.db.dispose()


def load_settings(home: Path | None = None) -> Settings:
    """Read DANGAN_* from the environment; `home` (a CLI option) overrides DANGAN_HOME."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    return settings


def build_context(settings: Settings, *, migrate: bool = True) -> Context:
    """Create the data directory, bring the catalogue schema up to date, open store and index."""
    check_ocr_engine(settings.ocr_engine)
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    if migrate:
        db.migrate()
    index = open_index(settings.resolved_index_dir, settings.search_engine)
    if not index.exists() and db.is_initialised() and not _has_documents(db):
        index.create()  # an empty catalogue has nothing to lose; a non-empty one needs `dangan reindex`
    return Context(settings=settings, db=db, store=open_store(settings), index=index)


def check_ocr_engine(name: str) -> None:
    if name not in ENGINES:
        valid = ", ".join(ENGINES)
        raise ConfigurationError(f"DANGAN_OCR_ENGINE={name!r} is not an OCR engine; choose one of: {valid}")


def _has_documents(db: Database) -> bool:
    with db.session() as session:
        return session.scalars(select(Document.id).limit(1)).first() is not None
