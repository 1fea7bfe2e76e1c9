"""The catalogue database, snapshotted and restored: the database-level rules of backups and restore drills.

A snapshot is a consistent copy taken while the archive keeps working: SQLite's online backup API, or
`pg_dump --format=custom` on PostgreSQL. A drill restores a SQLite snapshot into a scratch file and checks it:
its hash, `PRAGMA integrity_check`, its row counts and its newest object. Nothing here touches the live archive
beyond reading it.
"""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from archive.db import Database
from archive.errors import ConfigurationError, StorageUnavailable
from archive.hashing import CHUNK, sha256_file
from archive.models import Document, Page, StoredObject
from archive.ports import BlobStore

SQLITE_SUFFIX, PG_DUMP_SUFFIX = ".sqlite3", ".pgdump"
INTEGRITY_OK = "ok"
PG_NOT_CHECKED = "not checked: restore PostgreSQL dumps with pg_restore"


def snapshot_database(database: Database, folder: Path, *, name: str) -> Path:
    """A consistent copy of the catalogue as `folder/name.sqlite3` or `folder/name.pgdump`; returns its path."""
    if database.is_sqlite:
        path = folder / f"{name}{SQLITE_SUFFIX}"
        sqlite_snapshot(Path(str(database.engine.url.database)), path)
    else:
        path = folder / f"{name}{PG_DUMP_SUFFIX}"
        pg_dump_snapshot(database.url, path)
    return path


def sqlite_snapshot(source: Path, destination: Path) -> None:
    """SQLite's online backup API: a consistent copy while other connections keep writing."""
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(destination) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    except sqlite3.Error as exc:
        raise StorageUnavailable(f"cannot snapshot the catalogue {source}: {exc}") from exc


def pg_dump_snapshot(url: str, destination: Path) -> None:
    """`pg_dump --format=custom` of the catalogue (restore with pg_restore); needs pg_dump on PATH."""
    libpq_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={libpq_url}"],
            check=True,
            capture_output=True,
            timeout=6 * 3600,
        )
    except FileNotFoundError as exc:
        raise ConfigurationError("pg_dump is not installed; install the PostgreSQL client tools") from exc
    except subprocess.CalledProcessError as exc:
        raise StorageUnavailable(f"pg_dump failed: {exc.stderr.decode(errors='replace')[-500:]}") from exc


@dataclass
class RestoredCatalogue:
    """What a restored snapshot holds: `integrity` is "ok", a problem, or why it was not checked."""

    key: str
    sha256_ok: bool
    path: str
    integrity: str = INTEGRITY_OK
    documents: int | None = None
    pages: int | None = None
    stored_objects: int | None = None
    newest_object_at: str | None = None

    @property
    def checked(self) -> bool:
        return self.integrity != PG_NOT_CHECKED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def download(store: BlobStore, key: str, path: Path) -> None:
    with store.open_read(key) as source, path.open("wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)


def restore_catalogue(store: BlobStore, key: str, sha256: str, root: Path) -> RestoredCatalogue:
    """The snapshot into `root/catalogue.sqlite3`: hash, PRAGMA integrity_check, row counts, newest object."""
    path = root / "catalogue.sqlite3"
    download(store, key, path)
    actual, _size = sha256_file(path)
    result = RestoredCatalogue(key=key, sha256_ok=actual == sha256, path=str(path))
    if not key.endswith(SQLITE_SUFFIX):
        result.integrity = PG_NOT_CHECKED
        return result
    try:
        with sqlite3.connect(path) as connection:
            result.integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        connection.close()
    except sqlite3.DatabaseError as exc:
        result.integrity = f"unreadable: {exc}"
        return result
    if not result.sha256_ok:
        result.integrity = "snapshot hash mismatch"
    database = Database(f"sqlite:///{path}")
    try:
        with database.session() as session:
            result.documents = session.scalar(select(func.count(Document.id))) or 0
            result.pages = session.scalar(select(func.count(Page.id))) or 0
            result.stored_objects = session.scalar(select(func.count(StoredObject.id))) or 0
            newest = session.scalar(select(func.max(StoredObject.created_at)))
            result.newest_object_at = newest.isoformat() if newest else None
    finally:
        database.dispose()
    return result
