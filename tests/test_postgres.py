"""The catalogue on a real PostgreSQL (tests/pgserver.py): migrations from empty and back, and parallel writers.

On PostgreSQL writers really run at once (SQLite serialises them with BEGIN IMMEDIATE), so these tests are the
ones that catch a read-modify-write without a lock: the audit chain under parallel writers (threads and
processes) stays one verifiable chain with every event in it once, two metadata edits of one record at once
both land in its history one after the other, and parallel submissions into one batch get distinct item numbers.
The concurrent tests run on SQLite too (`db_context`): the same promises hold there.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from api.access.auditing import AuditService
from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.preservation.backup_drill import DrillService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.backups import BackupService
from api.records.documents import update_document
from api.wiring import Context, build_context
from archive.audit import log as audit
from archive.db import Database, alembic_config
from archive.events import AuditAction
from archive.models import AuditEvent, Base, IngestJob
from ingest.grouping import PlannedItem
from ingest.ocr import process
from storage_config.settings import Settings
from tests.actors import ARCHIVIST, AUDITOR, SYSADMIN
from tests.db_stress import unique_scan
from tests.pages import ENGLISH_TEXT, render
from tests.pgserver import PgServer

THREADS, EVENTS_PER_WRITER = 8, 25
PROCESSES = 3


def test_migrations_run_from_empty_match_the_models_and_go_back_to_base(pg_database: str) -> None:
    database = Database(pg_database)
    try:
        database.migrate()
        database.migrate()  # idempotent
        with database.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        config = alembic_config(pg_database)
        command.downgrade(config, "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        database.migrate()
        assert "audit_event" in inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def _chain(context: Context) -> list[AuditEvent]:
    with context.db.read() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_parallel_audit_writers_keep_one_chain_with_every_event_once(db_context: Context) -> None:
    before = len(_chain(db_context))
    start = threading.Barrier(THREADS)

    def writer(number: int) -> None:
        start.wait()
        for n in range(EVENTS_PER_WRITER):
            with db_context.db.write() as session:
                audit.record(session, actor=f"writer-{number}", action=AuditAction.LOGIN, details={"n": n})

    with pytest.raises(RuntimeError, match="rolled back"), db_context.db.write() as session:
        audit.record(session, actor="ghost", action=AuditAction.LOGIN)  # takes an id (PostgreSQL: a sequence value)
        raise RuntimeError("rolled back")
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(writer, range(THREADS)))
    events = _chain(db_context)[before:]
    assert len(events) == THREADS * EVENTS_PER_WRITER
    assert Counter(event.actor for event in events) == {f"writer-{n}": EVENTS_PER_WRITER for n in range(THREADS)}
    assert len({(event.actor, event.details["n"]) for event in events}) == len(events)  # none twice
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]  # no fork
    report = AuditService(db_context).verify(AUDITOR)
    assert report.ok is True, report


def _append_from_process(home: str, url: str, number: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    context = build_context(Settings(home=Path(home), database_url=url, ocr_engine="null"))
    try:
        barrier.wait(60)
        for n in range(EVENTS_PER_WRITER):
            audit.append(context.db, actor=f"process-{number}", action=AuditAction.SEARCH, details={"n": n})
    finally:
        context.close()


def test_parallel_processes_append_to_one_chain_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    context = _pg_context(tmp_path, pg_database)
    processes = multiprocessing.get_context("spawn")
    barrier = processes.Barrier(PROCESSES)
    workers = [
        processes.Process(target=_append_from_process, args=(str(tmp_path / "var"), pg_database, n, barrier))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    events = [event for event in _chain(context) if event.actor.startswith("process-")]
    assert Counter(event.actor for event in events) == {f"process-{n}": EVENTS_PER_WRITER for n in range(PROCESSES)}
    assert AuditService(context).verify(AUDITOR).ok is True
    context.close()


def _pg_context(tmp_path: Path, url: str) -> Context:
    from tests.conftest import make_context

    return make_context(tmp_path / "var", database_url=url)


def _ingested(context: Context, work: Path, count: int) -> tuple[int, list[Path]]:
    base = render(work, "base.png", "Parallel item. " + ENGLISH_TEXT, "eng", seed=5)
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="PAR", languages="eng")
    scans = [unique_scan(base, work, f"item-{n}.png", f"Parallel document {n}. {ENGLISH_TEXT}") for n in range(count)]
    return batch.id, scans


def test_parallel_submissions_into_one_batch_get_distinct_item_numbers(db_context: Context, tmp_path: Path) -> None:
    batch_id, scans = _ingested(db_context, tmp_path, THREADS)
    service = IngestService(db_context)
    start = threading.Barrier(THREADS)

    def submit(scan: Path) -> int:
        start.wait()
        return service.submit_item(batch_id, PlannedItem(scan.name, (scan,)), actor=ARCHIVIST).id

    with ThreadPoolExecutor(THREADS) as pool:
        jobs = list(pool.map(submit, scans))
    with db_context.db.read() as session:
        rows = session.execute(select(IngestJob.item_number, IngestJob.reference_code).where(IngestJob.id.in_(jobs)))
        numbers, references = zip(*rows, strict=True)
    assert sorted(numbers) == list(range(1, THREADS + 1))
    assert len(set(references)) == THREADS


def test_two_edits_of_one_record_at_once_are_both_in_its_history(db_context: Context, tmp_path: Path) -> None:
    batch_id, scans = _ingested(db_context, tmp_path, 1)
    service = IngestService(db_context)
    job = service.submit_item(batch_id, PlannedItem(scans[0].name, (scans[0],)), actor=ARCHIVIST)
    service.process_job(job.id, process)
    document_id = service.job(ARCHIVIST, job.id).document_id
    assert document_id is not None
    start = threading.Barrier(THREADS)

    def edit(number: int) -> None:
        start.wait()
        update_document(db_context, ARCHIVIST, document_id, title=f"title {number}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(edit, range(THREADS)))
    with db_context.db.read() as session:
        query = select(AuditEvent).where(
            AuditEvent.target == f"document:{document_id}", AuditEvent.action == AuditAction.DOCUMENT_UPDATE.value
        )
        edits = list(session.scalars(query.order_by(AuditEvent.id)))
        count = session.scalar(select(func.count(AuditEvent.id)))
    assert len(edits) == THREADS and count
    titles = [edit.details["changed"]["title"] for edit in edits]
    assert sorted(titles) == sorted(f"title {n}" for n in range(THREADS))
    # each edit saw the one before it: no edit overwrote another unseen (a lost update)
    assert [edit.details["before"]["title"] for edit in edits[1:]] == titles[:-1]


def test_backup_snapshots_postgresql_with_pg_dump_and_the_drill_restores_it(
    tmp_path: Path, pg_database: str, pg_server: PgServer
) -> None:
    context = _pg_context(tmp_path, pg_database)
    try:
        batch_id, scans = _ingested(context, tmp_path / "work", 2)
        service = IngestService(context)
        for scan in scans:
            service.process_job(
                service.submit_item(batch_id, PlannedItem(scan.name, (scan,)), actor=ARCHIVIST).id, process
            )
        BackupTargets(context).add(SYSADMIN, TargetSpec(name="offsite", kind="local", path=str(tmp_path / "offsite")))
        run = BackupService(context).run(SYSADMIN, target="offsite")
        assert run.status == "complete", run
        dumps = list((tmp_path / "offsite").rglob("*.pgdump"))
        assert len(dumps) == 1 and dumps[0].read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        drill = DrillService(context).drill(SYSADMIN, target="offsite")
        catalogue = drill.catalogue
        assert (catalogue.integrity, catalogue.sha256_ok, catalogue.documents, catalogue.pages) == ("ok", True, 2, 2)
        assert drill.search.documents_indexed == 2 and all(canary.found for canary in drill.search.canaries)
        assert "catalogue_not_checked" not in [finding.code for finding in drill.findings]
        assert drill.status == "passed"
        assert not [name for name in _databases(pg_server) if name.startswith("dangan_drill_")]  # dropped

        dumps[0].write_bytes(dumps[0].read_bytes()[: dumps[0].stat().st_size // 2])  # a dump cut in half
        damaged = DrillService(context).drill(SYSADMIN, target="offsite")
        assert damaged.status == "failed" and damaged.catalogue.integrity.startswith("unreadable: pg_restore failed")
        assert {"snapshot_changed", "catalogue_damaged"} <= {finding.code for finding in damaged.findings}
        assert not [name for name in _databases(pg_server) if name.startswith("dangan_drill_")]
    finally:
        context.close()


def test_a_drill_without_the_right_to_create_a_database_says_the_catalogue_was_not_checked(
    tmp_path: Path, pg_server: PgServer
) -> None:
    role, name = f"r_{uuid.uuid4().hex[:8]}", f"t_{uuid.uuid4().hex[:12]}"
    pg_server.admin(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    pg_server.admin(f'CREATE DATABASE "{name}" OWNER "{role}"')
    context = _pg_context(tmp_path, pg_server.url(name, user=role))
    try:
        batch_id, scans = _ingested(context, tmp_path / "work", 1)
        service = IngestService(context)
        service.process_job(
            service.submit_item(batch_id, PlannedItem(scans[0].name, (scans[0],)), actor=ARCHIVIST).id, process
        )
        BackupTargets(context).add(SYSADMIN, TargetSpec(name="offsite", kind="local", path=str(tmp_path / "offsite")))
        assert BackupService(context).run(SYSADMIN, target="offsite").status == "complete"
        drill = DrillService(context).drill(SYSADMIN, target="offsite")
        assert drill.catalogue.integrity.startswith("not checked") and "permission denied" in drill.catalogue.integrity
        assert "catalogue_not_checked" in [finding.code for finding in drill.findings]
        assert drill.status == "passed" and drill.catalogue.sha256_ok  # a warning: the objects were all restored
    finally:
        context.close()
        pg_server.admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def _databases(server: PgServer) -> list[str]:
    database = Database(server.url("postgres"))
    try:
        with database.engine.connect() as connection:
            return [str(row[0]) for row in connection.execute(text("SELECT datname FROM pg_database"))]
    finally:
        database.dispose()
