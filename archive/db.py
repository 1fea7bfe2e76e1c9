"""Engine, sessions and migrations for the catalogue (SQLite by default, PostgreSQL through the same URL).

A busy or failing catalogue: which path is protected how.

- **Write units** (`Database.write()`) take the write lock when they begin (SQLite: BEGIN IMMEDIATE). On
  SQLite that BEGIN is the only statement of a unit that can meet another writer, so only it waits and only it
  is tried again: each try waits up to a slice of SQLite's own busy_timeout, then a jittered pause, until
  `busy_seconds` (settings.faults.db_busy_seconds) have passed since the unit began; then `CatalogueBusy`
  ("the catalogue stayed locked by other writers for 30 s; try again"). The body never runs twice.
- **Reads** (`read()`, `session()`) take no write lock (WAL): readers never wait for writers. SQLite makes a
  reader wait only in rare moments (the recovery of a WAL after a crash); the connection's busy_timeout is
  `busy_seconds`, then `CatalogueBusy`.
- **Whole units of work** that can fail after their body ran go through `transaction(work)`, which runs
  `work` again in a new write unit, a few times with backoff, then raises `CatalogueBusy`: PostgreSQL
  serialization failures (SQLSTATE 40001) and deadlocks (40P01), which PostgreSQL reports at any statement
  or at COMMIT; and on SQLite a transaction that read first and writes later (a deferred BEGIN, such as a
  bare `session()` that writes), which SQLite refuses at once with "database is locked" instead of waiting.
  Its users: the audit log's group append (archive/audit/log.py) and the audit prune (api/access/auditing.py).
  Every other write unit is a `with write()` body, protected by BEGIN IMMEDIATE on SQLite; on PostgreSQL a
  deadlock there ends the unit with `CatalogueBusy`, a transient error (a job meeting it waits and runs again).
- **Everything the driver reports** is translated in one place, `catalogue_error()`, called by an engine
  `handle_error` hook, so it covers reads, writes, bare sessions, migrations and connecting alike: busy or
  locked → `CatalogueBusy`; a full disk (SQLITE_FULL, PostgreSQL 53100, ENOSPC) → `InsufficientStorage`
  (place "catalogue", with the free space left where the SQLite file is); a file that cannot be opened or a
  server that cannot be reached → `StorageUnavailable` naming the catalogue. Other driver errors are bugs.
"""

from __future__ import annotations

import errno
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import (
    CatalogueBusy,
    ConfigurationError,
    DanganError,
    InsufficientStorage,
    StorageUnavailable,
)
from archive.failpoints import failpoint

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_WRITE_UNIT = "dangan_write_unit"  # execution option of the connection a write unit runs on
BEGIN_SLICE_SECONDS = 1.0  # one try of BEGIN IMMEDIATE waits at most this long inside SQLite
TRANSACTION_RETRIES = 4  # `transaction()`: new tries after the first
_RANDOM = random.Random()
T = TypeVar("T")


class Fault(Enum):
    """What a driver error means for the catalogue."""

    BUSY = "busy"  # locked by another writer (SQLite BUSY/LOCKED)
    CONFLICT = "conflict"  # PostgreSQL serialization failure or deadlock: the whole unit may be run again
    FULL = "full"  # the disk is full
    UNAVAILABLE = "unavailable"  # the file cannot be opened, the server cannot be reached, the disk failed


_SQLITE_FAULTS = {5: Fault.BUSY, 6: Fault.BUSY, 13: Fault.FULL, 14: Fault.UNAVAILABLE, 10: Fault.UNAVAILABLE}
_PG_FAULTS = {"40001": Fault.CONFLICT, "40P01": Fault.CONFLICT, "53100": Fault.FULL}
_MESSAGES = (
    ("database is locked", Fault.BUSY),
    ("database table is locked", Fault.BUSY),
    ("database or disk is full", Fault.FULL),
    ("no space left on device", Fault.FULL),
    ("unable to open database file", Fault.UNAVAILABLE),
    ("connection refused", Fault.UNAVAILABLE),
    ("could not connect", Fault.UNAVAILABLE),
    ("connection failed", Fault.UNAVAILABLE),
    ("server closed the connection", Fault.UNAVAILABLE),
)
_FULL_BELOW_BYTES = 64 * 1024  # an I/O error or an unopenable file on a disk with less free than this: full


def fault_of(error: BaseException) -> Fault | None:
    """The kind of catalogue fault a driver error (raw or wrapped by SQLAlchemy) or an OSError is, if any."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, OSError) and original.errno == errno.ENOSPC:
        return Fault.FULL
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_FAULTS:
        return _SQLITE_FAULTS[code & 0xFF]
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(state, str):
        if state in _PG_FAULTS:
            return _PG_FAULTS[state]
        if state.startswith("08") or state in ("57P01", "57P02", "57P03"):  # connection exceptions, shutdowns
            return Fault.UNAVAILABLE
    message = str(original).lower()
    return next((fault for needle, fault in _MESSAGES if needle in message), None)


def free_bytes(folder: Path | None) -> int | None:
    """Free space for an unprivileged writer on the filesystem holding `folder` (None when it cannot be read)."""
    if folder is None:
        return None
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def catalogue_error(error: BaseException, *, folder: Path | None) -> DanganError | None:
    """The one translation of a catalogue fault into the error tree (None: not a fault we know; a bug).

    `folder`: where the SQLite file is (None for a server database); its free space goes into the message."""
    fault = fault_of(error)
    free = free_bytes(folder)
    if fault is Fault.UNAVAILABLE and free is not None and free < _FULL_BELOW_BYTES:
        fault = Fault.FULL  # SQLite reports a full disk as an I/O error or "unable to open" when a file can't grow
    if fault is Fault.BUSY:
        return CatalogueBusy("the catalogue was locked by another writer; try again", retry_after=1)
    if fault is Fault.CONFLICT:
        return CatalogueBusy(
            "the catalogue's transaction collided with other writers (a deadlock or serialization failure); try again",
            retry_after=1,
        )
    if fault is Fault.FULL:
        left = f"{_size(free)} free on its disk" if free is not None else "its database server's disk"
        return InsufficientStorage(
            f"the catalogue's disk is full ({left}); free space there (or give the catalogue a larger disk), "
            "then try again",
            place="catalogue",
        )
    if fault is Fault.UNAVAILABLE:
        if folder is None:
            return StorageUnavailable(
                "the catalogue's database server cannot be reached; check that PostgreSQL is running and "
                "DANGAN_DATABASE_URL, then try again",
                retry_after=5,
            )
        return StorageUnavailable(
            "the catalogue (its SQLite file) cannot be opened or read: its folder is missing or not writable, or "
            "its disk failed; check DANGAN_HOME or DANGAN_DATABASE_URL and the disk, then try again",
            retry_after=5,
        )
    return None


def busy_timeout_error(busy_seconds: float) -> CatalogueBusy:
    """The bounded wait for the write lock ran out."""
    return CatalogueBusy(
        f"the catalogue stayed locked by other writers for {busy_seconds:g} s; try again", retry_after=1
    )


def _size(count: int | None) -> str:
    count = count or 0
    if count >= 1_000_000_000:
        return f"{count / 1_000_000_000:.1f} GB"
    return f"{count / 1_000_000:.1f} MB" if count >= 1_000_000 else f"{count // 1000} kB"


def pause(attempt: int, *, first: float = 0.01, maximum: float = 0.25) -> float:
    """A jittered pause before try `attempt + 1` (full jitter over a doubling, capped ceiling)."""
    return _RANDOM.uniform(0.0, min(maximum, first * 2.0**attempt))


class Database:
    """Owns the engine; hands out read sessions and serialised write units, with bounded waits on a busy
    catalogue and the driver's errors translated (see the module docstring)."""

    def __init__(self, url: str, *, busy_seconds: float = 30.0) -> None:
        self.url = url
        self.busy_seconds = busy_seconds
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # bad URL or missing driver
            raise ConfigurationError(f"cannot use database URL {url!r}: {exc}") from exc
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        database = self.engine.url.database
        on_disk = self.is_sqlite and database not in (None, "", ":memory:")
        self.folder = Path(str(database)).resolve().parent if on_disk else None
        if self.is_sqlite:
            self._tune_sqlite()
        event.listen(self.engine, "handle_error", self._translate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _tune_sqlite(self) -> None:
        """WAL for concurrent readers, the bounded busy wait, foreign keys, and BEGIN IMMEDIATE for write units.

        pysqlite's own transaction handling starts transactions lazily, which lets two writers read the
        same audit-chain head; taking the write lock at BEGIN serialises them instead."""
        busy_ms = max(1, int(self.busy_seconds * 1000))

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            self._enter_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Any) -> None:
            if conn.get_execution_options().get(_WRITE_UNIT, False):
                self._begin_immediate(conn.connection.driver_connection, busy_ms)
            else:
                conn.exec_driver_sql("BEGIN")

    def _enter_wal(self, cursor: sqlite3.Cursor) -> None:
        """Switch a new file to WAL. The switch needs the file to itself, and SQLite reports BUSY at once
        (without its busy handler) when another process is opening the same new file, so try again with
        pauses until `busy_seconds`."""
        deadline = time.monotonic() + self.busy_seconds
        attempt = 0
        while True:
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.Error as exc:
                if fault_of(exc) is not Fault.BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause(attempt, first=0.02))
            attempt += 1

    def _begin_immediate(self, raw: sqlite3.Connection, busy_ms: int) -> None:
        """Take the write lock: tries of a slice each, jittered pauses between them, until `busy_seconds`."""
        deadline = time.monotonic() + self.busy_seconds
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            raw.execute(f"PRAGMA busy_timeout={max(1, int(min(remaining, BEGIN_SLICE_SECONDS) * 1000))}")
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                if fault_of(exc) is not Fault.BUSY:
                    translated = catalogue_error(exc, folder=self.folder)
                    if translated is None:
                        raise
                    raise translated from exc
            finally:
                raw.execute(f"PRAGMA busy_timeout={busy_ms}")
            wait = pause(attempt)
            if time.monotonic() + wait >= deadline:
                raise busy_timeout_error(self.busy_seconds) from None  # `from None`: not run again by transaction()
            time.sleep(wait)
            attempt += 1

    def _translate(self, context: ExceptionContext) -> None:
        """The engine's `handle_error` hook: a known fault leaves as our error, its cause the driver's."""
        if context.is_pre_ping:  # the pool replaces a dead connection itself
            return
        translated = catalogue_error(context.original_exception, folder=self.folder)
        if translated is not None:
            raise translated from context.sqlalchemy_exception or context.original_exception

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read transaction: a consistent snapshot that takes no write lock (SQLite: a deferred BEGIN under
        WAL, so readers never wait for a writer nor block one; PostgreSQL: READ ONLY). It never commits: a read
        use case appends its audit event afterwards in its own short `write()`."""
        with self._sessions() as session:
            if not self.is_sqlite:
                session.execute(text("SET TRANSACTION READ ONLY"))
            yield session  # closing the session ends the transaction; loaded objects stay readable

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that commits on success and rolls back on error; writers are serialised (SQLite:
        BEGIN IMMEDIATE takes the write lock at the start, waiting at most `busy_seconds` for it). Keep it
        short: every other writer waits for it."""
        with self._sessions() as session:
            session.connection(execution_options={_WRITE_UNIT: True})
            try:
                yield session
                self._commit(session)
            except BaseException:
                session.rollback()
                raise

    def _commit(self, session: Session) -> None:
        try:
            failpoint("catalogue.commit")
            session.commit()
        except OSError as exc:  # ENOSPC at the commit (the failpoint above arms one): the catalogue's disk
            translated = catalogue_error(exc, folder=self.folder)
            if translated is None:
                raise
            raise translated from exc

    def transaction(self, work: Callable[[Session], T], *, retries: int = TRANSACTION_RETRIES) -> T:
        """Run `work(session)` in one write unit and return what it returns; run it again, whole, in a new unit
        when the unit failed on a conflict another try can resolve (see the module docstring), up to `retries`
        more times within `busy_seconds`, then `CatalogueBusy`. `work` must do nothing outside the session that
        cannot be done twice."""
        deadline = time.monotonic() + self.busy_seconds
        attempt = 0
        while True:
            try:
                with self.write() as session:
                    return work(session)
            except CatalogueBusy as exc:
                again = exc.__cause__ is not None and fault_of(exc.__cause__) in (Fault.BUSY, Fault.CONFLICT)
                if not again:
                    raise
                wait = pause(attempt, first=0.02, maximum=1.0)
                if attempt >= retries or time.monotonic() + wait >= deadline:
                    raise CatalogueBusy(
                        f"the catalogue stayed busy with other writers ({attempt + 1} tries); try again",
                        retry_after=1,
                    ) from exc
            time.sleep(wait)
            attempt += 1

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent). A schema already there takes no lock;
        an upgrade runs as a write unit (SQLite: BEGIN IMMEDIATE), so processes that start together on a new
        catalogue migrate one after the other instead of failing on each other's half-made tables."""
        config = alembic_config(self.url)
        try:
            if self._schema_is_current(config):
                return
            with self.engine.connect() as connection:
                connection.execution_options(**{_WRITE_UNIT: True})
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
        except OperationalError as exc:
            raise ConfigurationError(f"cannot migrate database {self.url!r}: {exc.orig}") from exc

    def _schema_is_current(self, config: Config) -> bool:
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        return current == set(ScriptDirectory.from_config(config).get_heads())

    def is_initialised(self) -> bool:
        return inspect(self.engine).has_table("alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
