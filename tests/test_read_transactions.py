"""Reads take no write lock; their audit events, appended concurrently, keep one verifiable chain: on SQLite and
on PostgreSQL (where parallel writers really run at once and the chain head is an advisory lock)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from api.access.auditing import AuditService
from api.search.service import SearchService
from api.wiring import Context
from archive.audit import log as audit
from archive.events import AuditAction
from archive.models import AuditEvent
from tests.actors import AUDITOR, STAFF

WAIT_SECONDS = 20  # far longer than a read needs; the write lock's busy timeout is 30 s


@pytest.fixture
def context(db_context: Context) -> Context:
    """Every test here runs on SQLite and on PostgreSQL (tests/pgserver.py)."""
    return db_context


def test_a_read_runs_while_another_connection_holds_the_write_lock(context: Context) -> None:
    finished = threading.Event()

    def read() -> None:
        with context.db.read() as session:
            session.scalar(select(func.count(AuditEvent.id)))
        finished.set()

    with context.db.write() as session:
        session.scalar(select(func.count(AuditEvent.id)))  # BEGIN IMMEDIATE: this connection holds the lock
        reader = threading.Thread(target=read)
        reader.start()
        read_under_the_lock = finished.wait(WAIT_SECONDS)
    reader.join()
    assert read_under_the_lock  # it did not wait for the writer


def test_concurrent_reads_each_leave_their_event_in_one_chain(context: Context) -> None:
    before = _count(context)

    def search(number: int) -> None:
        SearchService(context).search(STAFF, f"query{number}", client=f"client-{number}")

    def refused(number: int) -> None:
        audit.append(
            context.db, actor="t-staff", action=AuditAction.ACCESS_DENIED, outcome="denied", client=str(number)
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(search, range(40)))
        list(pool.map(refused, range(40)))
    with context.db.read() as session:
        new = list(session.scalars(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)))
    assert Counter(event.action for event in new) == Counter({"search": 40, "access.denied": 40})
    assert {event.details["query"] for event in new if event.action == "search"} == {f"query{n}" for n in range(40)}
    assert [event.prev_hash for event in new[1:]] == [event.hash for event in new[:-1]]  # one chain, no forks
    assert AuditService(context).verify(AUDITOR).ok is True


def test_an_event_that_cannot_be_written_fails_only_its_own_caller(context: Context) -> None:
    before = _events(context)
    errors: list[BaseException] = []

    def append(number: int) -> None:
        try:
            details = {"bad": object()} if number == 3 else {"n": number}  # not JSON: its transaction fails
            audit.append(context.db, actor="t-staff", action=AuditAction.SEARCH, details=details)
        except Exception as exc:
            errors.append(exc)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(16)))
    assert len(errors) == 1
    assert _events(context) == before + 15  # counted: a PostgreSQL sequence leaves gaps where a unit rolled back
    assert AuditService(context).verify(AUDITOR).ok is True


def _count(context: Context) -> int:
    with context.db.read() as session:
        return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


def _events(context: Context) -> int:
    with context.db.read() as session:
        return int(session.scalar(select(func.count(AuditEvent.id))) or 0)
