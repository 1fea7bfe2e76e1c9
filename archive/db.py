"""Engine, sessions and migrations for the catalogue (SQLite by default, PostgreSQL through the same URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_IMMEDIATE = "dangan_immediate"


def _tune_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, a busy timeout, foreign keys, and BEGIN IMMEDIATE for write units.

    pysqlite's own transaction handling starts transactions lazily, which lets two writers read the
    same audit-chain head; taking the write lock at BEGIN serialises them instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engine; hands out read sessions and serialised write units."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # bad URL or missing driver
            raise ConfigurationError(f"cannot use database URL {url!r}: {exc}") from exc
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

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
        BEGIN IMMEDIATE takes the write lock at the start). Keep it short: every other writer waits for it."""
        with self._sessions() as session:
            session.connection(execution_options={_IMMEDIATE: True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        config = alembic_config(self.url)
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise ConfigurationError(f"cannot migrate database {self.url!r}: {exc.orig}") from exc

    def is_initialised(self) -> bool:
        return inspect(self.engine).has_table("alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
