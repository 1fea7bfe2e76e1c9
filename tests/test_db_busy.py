"""A busy, full or unreachable catalogue: bounded waits, whole units run again, one clear error; and eight
threads over one SQLite catalogue killed with `kill -9` at a random moment lose no acknowledged write."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.access.auditing import AuditService
from api.http.app import create_app
from api.ingest.service import IngestService
from api.preservation.maintenance import MaintenanceService
from api.wiring import Context, build_context
from archive.db import Database, Fault, catalogue_error, fault_of
from archive.errors import CatalogueBusy, ExitCode, InsufficientStorage, StorageUnavailable
from archive.models import AuditEvent, Document, IngestJob
from archive.values import JobState
from ingest.ocr import process
from storage_config.settings import Settings
from tests import db_stress
from tests.actors import AUDITOR
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parent.parent
BOUND = 0.6  # db_busy_seconds in the small tests
WAIT = 30.0  # every wait on a thread or a process is bounded by this


def small_context(home: Path, *, busy: float = BOUND, database_url: str | None = None) -> Context:
    settings = Settings(home=home, workers=1, ocr_engine="null", database_url=database_url)
    settings = settings.model_copy(update={"faults": settings.faults.model_copy(update={"db_busy_seconds": busy})})
    context = build_context(settings)
    MaintenanceService(context).initialise()
    with context.db.write() as session:  # a table of the tests' own, beside the catalogue's
        session.execute(text("CREATE TABLE probe (code TEXT PRIMARY KEY, body TEXT)"))
    return context


@contextmanager
def write_lock_held(db: Database) -> Iterator[None]:
    """Another writer holds the catalogue's write lock (a real write unit, in its own thread) until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write() as session:
            session.execute(text("UPDATE fonds SET name = name"))
            held.set()
            release.wait(WAIT)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(WAIT)
        yield
    finally:
        release.set()
        holder.join(WAIT)


# --- bounded waits ---------------------------------------------------------------------------------------------


def test_a_writer_waiting_past_the_bound_gets_catalogue_busy_and_its_body_never_runs(tmp_path: Path) -> None:
    context = small_context(tmp_path / "var")
    ran = []
    with write_lock_held(context.db):
        started = time.monotonic()
        with pytest.raises(CatalogueBusy) as caught, context.db.write():
            ran.append(True)
        waited = time.monotonic() - started
    assert ran == []
    assert waited >= BOUND * 0.9  # it waited about the bound (and not SQLite's 5 s nor the default 30 s)
    assert waited < 20
    assert caught.value.message == f"the catalogue stayed locked by other writers for {BOUND:g} s; try again"
    assert caught.value.exit_code == ExitCode.STORAGE_UNAVAILABLE == 8
    assert caught.value.http_status == 503 and caught.value.transient
    context.close()


def test_a_writer_gets_the_lock_when_the_other_lets_go_within_the_bound(tmp_path: Path) -> None:
    context = small_context(tmp_path / "var", busy=20.0)
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with context.db.write() as session:
            session.execute(text("UPDATE fonds SET name = name"))
            held.set()
            release.wait(WAIT)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(WAIT)
    runs = []

    def wait_and_write() -> None:
        with context.db.write() as session:
            runs.append(session.scalar(select(func.count(AuditEvent.id))))
        done.set()

    writer = threading.Thread(target=wait_and_write)
    writer.start()
    assert not done.wait(1.5)  # several slices of BEGIN IMMEDIATE: still waiting, nothing run
    release.set()
    assert done.wait(WAIT)
    holder.join(WAIT)
    writer.join(WAIT)
    assert len(runs) == 1  # the body ran once, after the lock was taken
    context.close()


def test_the_cli_says_the_catalogue_is_busy_in_one_line_with_exit_8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "var"
    cli = Cli(home, capsys)
    assert cli("batch", "list").exit_code == 0  # accounts and schema made
    monkeypatch.setenv("DANGAN_FAULTS__DB_BUSY_SECONDS", str(BOUND))
    holder = Database(f"sqlite:///{home / 'catalogue.sqlite3'}")
    with write_lock_held(holder):
        result = cli("batch", "create", "--fonds", "B1", "--json")
    holder.dispose()
    assert result.exit_code == ExitCode.STORAGE_UNAVAILABLE
    assert json.loads(result.stdout) == {
        "error": "catalogue_busy",
        "message": f"the catalogue stayed locked by other writers for {BOUND:g} s; try again",
    }
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_the_api_answers_503_while_the_catalogue_stays_locked(tmp_path: Path) -> None:
    context = small_context(tmp_path / "var")
    with TestClient(create_app(context)) as client, write_lock_held(context.db):
        response = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong password"})
    assert response.status_code == 503
    assert response.json() == {
        "error": "catalogue_busy",
        "message": f"the catalogue stayed locked by other writers for {BOUND:g} s; try again",
    }
    context.close()


# --- whole units run again --------------------------------------------------------------------------------------


def _conflicting_write(db: Database) -> None:
    """A second transaction that reads, then writes (a deferred BEGIN), while the caller's unit holds the lock:
    SQLite refuses it at once with 'database is locked' (it cannot wait: it would deadlock)."""
    with db.session() as other:
        other.execute(text("SELECT count(*) FROM fonds")).all()
        other.execute(text("UPDATE fonds SET name = name"))
        other.commit()


def test_a_unit_that_meets_a_conflict_after_its_body_began_is_run_again_whole(tmp_path: Path) -> None:
    context = small_context(tmp_path / "var", busy=10.0)
    runs = []

    def work(session: Session) -> int:
        runs.append(len(runs))
        session.execute(text("INSERT INTO probe VALUES (:code, 'retried')"), {"code": f"R{len(runs)}"})
        if len(runs) == 1:
            _conflicting_write(context.db)  # the first try fails after its insert
        return len(runs)

    assert context.db.transaction(work) == 2
    with context.db.read() as session:
        codes = session.scalars(text("SELECT code FROM probe WHERE body = 'retried'")).all()
    assert codes == ["R2"]  # the first try's insert was rolled back: nothing done twice
    context.close()


def test_a_unit_that_keeps_meeting_conflicts_ends_with_catalogue_busy(tmp_path: Path) -> None:
    context = small_context(tmp_path / "var", busy=10.0)
    runs = []

    def work(session: Session) -> None:
        runs.append(1)
        _conflicting_write(context.db)

    with pytest.raises(CatalogueBusy) as caught:
        context.db.transaction(work, retries=3)
    assert len(runs) == 4
    assert caught.value.message == "the catalogue stayed busy with other writers (4 tries); try again"
    context.close()


MIGRATE = """
import sys, time
from pathlib import Path
from archive.db import Database, Fault, catalogue_error, fault_of
database, go = Database(sys.argv[1]), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
database.migrate()
"""


def test_processes_starting_together_on_a_new_catalogue_migrate_one_after_the_other(tmp_path: Path) -> None:
    url, go = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}", tmp_path / "go"
    starters = [
        subprocess.Popen([sys.executable, "-c", MIGRATE, url, str(go)], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    time.sleep(2)  # all three imported and waiting (a late one still migrates: it finds the schema made)
    go.touch()
    for starter in starters:
        _out, errors = starter.communicate(timeout=WAIT * 4)
        assert starter.returncode == 0, errors.decode()
    database = Database(url)
    assert database.is_initialised()
    database.dispose()


# --- a full disk, an unopenable file ----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB filesystem (tmpfs), for the catalogue alone."""
    if os.geteuid() != 0:
        pytest.fail("the catalogue disk-full test mounts a tmpfs: it runs as root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True, timeout=WAIT)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=WAIT)


def test_a_full_catalogue_disk_is_disk_full_naming_the_catalogue_and_work_resumes_when_space_returns(
    tmp_path: Path, small_disk: Path
) -> None:
    context = small_context(tmp_path / "var", database_url=f"sqlite:///{small_disk / 'catalogue.sqlite3'}")
    filler = small_disk / "filler"
    with filler.open("wb") as out:  # everything but a few hundred kB
        out.write(b"\0" * (os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize - 300_000))
    with pytest.raises(InsufficientStorage) as caught:
        for n in range(1000):
            with context.db.write() as session:
                session.execute(text("INSERT INTO probe VALUES (:c, :b)"), {"c": f"X{n}", "b": "x" * 8000})
    error = caught.value
    assert error.place == "catalogue" and error.exit_code == ExitCode.DISK_FULL and error.http_status == 507
    assert error.message.startswith("the catalogue's disk is full (") and "kB free on its disk" in error.message
    assert str(small_disk) not in error.message
    with context.db.read() as session:  # what committed before is intact and readable
        filled = session.scalar(text("SELECT count(*) FROM probe WHERE code LIKE 'X%'"))
    filler.unlink()
    with context.db.write() as session:  # space is back: the next write goes through
        session.execute(text("INSERT INTO probe VALUES ('AFTER', 'after')"))
    with context.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM probe WHERE code LIKE 'X%'")) == filled
        assert session.scalar(text("SELECT integrity_check FROM pragma_integrity_check")) == "ok"
    context.close()


def test_a_catalogue_that_cannot_be_opened_is_storage_unavailable_naming_the_catalogue(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'missing' / 'catalogue.sqlite3'}")
    with pytest.raises(StorageUnavailable) as caught, database.read() as session:
        session.execute(text("SELECT 1"))
    assert not isinstance(caught.value, CatalogueBusy)
    assert caught.value.message.startswith("the catalogue (its SQLite file) cannot be opened")
    assert str(tmp_path) not in caught.value.message
    with pytest.raises(StorageUnavailable):
        database.migrate()
    database.dispose()


def test_no_space_at_the_commit_is_disk_full_for_the_catalogue_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = small_context(tmp_path / "var")
    monkeypatch.setenv("DANGAN_FAILPOINTS", "catalogue.commit=enospc")
    with pytest.raises(InsufficientStorage) as caught, context.db.write() as session:
        session.execute(text("INSERT INTO probe VALUES ('LOST', 'never committed')"))
    monkeypatch.delenv("DANGAN_FAILPOINTS")
    assert caught.value.place == "catalogue" and caught.value.exit_code == ExitCode.DISK_FULL
    with context.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM probe")) == 0
    context.close()


class _ServerError(Exception):
    """What PostgreSQL's driver raises: an error carrying its SQLSTATE (psycopg's `sqlstate`)."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate", "expected"),
    [
        ("could not serialize access due to concurrent update", "40001", Fault.CONFLICT),
        ("deadlock detected", "40P01", Fault.CONFLICT),
        ("could not extend file: No space left on device", "53100", Fault.FULL),
        ("terminating connection due to administrator command", "57P01", Fault.UNAVAILABLE),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused',
            None,
            Fault.UNAVAILABLE,
        ),
        ('relation "nothing" does not exist', "42P01", None),
    ],
)
def test_postgresql_faults_are_told_apart_by_their_sqlstate(
    message: str, sqlstate: str | None, expected: Fault | None
) -> None:
    error = OperationalError("SELECT 1", {}, _ServerError(message, sqlstate))
    assert fault_of(error) is expected
    translated = catalogue_error(error, folder=None)
    if expected is Fault.UNAVAILABLE:
        assert isinstance(translated, StorageUnavailable) and not isinstance(translated, CatalogueBusy)
        assert translated.message.startswith("the catalogue's database server cannot be reached")
    elif expected is Fault.CONFLICT:
        assert isinstance(translated, CatalogueBusy)
    elif expected is Fault.FULL:
        assert isinstance(translated, InsufficientStorage) and translated.place == "catalogue"
    else:
        assert translated is None  # a bug: it stays what it is (exit 1, the traceback in the log)


# --- eight threads, then kill -9 ------------------------------------------------------------------------------


@pytest.mark.slow
def test_eight_threads_then_kill_9_lose_no_acknowledged_write(tmp_path: Path) -> None:
    seed = int(os.environ.get("DB_STRESS_SEED", str(time.time_ns() % 1_000_000)))
    kill_after = random.Random(seed).uniform(20.0, 60.0)
    print(f"db stress: seed {seed}, kill -9 after {kill_after:.1f} s (DB_STRESS_SEED={seed} repeats it)")
    home, journals = tmp_path / "var", tmp_path / "journals"
    db_stress.prepare(home, journals, tmp_path / "work")
    _run_and_kill(home, journals, kill_after, tmp_path / "stress.stderr")
    acknowledged = _journals(journals)
    integrity = _integrity(home / "catalogue.sqlite3")  # before anything opens the catalogue again
    context = build_context(Settings(home=home, workers=1, ocr_engine="null"))
    try:
        resumed = _restart(context)
        found, lost = _found_and_lost(context, acknowledged)
        states, duplicates = _jobs(context)
        report = AuditService(context).verify(AUDITOR)
    finally:
        context.close()
    faults = Counter(acknowledged.faults)
    stuck = sum(count for state, count in states.items() if state not in (JobState.DONE, JobState.NEEDS_REVIEW))
    print(
        f"db stress: acknowledged {acknowledged.total()} {dict(acknowledged.counts())}, found {found}, "
        f"lost {len(lost)}; busy errors {faults['busy']}, raw driver errors {faults['raw']}, other errors "
        f"{faults['error']}; jobs resumed on restart {resumed}, jobs {dict(states)}, stuck {stuck}, "
        f"duplicates {duplicates}; integrity {integrity!r}; audit verify {report.grade.value} "
        f"({report.events_checked} events, {report.checkpoints_checked} checkpoints, findings "
        f"{[finding.kind for finding in report.findings]})"
    )
    assert integrity == "ok"
    assert lost == []
    assert faults["raw"] == 0 and faults["error"] == 0, acknowledged.fault_lines[:5]
    assert stuck == 0 and duplicates == 0
    assert report.ok, report.findings  # errors would be tampering or a broken chain; an unsealed tail is a warning
    assert acknowledged.total() > 0 and found == acknowledged.total()


def _run_and_kill(home: Path, journals: Path, kill_after: float, stderr: Path) -> None:
    """The stress process, as its own process group, SIGKILLed `kill_after` seconds after its threads started."""
    with stderr.open("wb") as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.db_stress", str(home), str(journals), "90"],
            cwd=ROOT,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            _wait_for(journals / db_stress.READY, child)
            time.sleep(kill_after)
            assert child.poll() is None, "the stress process ended before it was killed"
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(WAIT)


class Acknowledged:
    def __init__(self) -> None:
        self.lines: list[list[str]] = []
        self.faults: list[str] = []
        self.fault_lines: list[str] = []

    def counts(self) -> Counter[str]:
        return Counter(line[0] for line in self.lines)

    def total(self) -> int:
        return len(self.lines)


def _wait_for(path: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert child.poll() is None, "the stress process died before it started its threads"
        assert time.monotonic() < deadline, "the stress process did not start its threads"
        time.sleep(0.1)


def _journals(folder: Path) -> Acknowledged:
    acknowledged = Acknowledged()
    for journal in sorted(folder.glob("*.log")):
        for line in journal.read_text(encoding="utf-8").splitlines():
            fields = line.split(" ")
            if fields[0] in ("busy", "raw", "error"):
                acknowledged.faults.append(fields[0])
                acknowledged.fault_lines.append(f"{journal.stem}: {line}")
            else:
                acknowledged.lines.append(fields)
    return acknowledged


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        result: str = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    return result


def _restart(context: Context) -> int:
    """What a restart of a runner does: take back what the killed process left unfinished, and run it. A job the
    killed process held is taken over once its lease has lapsed (nothing renews it any more)."""
    time.sleep(db_stress.LEASE_SECONDS + 0.5)
    service = IngestService(context)
    pending = service.pending_job_ids()
    for job_id in pending:
        service.process_job(job_id, process)
    return len(pending)


def _jobs(context: Context) -> tuple[Counter[str], int]:
    """Jobs by state, and documents filed by more than one job or by none (duplicates)."""
    with context.db.read() as session:
        states = Counter(str(state) for state in session.scalars(select(IngestJob.state)))
        filed = list(session.scalars(select(IngestJob.document_id).where(IngestJob.document_id.is_not(None))))
        documents = session.scalar(select(func.count(Document.id))) or 0
    return states, (len(filed) - len(set(filed))) + (documents - len(set(filed)))


def _found_and_lost(context: Context, acknowledged: Acknowledged) -> tuple[int, list[str]]:
    """Each acknowledged write looked up in the catalogue after the kill (and the restart)."""
    with context.db.read() as session:
        jobs = {job.id: job for job in session.scalars(select(IngestJob))}
        titles = {document_id: title for document_id, title in session.execute(select(Document.id, Document.title))}
        events = list(
            session.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.client, AuditEvent.details))
        )
    clients = {client for _action, _target, client, _details in events if client}
    edited = {
        (target, details.get("changed", {}).get("title"))
        for action, target, _client, details in events
        if action == "document.update"
    }
    latest_edit: dict[int, int] = {}
    found, lost = 0, []
    for fields in acknowledged.lines:
        kind = fields[0]
        if kind == "submitted":
            ok = int(fields[1]) in jobs
        elif kind == "filed":
            job = jobs.get(int(fields[1]))
            ok = job is not None and job.document_id == int(fields[2]) and int(fields[2]) in titles
        elif kind == "edit":
            document_id, number, title = int(fields[1]), int(fields[2]), fields[3]
            ok = (f"document:{document_id}", title) in edited
            latest_edit[document_id] = max(latest_edit.get(document_id, -1), number)
        else:
            ok = fields[1] in clients
        found += ok
        if not ok:
            lost.append(" ".join(fields))
    for document_id, number in latest_edit.items():  # the newest title is the last acknowledged or a later one
        current = titles[document_id].rsplit("-", 1)
        if int(current[1]) < number:
            lost.append(f"edit {document_id} {number}: the title went back to {titles[document_id]}")
    return found, lost
