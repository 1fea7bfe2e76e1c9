"""The catalogue database, snapshotted and restored: the database-level rules of backups and restore drills.

A snapshot is a consistent copy taken while the archive keeps working: SQLite's online backup API, or
`pg_dump --format=custom` on PostgreSQL. A drill restores a SQLite snapshot into a scratch file and checks it:
its hash, `PRAGMA integrity_check`, its row counts and its newest object; a PostgreSQL dump is restored with
`pg_restore --no-owner` into a scratch database made on the live catalogue's server (CREATE DATABASE, so the
catalogue's account needs CREATEDB; without it the dump is "not checked") and dropped afterwards. Nothing here
touches the live archive beyond reading it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from archive.db import Database
from archive.errors import ConfigurationError, StorageUnavailable
from archive.hashing import CHUNK, sha256_file
from archive.models import Document, Page, StoredObject
from archive.ports import BlobStore

SQLITE_SUFFIX, PG_DUMP_SUFFIX = ".sqlite3", ".pgdump"
INTEGRITY_OK = "ok"
PG_NOT_CHECKED = "not checked: restore PostgreSQL dumps with pg_restore"
UNREADABLE = "unreadable"


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


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq's tools take it (no +driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(tool: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore (on PATH; Debian's wrapper picks the installed version); failures raise."""
    try:
        subprocess.run([tool, *arguments], check=True, capture_output=True, timeout=6 * 3600)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{tool} is not installed; install the PostgreSQL client tools") from exc
    except subprocess.CalledProcessError as exc:
        raise StorageUnavailable(f"{tool} failed: {exc.stderr.decode(errors='replace')[-500:]}") from exc


def pg_dump_snapshot(url: str, destination: Path) -> None:
    """`pg_dump --format=custom` of the catalogue (restore with pg_restore); needs pg_dump on PATH."""
    _pg_tool("pg_dump", "--format=custom", f"--file={destination}", f"--dbname={_libpq(url)}")


def _on_server(server_url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE) through the catalogue's own account."""
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def drop_restored(result: RestoredCatalogue, server_url: str | None) -> None:
    """Drop the scratch database a PostgreSQL dump was restored into, from `server_url` (the live catalogue:
    a database cannot drop itself); nothing for a SQLite file."""
    if server_url is not None and result.database_url is not None and not result.database_url.startswith("sqlite:"):
        name = make_url(result.database_url).database
        _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    database_url: str | None = None  # the restored catalogue, to read (a scratch PostgreSQL database: drop it)

    @property
    def checked(self) -> bool:
        return not self.integrity.startswith(PG_NOT_CHECKED)

    @property
    def readable(self) -> bool:
        """Restored whole, so it can be read (counted, indexed): not when the restore itself failed."""
        return self.database_url is not None and not self.integrity.startswith(UNREADABLE)

    def as_dict(self) -> dict[str, Any]:
        """What a drill report keeps (not the scratch database's URL: it is dropped, and may hold a password)."""
        fields = asdict(self)
        del fields["database_url"]
        return fields


def download(store: BlobStore, key: str, path: Path) -> None:
    with store.open_read(key) as source, path.open("wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)


def restore_catalogue(
    store: BlobStore, key: str, sha256: str, root: Path, *, server_url: str | None = None
) -> RestoredCatalogue:
    """The snapshot into `root/catalogue.sqlite3`: hash, PRAGMA integrity_check, row counts, newest object. A
    PostgreSQL dump goes into a scratch database on `server_url`'s server (None: not checked); the caller drops
    it with drop_restored()."""
    path = root / ("catalogue.sqlite3" if key.endswith(SQLITE_SUFFIX) else "catalogue.pgdump")
    download(store, key, path)
    actual, _size = sha256_file(path)
    result = RestoredCatalogue(key=key, sha256_ok=actual == sha256, path=str(path))
    if not key.endswith(SQLITE_SUFFIX):
        _restore_pg_dump(path, result, server_url)
        return result
    try:
        with sqlite3.connect(path) as connection:
            result.integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        connection.close()
    except sqlite3.DatabaseError as exc:
        result.integrity = f"{UNREADABLE}: {exc}"
        return result
    if not result.sha256_ok:
        result.integrity = "snapshot hash mismatch"
    result.database_url = f"sqlite:///{path}"
    _count_rows(result, result.database_url)
    return result


def _restore_pg_dump(path: Path, result: RestoredCatalogue, server_url: str | None) -> None:
    """pg_restore into a new scratch database on the catalogue's server; "ok" when it restores whole."""
    if server_url is None:
        result.integrity = PG_NOT_CHECKED
        return
    scratch = make_url(server_url).set(database=f"dangan_drill_{uuid.uuid4().hex[:12]}")
    try:
        _on_server(server_url, f'CREATE DATABASE "{scratch.database}"')
    except DBAPIError as exc:
        result.integrity = f"{PG_NOT_CHECKED} (no scratch database: {str(exc.orig).strip()[:200]})"
        return
    result.database_url = scratch.render_as_string(hide_password=False)
    try:
        _load_dump(path, result, result.database_url)
    except BaseException:  # the caller never gets the result to drop it
        drop_restored(result, server_url)
        raise


def _load_dump(path: Path, result: RestoredCatalogue, url: str) -> None:
    try:
        _pg_tool(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={_libpq(url)}",
            str(path),
        )
    except StorageUnavailable as exc:
        result.integrity = f"{UNREADABLE}: {exc}"
        return
    if not result.sha256_ok:
        result.integrity = "snapshot hash mismatch"
    _count_rows(result, url)


def _count_rows(result: RestoredCatalogue, url: str) -> None:
    database = Database(url)
    try:
        with database.session() as session:
            result.documents = session.scalar(select(func.count(Document.id))) or 0
            result.pages = session.scalar(select(func.count(Page.id))) or 0
            result.stored_objects = session.scalar(select(func.count(StoredObject.id))) or 0
            newest = session.scalar(select(func.max(StoredObject.created_at)))
            result.newest_object_at = newest.isoformat() if newest else None
    finally:
        database.dispose()
