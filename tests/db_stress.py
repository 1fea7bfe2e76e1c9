"""Eight threads over one real SQLite catalogue, each journaling what it committed, until killed.

Run by tests/test_db_busy.py as a subprocess (`python -m tests.db_stress HOME JOURNALS SECONDS`), which
`kill -9`s it at a random moment and then checks the catalogue against the journals. The threads use the
project's own use cases: ingest (submit, then process with the null OCR engine, in the thread), metadata edits
of documents (each edit thread owns its documents), and reads that append audit events (document views,
searches, with the after-request checkpoint). Each acknowledgement is written, flushed and fsynced to the
thread's own journal only AFTER the use case returned, so every journal line names a committed write.

Journal lines (space-separated): `submitted JOB`, `filed JOB DOCUMENT`, `edit DOCUMENT NUMBER TITLE`,
`view CLIENT`, `search CLIENT`, and the faults a thread met: `busy MESSAGE`, `raw TYPE MESSAGE` (an untranslated
driver error: must not happen), `error TYPE MESSAGE` (anything else).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import DBAPIError

from api.access.auditing import AuditService
from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.records.documents import DocumentService, update_document
from api.search.service import SearchService
from api.wiring import Context, build_context
from archive.errors import CatalogueBusy
from ingest.engines.sidecar import sidecar_path
from ingest.grouping import PlannedItem
from ingest.ocr import process
from storage_config.settings import FaultOptions, Settings
from tests.actors import ARCHIVIST
from tests.pages import ENGLISH_TEXT, render

INGESTERS, EDITORS, READERS = 2, 3, 3  # eight threads
DOCUMENTS_PER_EDITOR = 2
LEASE_SECONDS = 5.0  # the stress process's job leases: a restart after the kill takes its jobs over once they lapse
SETUP = "setup.json"
READY = "ready"
CHECKPOINT_EVERY = 100  # signed checkpoints of the access log while the threads run (and the kill may come)


def unique_scan(base: Path, folder: Path, name: str, text: str) -> Path:
    """A copy of a rendered PNG made unique by a text chunk (a new SHA-256, the same image), with its sidecar."""
    data = base.read_bytes()
    end = data.rindex(b"IEND") - 4  # the IEND chunk's length field
    body = b"tEXt" + b"Comment\x00" + name.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    path = folder / name
    path.write_bytes(data[:end] + chunk + data[end:])
    sidecar_path(path).write_text(text, encoding="utf-8")
    return path


def ingest_one(service: IngestService, batch_id: int, path: Path) -> tuple[int, int | None]:
    """Submit one scan and process it here (the null engine); the job id and the document it was filed as."""
    job = service.submit_item(batch_id, PlannedItem(path.name, (path,)), actor=ARCHIVIST)
    service.process_job(job.id, process)
    return job.id, service.job(ARCHIVIST, job.id).document_id


def prepare(home: Path, journals: Path, work: Path) -> dict[str, object]:
    """An initialised archive with a batch, a base scan and the documents the edit and read threads use."""
    from tests.conftest import make_context  # the test's own helper: the archive as every test makes it

    context = make_context(home)
    try:
        base = render(work, "base.png", "Stress item. " + ENGLISH_TEXT, "eng", seed=77)
        batch = BatchService(context).create(actor=ARCHIVIST, fonds="STRESS", languages="eng")
        service = IngestService(context)
        documents = []
        for n in range(EDITORS * DOCUMENTS_PER_EDITOR):
            scan = unique_scan(base, work, f"seed-{n}.png", f"Stress seed document {n}. {ENGLISH_TEXT}")
            _job, document_id = ingest_one(service, batch.id, scan)
            assert document_id is not None
            documents.append(document_id)
    finally:
        context.close()
    setup: dict[str, object] = {"batch": batch.id, "documents": documents, "base": str(base), "work": str(work)}
    journals.mkdir(parents=True, exist_ok=True)
    (journals / SETUP).write_text(json.dumps(setup), encoding="utf-8")
    return setup


class Journal:
    """One thread's acknowledgements: each line flushed and fsynced before the thread goes on."""

    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open("a", encoding="utf-8")

    def write(self, *fields: object) -> None:
        self._file.write(" ".join(" ".join(str(field).split()) for field in fields) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())


def guarded(journal: Journal, step: Callable[[], None]) -> None:
    """One step of a thread; the faults it meets are journaled, never raised (the thread goes on)."""
    try:
        step()
    except CatalogueBusy as exc:
        journal.write("busy", exc.message)
    except (DBAPIError, sqlite3.Error) as exc:
        journal.write("raw", type(exc).__name__, exc)
    except Exception as exc:
        journal.write("error", type(exc).__name__, exc)
        traceback.print_exc()  # the test keeps the process's stderr beside the journals


def ingester(context: Context, setup: dict[str, object], number: int, journal: Journal, until: float) -> None:
    service = IngestService(context)
    work = Path(str(setup["work"])) / f"ingester-{number}"
    work.mkdir(parents=True, exist_ok=True)
    base, batch_id = Path(str(setup["base"])), int(str(setup["batch"]))
    count = 0

    def step() -> None:
        name = f"stress-{number}-{count}.png"
        scan = unique_scan(base, work, name, f"Stress ingest {number} {count}. {ENGLISH_TEXT}")
        job = service.submit_item(batch_id, PlannedItem(scan.name, (scan,)), actor=ARCHIVIST)
        journal.write("submitted", job.id)
        service.process_job(job.id, process)
        view = service.job(ARCHIVIST, job.id)
        if view.document_id is not None and view.state == "done":
            journal.write("filed", job.id, view.document_id)
        else:
            journal.write("error", "JobNotFiled", job.id, view.state, view.error)
        scan.unlink(missing_ok=True)

    while time.monotonic() < until:
        guarded(journal, step)
        count += 1


def editor(context: Context, setup: dict[str, object], number: int, journal: Journal, until: float) -> None:
    documents = list(setup["documents"])  # type: ignore[call-overload]
    mine = documents[number * DOCUMENTS_PER_EDITOR : (number + 1) * DOCUMENTS_PER_EDITOR]
    count = 0

    def step() -> None:
        document_id = int(mine[count % len(mine)])
        title = f"stress-{number}-{count}"
        update_document(context, ARCHIVIST, document_id, title=title)
        journal.write("edit", document_id, count, title)

    while time.monotonic() < until:
        guarded(journal, step)
        count += 1


def reader(context: Context, setup: dict[str, object], number: int, journal: Journal, until: float) -> None:
    documents = list(setup["documents"])  # type: ignore[call-overload]
    records, searches, auditing = DocumentService(context), SearchService(context), AuditService(context)
    count = 0

    def step() -> None:
        client = f"reader-{number}-{count}"
        if number == 0:
            searches.search(ARCHIVIST, "stress payroll", client=client)
            journal.write("search", client)
        else:
            records.get(ARCHIVIST, int(documents[count % len(documents)]), client=client)
            journal.write("view", client)
        auditing.checkpoint_if_due()  # as the CLI and the server do after each command and request

    while time.monotonic() < until:
        guarded(journal, step)
        count += 1


def main(argv: list[str]) -> int:
    home, journals, seconds = Path(argv[0]), Path(argv[1]), float(argv[2])
    setup = json.loads((journals / SETUP).read_text(encoding="utf-8"))
    settings = Settings(
        home=home,
        workers=1,
        ocr_engine="null",
        audit_checkpoint_every=CHECKPOINT_EVERY,
        faults=FaultOptions(job_lease_seconds=LEASE_SECONDS),
    )
    context = build_context(settings)
    until = time.monotonic() + seconds
    roles = [(ingester, n) for n in range(INGESTERS)] + [(editor, n) for n in range(EDITORS)]
    roles += [(reader, n) for n in range(READERS)]
    threads = [
        threading.Thread(
            target=role,
            args=(context, setup, number, Journal(journals / f"{role.__name__}-{number}.log"), until),
            name=f"{role.__name__}-{number}",
        )
        for role, number in roles
    ]
    for thread in threads:
        thread.start()
    (journals / READY).write_text(str(os.getpid()), encoding="utf-8")
    for thread in threads:
        thread.join()
    context.close()
    shutil.rmtree(Path(setup["work"]) / "ingester-0", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
