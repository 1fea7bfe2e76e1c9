"""A private PostgreSQL server on loopback for tests: its own data directory, its own port, stopped at the end.

Debian's `postgresql` package (scripts/install-system.sh) ships the server binaries in
/usr/lib/postgresql/<version>/bin; the newest one there is used (found by globbing, not a fixed version), and so
are its `pg_dump`/`pg_restore`, which must match the server. initdb refuses to run as root, so as root the
cluster belongs to the `postgres` system user (made by the package) and its commands run through `runuser`.
The cluster trusts every local connection (`--auth=trust`, listening on 127.0.0.1 only) and runs with
fsync=off: it is thrown away at the end of the session. A system-wide cluster the package may have started on
5432 is left alone: this one takes a free port.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.s3server import closed_port

START_TIMEOUT_SECONDS = 60
SUPERUSER = "dangan"
SERVER_USER = "postgres"  # the system user Debian's package makes; the cluster's owner when we are root


def postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/*/bin holding initdb (Debian's layout), else the folder of initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: run `bash scripts/install-system.sh` (Debian's postgresql)")
    return Path(initdb).parent


@dataclass(frozen=True)
class PgServer:
    """Where a test PostgreSQL server listens; `bin` holds its matching client tools (pg_dump, pg_restore)."""

    host: str
    port: int
    bin: Path
    user: str = SUPERUSER

    def url(self, database: str, *, user: str | None = None) -> str:
        """The SQLAlchemy URL of one database on this server (psycopg 3 driver), as `user` (default: superuser)."""
        return f"postgresql+psycopg://{user or self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A fresh, empty database with a unique name; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def admin(self, sql: str) -> None:
        """One statement on the maintenance database, outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.encode())


def _as_server_user(command: list[str]) -> list[str]:
    """Root cannot run initdb or postgres: run them as the `postgres` system user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(command: list[str], *, timeout: float) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stdout[-800:]} {done.stderr[-800:]}")


@contextmanager
def running_pg_server() -> Iterator[PgServer]:
    """initdb a throw-away cluster in a temp dir, start it on a free loopback port, yield it, stop and remove it."""
    bin_dir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="dangan-pg-"))
    root.chmod(0o755)  # the server user must reach its data dir and socket dir inside
    data, sockets = root / "data", root / "sockets"
    for folder in (data, sockets):
        folder.mkdir(mode=0o700)
        _give_to_server_user(folder)
    port = closed_port()
    server = PgServer(host="127.0.0.1", port=port, bin=bin_dir)
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            timeout=120,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        options += " -c synchronous_commit=off -c full_page_writes=off"
        log, wait = str(data / "server.log"), str(START_TIMEOUT_SECONDS)
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "-t", wait, "start"],
            timeout=START_TIMEOUT_SECONDS + 10,
        )
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
