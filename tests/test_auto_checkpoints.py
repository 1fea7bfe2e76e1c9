"""Automatic checkpoints of the access log, by count and by age, written by the process that records the events
(after each command here): deleting the newest events is then found by `dangan audit verify` as truncation —
where without a checkpoint sealing them it verifies intact. A backup run seals the log and carries the
checkpoints to its target, whose copies then show a cut that took the newest checkpoints along."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from api.access.auditing import AuditService
from archive.audit.sealing import due_after
from tests.actors import AUDITOR
from tests.conftest import Cli, make_context


def cut_newest(home: Path, count: int) -> None:
    context = make_context(home)
    try:
        with context.db.engine.begin() as connection:
            newest = connection.execute(text("SELECT max(id) FROM audit_event")).scalar_one()
            connection.execute(text("DELETE FROM audit_event WHERE id > :last"), {"last": newest - count})
    finally:
        context.close()


def checkpoints(home: Path) -> list[Path]:
    return sorted((home / "objects" / "audit" / "checkpoints").glob("*.json"))


def make_events(cli: Cli, count: int) -> None:
    for n in range(count):
        assert cli("batch", "create", "--fonds", f"T{n}", "--lang", "eng").exit_code == 0


def test_without_a_checkpoint_sealing_them_cut_events_go_unnoticed(cli: Cli) -> None:
    """The fault as it was: default intervals, nothing sealed the newest events; the verification cannot tell."""
    make_events(cli, 4)
    assert checkpoints(cli.home) == []
    cut_newest(cli.home, 2)
    verified = cli("--user", "auditor", "audit", "verify", "--json")
    assert verified.json["ok"] is True  # only the `no_checkpoint` warning: the cut does not show


def test_a_checkpoint_every_n_events_makes_a_cut_tail_show(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_AUDIT_CHECKPOINT_EVERY", "3")
    make_events(cli, 7)
    written = checkpoints(cli.home)
    assert len(written) >= 2  # written on their own, no `audit checkpoint` command
    intact = cli("--user", "auditor", "audit", "verify", "--json")
    assert intact.json["ok"] is True, intact.stdout
    sealed = intact.json["sealed_through"]

    context = make_context(cli.home)
    with context.db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id > :sealed - 2"), {"sealed": sealed})
    context.close()
    cut = cli("--user", "auditor", "audit", "verify", "--json")
    assert cut.exit_code == 9 and cut.json["ok"] is False
    assert "truncated" in {finding["code"] for finding in cut.json["findings"]}


def test_a_checkpoint_once_the_oldest_unsealed_event_is_old_enough(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("--user", "auditor", "audit", "checkpoint").exit_code == 0  # the accounts' setup sealed
    monkeypatch.setenv("DANGAN_AUDIT_CHECKPOINT_SECONDS", "2")
    make_events(cli, 2)  # far fewer than 1000 events, and younger than the interval: not due yet
    assert len(checkpoints(cli.home)) == 1
    time.sleep(2.1)
    make_events(cli, 1)  # the first command after the interval passed writes one
    assert len(checkpoints(cli.home)) == 2
    cut_newest(cli.home, 2)  # the newest sealed events deleted
    cut = cli("--user", "auditor", "audit", "verify", "--json")
    assert cut.exit_code == 9 and "truncated" in {finding["code"] for finding in cut.json["findings"]}


def test_due_by_count_or_by_age(context_factory: Path) -> None:
    context = make_context(context_factory)
    try:
        from archive.audit import log as audit
        from archive.events import AuditAction

        with context.db.read() as session:
            base = session.execute(text("SELECT coalesce(max(id), 0) FROM audit_event")).scalar_one()
        with context.db.write() as session:
            for _ in range(3):
                audit.record(session, actor="t", action=AuditAction.BROWSE)
        now = dt.datetime.now(dt.UTC)
        with context.db.read() as session:
            assert due_after(session, base, every=3, max_age=None)
            assert not due_after(session, base, every=4, max_age=None)
            assert not due_after(session, base, every=4, max_age=60, now=now)
            assert due_after(session, base, every=4, max_age=60, now=now + dt.timedelta(seconds=61))
            newest = session.execute(text("SELECT max(id) FROM audit_event")).scalar_one()
            assert not due_after(session, newest, every=1, max_age=0.001, now=now + dt.timedelta(days=1))
            with pytest.raises(Exception, match="at least 1 event"):
                due_after(session, 0, every=0, max_age=None)
    finally:
        context.close()


@pytest.fixture
def context_factory(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_a_backup_run_seals_the_log_and_carries_the_checkpoints(cli: Cli, tmp_path: Path) -> None:
    make_events(cli, 2)
    assert cli("--user", "sysadmin", "backup", "target", "add", "offsite", "--path", str(tmp_path / "o")).exit_code == 0
    run = cli("--user", "sysadmin", "backup", "run", "--target", "offsite", "--json")
    assert run.exit_code == 0, run.stdout
    primary = {p.name: p.read_bytes() for p in checkpoints(cli.home)}
    carried = {p.name: p.read_bytes() for p in sorted((tmp_path / "o" / "audit" / "checkpoints").glob("*.json"))}
    assert primary and carried == primary and run.json["report"]["checkpoints"] == len(primary)


def test_cutting_the_newest_events_and_checkpoints_shows_against_the_targets_copies(cli: Cli, tmp_path: Path) -> None:
    """The cut a careful forger makes: the newest events *and* the checkpoints sealing them, from the primary.
    On its own the primary verifies intact; the backup target's copy of the deleted checkpoint shows the cut."""
    make_events(cli, 3)
    admin = ("--user", "sysadmin")
    assert cli(*admin, "backup", "target", "add", "offsite", "--path", str(tmp_path / "o")).exit_code == 0
    assert cli(*admin, "audit", "checkpoint").exit_code == 0  # an earlier checkpoint, kept by the forger
    make_events(cli, 3)
    assert cli(*admin, "backup", "run", "--target", "offsite").exit_code == 0  # seals the log, copies both
    newest = checkpoints(cli.home)[-1]
    sealed = int(newest.stem)
    context = make_context(cli.home)
    try:
        # every event after the kept checkpoint goes, and every checkpoint after it: the primary is self-consistent
        with context.store.open_read(f"audit/checkpoints/{sealed - 1:08d}.json") as stream:
            head = json.loads(stream.read())["last_event_id"]
        with context.db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_event WHERE id > :head"), {"head": head})
    finally:
        context.close()
    newest.unlink()
    alone = make_context(cli.home)
    try:
        assert AuditService(alone).verify(AUDITOR).ok  # the primary alone cannot tell
    finally:
        alone.close()
    verified = cli("--user", "auditor", "audit", "verify", "--json")
    assert verified.exit_code == 9 and verified.json["ok"] is False, verified.stdout
    found = {(f["code"], f.get("variant")) for f in verified.json["findings"]}
    assert ("checkpoint_missing", "on_target") in found and ("truncated", None) in found, found
    on_target = next(f for f in verified.json["findings"] if f.get("variant") == "on_target")
    assert on_target["params"] == {"sequence": sealed, "target": "offsite"}


def test_an_unreadable_target_is_a_warning_not_a_failed_verification(cli: Cli, tmp_path: Path) -> None:
    make_events(cli, 2)
    target = tmp_path / "o"
    assert cli("--user", "sysadmin", "backup", "target", "add", "offsite", "--path", str(target)).exit_code == 0
    assert cli("--user", "sysadmin", "audit", "checkpoint").exit_code == 0
    if target.is_dir():
        target.rmdir()
    target.write_bytes(b"the disk was swapped for a file")
    verified = cli("--user", "auditor", "audit", "verify", "--json")
    unchecked = [f for f in verified.json["findings"] if f.get("variant") == "unchecked"]
    assert verified.json["ok"] is True and unchecked and unchecked[0]["severity"] == "warning", verified.stdout
    assert unchecked[0]["params"]["target"] == "offsite"
