"""How a runner holds its jobs: an owner id, a renewer that extends every lease it owns, and the hand-back of
what it holds when it stops. The rules (what is claimable, the fence, the lease arithmetic) are archive/jobs.py.

A runner that dies (kill -9, OOM) stops renewing: once its leases expire, any runner reclaims its jobs, and the
claimer first removes the objects the dead one wrote but never filed (the job's `pending_keys` intent).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update

from api.ingest.filing import recover_orphans
from archive.db import Database
from archive.errors import DanganError
from archive.jobs import handed_back, held_by, lease_until, renew_every
from archive.models import IngestJob, StoredObject, utcnow
from archive.ports import BlobStore

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This runner no longer holds the job (its lease expired and another runner took it): it must not end it."""


def new_owner() -> str:
    """A runner instance's owner id: host, process and a random part (a pid can be reused after a restart)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


class LeaseKeeper:
    """The leases of one runner instance: `owner` is written on every job it claims; a daemon thread renews the
    leases of the jobs in hand (`holding`) every third of a lease, in one UPDATE per tick. A job whose thread
    ended without recording its end (the catalogue full or locked at that moment) is no longer in hand: its
    lease runs out and any runner takes it up again, so nothing stays `processing` under a live owner."""

    def __init__(self, db: Database, lease_seconds: float) -> None:
        self.db = db
        self.owner = new_owner()
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._in_hand: set[int] = set()
        self._in_hand_lock = threading.Lock()
        self._thread = threading.Thread(target=self._renew_until_stopped, name="lease-renewer", daemon=True)
        self._thread.start()

    @contextmanager
    def holding(self, job_id: int) -> Iterator[None]:
        """While a job's thread runs it: its lease is renewed."""
        with self._in_hand_lock:
            self._in_hand.add(job_id)
        try:
            yield
        finally:
            with self._in_hand_lock:
                self._in_hand.discard(job_id)

    def renew(self) -> int:
        """Extend the lease of every job in hand that this owner still holds; returns how many."""
        with self._in_hand_lock:
            in_hand = sorted(self._in_hand)
        if not in_hand:
            return 0
        with self.db.write() as session:
            renewed = session.execute(
                update(IngestJob)
                .where(held_by(self.owner), IngestJob.id.in_(in_hand))
                .values(lease_expires_at=lease_until(utcnow(), self.lease_seconds))
            )
            return int(renewed.rowcount)  # type: ignore[attr-defined]

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(renew_every(self.lease_seconds)):
            try:
                self.renew()
            except DanganError as exc:  # a busy or full catalogue: the next tick tries again, before the lease runs out
                log.warning("could not renew the job leases of %s: %s", self.owner, exc.message)
            except Exception:
                log.warning("could not renew the job leases of %s", self.owner, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def hand_back(db: Database, store: BlobStore, owner: str, job_ids: list[int] | None = None) -> list[int]:
    """Give back the jobs `owner` still holds (all, or those of `job_ids`): queued again, no owner, and the
    objects they wrote but never filed removed. Returns the ids handed back."""
    with db.write() as session:
        query = select(IngestJob).where(held_by(owner))
        if job_ids is not None:
            query = query.where(IngestJob.id.in_(job_ids))
        jobs = list(session.scalars(query.with_for_update()))
        for job in jobs:
            if job.options.get("pending_keys"):
                try:
                    recover_orphans(session, store, job)
                except Exception:  # the store is down: the intent stays, and the next claimer cleans up
                    log.warning("job %s: its unfiled objects are removed by the next runner", job.id)
        ids = [job.id for job in jobs]
        if ids:
            session.execute(update(IngestJob).where(IngestJob.id.in_(ids)).values(handed_back()))
    return ids


def hand_back_quietly(db: Database, store: BlobStore, owner: str, job_ids: list[int] | None = None) -> None:
    """hand_back for a stopping runner: a failure is logged (the lease then expires and the job is reclaimed)."""
    try:
        handed = hand_back(db, store, owner, job_ids)
    except Exception:
        log.warning("could not hand back the jobs of %s; they are reclaimed once their leases expire", owner)
        return
    if handed:
        log.info("handed back jobs %s", handed)


def remove_unfiled(db: Database, store: BlobStore, keys: list[str], job_id: int) -> int:
    """After a lost lease: delete the objects this runner wrote for the job that no row references and the job's
    current holder has not claimed in its own intent. Under the write lock, so the holder cannot record or
    file those keys meanwhile (objects are content-addressed: an original shared with the holder is kept)."""
    removed = 0
    with db.write() as session:
        job = session.get(IngestJob, job_id)
        intended = {str(key) for key in (job.options.get("pending_keys", []) if job else [])}  # type: ignore[attr-defined]
        for key in keys:
            if key in intended:
                continue
            if session.scalars(select(StoredObject.id).where(StoredObject.key == key).limit(1)).first() is None:
                store.delete(key)
                removed += 1
    return removed
