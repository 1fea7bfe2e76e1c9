"""Append-only audit events, each chained to its predecessor by SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.db import Database
from archive.errors import DanganError
from archive.events import AuditAction
from archive.models import AuditEvent, utcnow

GENESIS_HASH = "0" * 64


def event_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash an event must carry: SHA-256 over its predecessor's hash and its canonical JSON."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    outcome: str = "success",
    target: str | None = None,
    client: str | None = None,
    details: dict[str, Any] | None = None,
    roles: Iterable[str] | None = None,
) -> AuditEvent:
    """Add one event to the session's transaction; it commits (or not) with the change it describes.

    The actor's roles at the time, when known, are kept in the details (and so covered by the hash)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7263)"))  # one chain head at a time
    head = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    prev_hash = head or GENESIS_HASH
    at = utcnow()
    details = dict(details or {})
    if roles is not None:
        details["roles"] = sorted(str(role) for role in roles)
    fields = _chained_fields(at, actor, action.value, target, outcome, client, details)
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action.value,
        target=target,
        outcome=outcome,
        client=client,
        details=details,
        prev_hash=prev_hash,
        hash=event_digest(prev_hash, fields),
    )
    session.add(event)
    session.flush()
    return event


def append(
    db: Database,
    *,
    actor: str,
    action: AuditAction,
    outcome: str = "success",
    target: str | None = None,
    client: str | None = None,
    details: dict[str, Any] | None = None,
    roles: Iterable[str] | None = None,
) -> None:
    """The event of a read (or a refusal), committed before this returns, after the read's own transaction.

    The read ran in `db.read()`, without the write lock; only the append is serialised, so the chain head it
    extends is the newest one (`record` reads it under the lock). Appends that arrive while another is being
    committed are committed together in the next write (one lock, one fsync for all of them): nothing is
    batched across a response, every caller waits for the commit that holds its own event."""
    fields = {
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "target": target,
        "client": client,
        "details": details,
        "roles": roles,
    }
    with _appenders_guard:
        appender = _appenders.setdefault(db, _GroupAppender(db))
    appender.append(fields)


@dataclass
class _Pending:
    fields: dict[str, Any]
    done: bool = False
    error: BaseException | None = None


class _GroupAppender:
    """Group commit: the first caller to find no commit under way writes everything queued so far."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._changed = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def append(self, fields: dict[str, Any]) -> None:
        mine = _Pending(fields)
        with self._changed:
            self._queue.append(mine)
            while not mine.done:
                if self._writing:
                    self._changed.wait()
                    continue
                batch, self._queue, self._writing = self._queue, [], True
                self._changed.release()
                try:
                    self._commit(batch)
                finally:
                    self._changed.acquire()
                    self._writing = False
                    self._changed.notify_all()
        if mine.error is not None:
            raise mine.error

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            self._write(batch)
        except Exception as exc:
            if isinstance(exc, DanganError) and exc.transient:  # a busy or full catalogue: no event was written,
                for pending in batch:  # and each alone would only meet it again (a busy one: each a full wait)
                    pending.error = exc
                return
            for pending in batch:  # one bad event must not cost the others theirs: each alone, its own outcome
                try:
                    self._write([pending])
                except Exception as error:  # handed to its caller, which raises it
                    pending.error = error
        except BaseException as exc:  # interrupted: nobody's event is known to be written
            for pending in batch:
                pending.error = exc
            raise
        finally:
            for pending in batch:
                pending.done = True

    def _write(self, batch: list[_Pending]) -> None:
        def append_all(session: Session) -> None:  # only session work: safe to run again on a conflict
            for pending in batch:
                record(session, **pending.fields)

        self.db.transaction(append_all)


_appenders: weakref.WeakKeyDictionary[Database, _GroupAppender] = weakref.WeakKeyDictionary()
_appenders_guard = threading.Lock()


def _chained_fields(
    at: dt.datetime,
    actor: str,
    action: str,
    target: str | None,
    outcome: str,
    client: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": at.astimezone(dt.UTC).isoformat(),
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": outcome,
        "client": client,
        "details": details,
    }


def recompute_hash(event: AuditEvent) -> str:
    """What the event's hash should be given its stored fields (used by verification)."""
    fields = _chained_fields(
        event.at, event.actor, event.action, event.target, event.outcome, event.client, event.details
    )
    return event_digest(event.prev_hash, fields)
