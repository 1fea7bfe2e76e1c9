"""Filing a page's rescan, crash-safe by ingest's rule: the keys about to be written are recorded first (an
intent), the objects are written outside any transaction, then one transaction makes the new page version
current and records the audit event.

The intent is a small file under `<home>/work/intents/`, held under an exclusive lock (flock) while its rescan
runs; the kernel drops the lock when the process dies, however it dies. `recover_rescans`, called when a
runner starts, takes every intent whose lock it can get (its rescan is dead): it deletes the objects the intent
names that no catalogue row references (a crash before the commit) and then the intent. A crash after the
commit leaves every key referenced, so nothing is deleted; the document waits unindexed (`indexed_at` is
cleared in the same transaction) until `index_unindexed` re-indexes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from api.wiring import Context
from archive.durable import fsync_dir
from archive.errors import DanganError
from archive.failpoints import failpoint
from archive.models import Document, StoredObject, utcnow
from archive.ports import BlobInfo, content_key

log = logging.getLogger(__name__)
INTENT_PREFIX = "rescan-"


@dataclass(frozen=True)
class RescanObjects:
    """What a rescan stores: the scan itself, the spliced access copy and the document's new full text."""

    original: Path
    original_sha256: str
    pdfa: Path
    pdfa_sha256: str
    text: bytes
    text_sha256: str

    @property
    def keys(self) -> list[str]:
        return [content_key(sha) for sha in (self.original_sha256, self.pdfa_sha256, self.text_sha256)]


def intents_dir(context: Context) -> Path:
    return context.settings.home_dir / "work" / "intents"


@contextlib.contextmanager
def rescan_intent(context: Context, keys: list[str]) -> Iterator[None]:
    """Record `keys` durably, locked for as long as the block runs. On an error the block's unreferenced
    objects are removed at once; if that fails too (the store is down), the intent stays for recovery."""
    folder = intents_dir(context)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{INTENT_PREFIX}{uuid.uuid4().hex}.json"
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as out:
        out.write(json.dumps({"keys": keys, "pid": os.getpid(), "at": utcnow().isoformat()}).encode())
        out.flush()
        os.fsync(out.fileno())
    handle = temporary.open("rb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # before the rename: recovery never sees a live intent unlocked
        temporary.replace(path)
        fsync_dir(folder)
        failpoint("rescan.intent_recorded")
        try:
            yield
        except BaseException:
            with contextlib.suppress(DanganError, OSError):
                remove_unreferenced(context, keys)
                path.unlink(missing_ok=True)
            raise
        path.unlink(missing_ok=True)
    finally:
        handle.close()


def store_rescan(context: Context, objects: RescanObjects) -> tuple[BlobInfo, BlobInfo, BlobInfo]:
    """Write the rescan's objects (under its intent, outside any transaction)."""
    store = context.store
    original = store.put_file(
        content_key(objects.original_sha256), objects.original, expected_sha256=objects.original_sha256
    )
    failpoint("rescan.object_stored")
    pdfa = store.put_file(content_key(objects.pdfa_sha256), objects.pdfa, expected_sha256=objects.pdfa_sha256)
    failpoint("rescan.object_stored")
    text = store.put_bytes(content_key(objects.text_sha256), objects.text)
    failpoint("rescan.object_stored")
    return original, pdfa, text


def remove_unreferenced(context: Context, keys: list[str]) -> int:
    """Delete the objects among `keys` that no catalogue row references; returns how many."""
    with context.db.read() as session:
        referenced = set(session.scalars(select(StoredObject.key).where(StoredObject.key.in_(keys))))
    orphans = [key for key in keys if key not in referenced]
    for key in orphans:
        context.store.delete(key)
    return len(orphans)


def recover_rescans(context: Context) -> int:
    """Finish what crashed rescans left: their unreferenced objects and their intents go; returns the number of
    objects removed. Intents of rescans still running (their lock is held) are left alone."""
    folder = intents_dir(context)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in sorted(folder.glob(f"{INTENT_PREFIX}*")):
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            continue  # its rescan finished meanwhile
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live rescan
            if path.suffix == ".json":
                try:
                    keys = [str(key) for key in json.loads(handle.read() or b"{}").get("keys", [])]
                except ValueError:
                    keys = []  # torn before its rename: nothing was written under it
                removed += remove_unreferenced(context, keys)
            path.unlink(missing_ok=True)
    if removed:
        log.warning("removed %d object(s) an interrupted rescan stored but never catalogued", removed)
    return removed


def mark_indexed(context: Context, document_id: int) -> None:
    with context.db.write() as session:
        session.execute(update(Document).where(Document.id == document_id).values(indexed_at=utcnow()))
