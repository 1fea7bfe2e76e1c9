"""The audit hash chain, signed checkpoints and pruning: one real tamper per class, through real seams.

Events are written with archive.audit.log.record on real SQLite and on a real PostgreSQL (tests/pgserver.py);
tampering is raw SQL on audit_event (as someone with database access would do it), edited checkpoint files on
disk, or checkpoints signed with another key.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import DataError

from api.wiring import Context
from archive.audit import log as audit
from archive.audit.checkpoints import (
    load_checkpoints,
    maybe_checkpoint,
    verify_checkpoint_signature,
    write_checkpoint,
)
from archive.audit.keys import load_or_create_signing_key, public_key_fingerprint, public_key_pem, public_key_raw
from archive.audit.verify import AuditVerification, prune_before, verify_audit_log
from archive.errors import ConfigurationError, Conflict, InvalidInput
from archive.events import AuditAction
from archive.models import AuditEvent
from storage_config.local_store import LocalBlobStore


@pytest.fixture
def context(db_context: Context) -> Context:
    """Every test here runs on SQLite and on PostgreSQL (tests/pgserver.py)."""
    return db_context


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return load_or_create_signing_key(tmp_path / "keys" / "audit-signing.pem")


@pytest.fixture
def log(context: Context) -> Context:
    """Events 1..13: the fixture's own `fonds.create` plus twelve logins, each in its own write unit."""
    record(context, 12)
    return context


def record(context: Context, count: int, *, actor: str = "tester") -> None:
    for n in range(count):
        with context.db.write() as session:
            audit.record(
                session, actor=actor, action=AuditAction.LOGIN, target=f"user:{n}", details={"n": n, "字": "档"}
            )


def checkpoint(context: Context, key: Ed25519PrivateKey) -> None:
    with context.db.write() as session:
        write_checkpoint(session, context.store, key)


def verify(context: Context, key: Ed25519PrivateKey) -> AuditVerification:
    with context.db.session() as session:
        return verify_audit_log(session, context.store, trusted_public_key_raw=public_key_raw(key))


def sql(context: Context, statement: str, **params: Any) -> None:
    with context.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def kinds(report: AuditVerification) -> list[str]:
    return [finding.kind for finding in report.findings]


def events(context: Context) -> list[AuditEvent]:
    with context.db.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def digest(prev_hash: str, event: AuditEvent, **changes: Any) -> str:
    """The hash a forger computes with archive.audit.log.event_digest for the event's fields plus `changes`."""
    fields = {name: getattr(event, name) for name in ("actor", "action", "target", "outcome", "client", "details")}
    return audit.event_digest(prev_hash, {"at": event.at.astimezone(dt.UTC).isoformat(), **fields, **changes})


def checkpoint_file(context: Context, sequence: int) -> Path:
    return context.settings.resolved_storage_path / f"audit/checkpoints/{sequence:08d}.json"


def test_clean_log_with_checkpoints_verifies(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    record(log, 3)
    checkpoint(log, key)
    report = verify(log, key)
    assert report.ok, report.findings
    assert (report.events_checked, report.checkpoints_checked, report.first_bad_event_id) == (16, 2, None)
    assert json.loads(json.dumps(report.as_dict()))["ok"] is True
    first, second = load_checkpoints(log.store)
    assert (first.sequence, first.last_event_id, first.event_count) == (1, 13, 13)
    assert (second.sequence, second.last_event_id, second.event_count) == (2, 16, 16)
    assert verify_checkpoint_signature(second, public_key_raw(key))


def test_checkpoint_json_is_canonical_and_stored_under_its_sequence(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    raw = checkpoint_file(log, 1).read_bytes()
    fields = json.loads(raw)
    assert raw == json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    expected = "created_at event_count last_event_id last_hash public_key sequence signature"
    assert " ".join(fields) == expected  # every field, in canonical (sorted) order
    assert fields["last_hash"] == events(log)[-1].hash
    assert dt.datetime.fromisoformat(fields["created_at"]).utcoffset() == dt.timedelta(0)


def test_maybe_checkpoint_every_n_events(log: Context, key: Ed25519PrivateKey) -> None:
    with log.db.write() as session:
        assert maybe_checkpoint(session, log.store, key, every=5) is not None  # 13 unchecked events
    record(log, 4)
    with log.db.write() as session:
        assert maybe_checkpoint(session, log.store, key, every=5) is None
    record(log, 1)
    with log.db.write() as session:
        made = maybe_checkpoint(session, log.store, key, every=5)
    assert made is not None and (made.sequence, made.last_event_id) == (2, 18)
    with log.db.write() as session, pytest.raises(InvalidInput):
        maybe_checkpoint(session, log.store, key, every=0)


def test_edited_details_and_actor_are_named(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    sql(log, "UPDATE audit_event SET details = :details WHERE id = 5", details='{"n": 999}')
    sql(log, "UPDATE audit_event SET actor = 'mallory' WHERE id = 9")
    report = verify(log, key)
    assert [(finding.kind, finding.event_id) for finding in report.findings] == [("edited", 5), ("edited", 9)]
    assert report.first_bad_event_id == 5 and not report.ok


def test_unreadable_stored_fields_are_reported_not_raised(log: Context, key: Ed25519PrivateKey) -> None:
    if log.db.is_sqlite:
        sql(log, "UPDATE audit_event SET details = 'not json', at = 'yesterday' WHERE id = 4")
    else:  # PostgreSQL's types refuse text that is not JSON; what they accept still breaks the hash
        with pytest.raises(DataError, match="json"):
            sql(log, "UPDATE audit_event SET details = 'not json' WHERE id = 4")
        sql(log, "UPDATE audit_event SET details = '\"not an object\"', at = 'yesterday' WHERE id = 4")
    report = verify(log, key)
    assert kinds(report) == ["edited"] and report.first_bad_event_id == 4


def test_edited_and_rehashed_event_breaks_the_next_link(log: Context, key: Ed25519PrivateKey) -> None:
    seventh = events(log)[6]
    forged = digest(seventh.prev_hash, seventh, actor="mallory")
    sql(log, "UPDATE audit_event SET actor = 'mallory', hash = :hash WHERE id = 7", hash=forged)
    report = verify(log, key)
    assert kinds(report) == ["chain_broken"] and report.first_bad_event_id == 7


def test_deleted_middle_event_is_named(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    sql(log, "DELETE FROM audit_event WHERE id = 6")
    report = verify(log, key)
    assert kinds(report) == ["deleted"]
    assert report.first_bad_event_id == 6 and "6..6" in report.findings[0].detail


def test_deleted_oldest_events_are_named(log: Context, key: Ed25519PrivateKey) -> None:
    sql(log, "DELETE FROM audit_event WHERE id <= 2")
    report = verify(log, key)
    assert kinds(report) == ["deleted"] and report.first_bad_event_id == 1


def test_deletion_hidden_by_renumbering_is_named_through_the_checkpoint(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)  # signs event 13
    sql(log, "DELETE FROM audit_event WHERE id = 6")
    sql(log, "UPDATE audit_event SET id = id - 1 WHERE id > 6")  # no gap left; event 13 is now id 12
    report = verify(log, key)
    assert kinds(report) == ["deleted"] and report.first_bad_event_id == 6


def _shift_ids_after(context: Context, event_id: int) -> None:
    sql(context, "UPDATE audit_event SET id = -id WHERE id > :n", n=event_id)
    sql(context, "UPDATE audit_event SET id = 1 - id WHERE id < 0")


def _insert(context: Context, event_id: int, template: AuditEvent, prev_hash: str, actor: str) -> None:
    """A forged event: `template` copied under another actor, linked to `prev_hash`, hashed consistently."""
    forged = {"id": event_id, "actor": actor, "prev": prev_hash, "src": template.id}
    statement = (
        "INSERT INTO audit_event (id, at, actor, action, target, outcome, client, details, prev_hash, hash) "
        "SELECT :id, at, :actor, action, target, outcome, client, details, :prev, :hash "
        "FROM audit_event WHERE id = :src"
    )
    sql(context, statement, **forged, hash=digest(prev_hash, template, actor=actor))


def test_inserted_forged_event_is_named(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)  # signs event 13, which the renumbering below moves to id 14
    seventh = events(log)[6]
    _shift_ids_after(log, 7)
    _insert(log, 8, seventh, seventh.hash, "mallory")  # links to 7 and hashes consistently
    report = verify(log, key)
    assert kinds(report) == ["inserted"]
    assert report.first_bad_event_id == 8


def test_forged_event_appended_onto_an_old_event_is_named(log: Context, key: Ed25519PrivateKey) -> None:
    third = events(log)[2]
    _insert(log, 14, third, third.hash, "mallory")
    report = verify(log, key)
    assert kinds(report) == ["inserted"] and report.first_bad_event_id == 14


def _swap(context: Context, a: int, b: int) -> None:
    columns = "at, actor, action, target, outcome, client, details, prev_hash, hash"
    with context.db.engine.begin() as connection:
        select_row = text(f"SELECT {columns} FROM audit_event WHERE id = :n")
        rows = {n: connection.execute(select_row, {"n": n}).one() for n in (a, b)}
        connection.execute(text("UPDATE audit_event SET hash = 'moving' WHERE id = :n"), {"n": a})
        for target, source in ((b, a), (a, b)):
            values = {name: _stored(value) for name, value in rows[source]._mapping.items()}
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(text(f"UPDATE audit_event SET {assignments} WHERE id = :id"), {**values, "id": target})


def _stored(value: Any) -> Any:
    """A raw column value as it goes back in: PostgreSQL reads JSON columns as dicts, SQLite as text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


def test_two_swapped_events_are_reordered(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    _swap(log, 5, 6)
    report = verify(log, key)
    assert kinds(report) == ["reordered"] and report.first_bad_event_id == 5


def test_two_distant_swapped_events_are_reordered(log: Context, key: Ed25519PrivateKey) -> None:
    _swap(log, 4, 10)
    report = verify(log, key)
    assert set(kinds(report)) == {"reordered"} and report.first_bad_event_id == 4


def test_truncated_tail_is_caught_by_the_checkpoint(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    sql(log, "DELETE FROM audit_event WHERE id > 10")
    report = verify(log, key)
    assert kinds(report) == ["truncated"]
    assert report.first_bad_event_id == 11
    assert "13" in report.findings[0].detail and report.events_checked == 10


def _rewrite_from(context: Context, first_id: int) -> None:
    """Edit one event's actor, then recompute every later link and hash, as a careful forger would."""
    later = [event for event in events(context) if event.id >= first_id]
    prev_hash = later[0].prev_hash
    for event in later:
        actor = "mallory" if event.id == first_id else event.actor
        new_hash = digest(prev_hash, event, actor=actor)
        statement = "UPDATE audit_event SET actor = :a, prev_hash = :p, hash = :h WHERE id = :n"
        sql(context, statement, a=actor, p=prev_hash, h=new_hash, n=event.id)
        prev_hash = new_hash


def test_rewritten_chain_is_caught_only_by_the_checkpoint(log: Context, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    checkpoint(log, key)  # covers 13
    _rewrite_from(log, 9)
    with log.db.session() as session:  # the chain alone is self-consistent
        assert verify_audit_log(session, LocalBlobStore(tmp_path / "no-checkpoints"), trusted_public_key_raw=None).ok
    report = verify(log, key)
    assert kinds(report) == ["rewritten"]
    assert report.first_bad_event_id == 13 and "1..13" in report.findings[0].detail


def test_rewrite_is_narrowed_by_an_earlier_good_checkpoint(context: Context, key: Ed25519PrivateKey) -> None:
    record(context, 6)
    checkpoint(context, key)  # covers 7
    record(context, 6)
    checkpoint(context, key)  # covers 13
    _rewrite_from(context, 10)
    report = verify(context, key)
    assert kinds(report) == ["rewritten"] and "8..13" in report.findings[0].detail


def test_mutated_checkpoint_is_rejected(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    path = checkpoint_file(log, 1)
    fields = json.loads(path.read_bytes())
    fields["last_hash"] = events(log)[4].hash
    path.write_text(json.dumps(fields))
    report = verify(log, key)
    assert kinds(report) == ["checkpoint_signature"]
    assert report.first_bad_event_id is None and not report.ok
    assert not verify_checkpoint_signature(load_checkpoints(log.store)[0], public_key_raw(key))


def test_garbled_checkpoint_is_invalid(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    checkpoint_file(log, 1).write_bytes(b"{not json")
    assert kinds(verify(log, key)) == ["checkpoint_invalid"]


def test_checkpoint_signed_with_another_key_is_rejected(log: Context, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    checkpoint(log, key)
    sql(log, "DELETE FROM audit_event WHERE id > 10")
    other = load_or_create_signing_key(tmp_path / "forger.pem")
    checkpoint(log, other)  # a forger vouches for the truncated log
    report = verify(log, key)
    assert kinds(report) == ["truncated", "checkpoint_signature"]  # the forged checkpoint hides nothing
    assert "different key" in report.findings[1].detail
    assert not verify_checkpoint_signature(load_checkpoints(log.store)[1], public_key_raw(key))


def test_without_a_trusted_key_the_result_warns(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    with log.db.session() as session:
        report = verify_audit_log(session, log.store, trusted_public_key_raw=None)
    assert report.ok and kinds(report) == ["key_untrusted"]
    assert report.findings[0].severity == "warning"


def test_missing_checkpoint_file_is_reported(log: Context, key: Ed25519PrivateKey) -> None:
    for _ in range(3):
        checkpoint(log, key)
        record(log, 2)
    checkpoint_file(log, 2).unlink()
    report = verify(log, key)
    assert kinds(report) == ["checkpoint_missing"] and "2..2" in report.findings[0].detail


def _at(context: Context, event_id: int) -> dt.datetime:
    return next(event.at for event in events(context) if event.id == event_id)


def prune(context: Context, key: Ed25519PrivateKey, before: dt.datetime, **options: Any) -> int:
    options.setdefault("min_retention", dt.timedelta(0))
    with context.db.write() as session:
        return prune_before(session, context.store, key, before=before, actor="admin", **options)


def test_pruning_is_logged_and_keeps_the_chain_verifiable(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    assert prune(log, key, _at(log, 8)) == 7
    remaining = events(log)
    assert [event.id for event in remaining] == list(range(8, 15))
    pruned = remaining[-1]
    assert (pruned.action, pruned.actor) == ("audit.prune", "admin")
    assert pruned.details["last_pruned_id"] == 7 and pruned.details["pruned_total"] == 7
    assert pruned.details["last_pruned_hash"] == remaining[0].prev_hash
    newest = load_checkpoints(log.store)[-1]
    assert (newest.last_event_id, newest.event_count) == (14, 14)
    report = verify(log, key)
    assert report.ok, report.findings
    assert (report.anchor_event_id, report.events_checked, report.checkpoints_checked) == (7, 7, 2)
    record(log, 2)
    checkpoint(log, key)
    assert prune(log, key, _at(log, 15)) == 7  # again: 8..14, including the first prune event
    assert verify(log, key).ok and events(log)[-1].details["pruned_total"] == 14


def test_deletion_after_pruning_is_still_caught(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    prune(log, key, _at(log, 8))
    sql(log, "DELETE FROM audit_event WHERE id = 8")
    report = verify(log, key)
    assert kinds(report) == ["deleted"] and report.first_bad_event_id == 8


def test_forged_prune_event_is_not_trusted(log: Context, key: Ed25519PrivateKey) -> None:
    fifth = events(log)[4]
    sql(log, "DELETE FROM audit_event WHERE id <= 5")
    details = {"last_pruned_id": 5, "last_pruned_hash": fifth.hash, "pruned_total": 5, "anchor_signature": "AAAA"}
    with log.db.write() as session:
        audit.record(session, actor="mallory", action=AuditAction.AUDIT_PRUNE, details=details)
    report = verify(log, key)
    assert kinds(report) == ["deleted", "prune_unverified"]
    assert report.first_bad_event_id == 1


def test_pruning_refuses_events_not_covered_by_a_checkpoint(log: Context, key: Ed25519PrivateKey) -> None:
    with pytest.raises(Conflict, match="checkpoint"):
        prune(log, key, _at(log, 8))
    sql(log, "DELETE FROM audit_event WHERE id > 5")
    checkpoint(log, key)  # covers 5
    record(log, 8)  # ids 6..13 on SQLite; PostgreSQL's sequence does not give deleted ids again (14..21)
    with pytest.raises(Conflict, match="only up to 5"):
        prune(log, key, events(log)[8].at)
    assert len(events(log)) == 13 and verify(log, key).ok


def test_pruning_refuses_a_tampered_log_and_recent_events(log: Context, key: Ed25519PrivateKey) -> None:
    checkpoint(log, key)
    with pytest.raises(InvalidInput, match="183 days"):
        prune(log, key, _at(log, 8), min_retention=dt.timedelta(days=183))
    sql(log, "UPDATE audit_event SET actor = 'mallory' WHERE id = 3")
    with pytest.raises(Conflict, match="edited"):
        prune(log, key, _at(log, 8))
    assert len(events(log)) == 13


def test_signing_key_is_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_or_create_signing_key(path)
    assert public_key_fingerprint(again) == public_key_fingerprint(key)
    assert len(public_key_fingerprint(key)) == 64 and len(public_key_raw(key)) == 32
    assert public_key_pem(key).startswith(b"-----BEGIN PUBLIC KEY-----")
    assert [p.name for p in path.parent.iterdir()] == ["audit.pem"]  # no temp file left behind
    path.write_bytes(b"not a key")
    with pytest.raises(ConfigurationError):
        load_or_create_signing_key(path)
