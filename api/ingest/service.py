"""Ingest use cases: accept an item (validate, spool, number, queue), process its job, file the result.

A job's spooled copy stays until it is filed (a failed job keeps it, to be retried), so a crash at any point
is resumed by running the job again.
Objects are content-addressed, the keys about to be written are recorded first, and the catalogue rows, the
job's end state and the audit event are one transaction: every item is filed exactly once.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.ingest.planning import refusal
from api.ingest.process import check_device_in_use
from api.ingest.processing import JobProcessing
from api.ingest.sweep import remove_stray_files
from api.views.ingest import JobView, Refusal
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.catalogue.claims import NEUTRAL_DUPLICATE, ItemFields, duplicate_of, item_fields, replayed_job
from archive.catalogue.numbering import allocate_reference
from archive.dates import stored_text
from archive.diskfull import disk_full
from archive.errors import Conflict, DanganError, NotFound, UnsupportedFile
from archive.events import AuditAction
from archive.failpoints import failpoint
from archive.hashing import sha256_bytes, sha256_file
from archive.models import Batch, Document, IngestJob, ManifestItem
from archive.permissions import Action, authorize
from archive.scratch import owned_name
from archive.text import display_name
from archive.values import AccessLevel, BatchStatus, JobState
from archive.visibility import batch_visible, job_visible
from archive.workflow import check_batch_changeable
from ingest.engines.sidecar import is_sidecar, sidecar_path
from ingest.grouping import PlannedItem
from ingest.kinds import validate
from storage_config.space import check_room

log = logging.getLogger(__name__)


class IngestService(JobProcessing):
    def __init__(self, context: Context) -> None:
        self.context = context
        self.db = context.db

    # -- accepting ---------------------------------------------------------------------------------
    def submit_item(
        self,
        batch_id: int | Callable[[], int],
        item: PlannedItem,
        *,
        actor: Principal,
        client: str | None = None,
        title: str | None = None,
        level: str | None = None,
        date: str | None = None,
        departments: Sequence[str] | None = None,
        external_id: str | None = None,
    ) -> JobView:
        """Queue one item; a refusal is an audit event of its own (and is raised to the caller).

        `batch_id` may be a callable that makes the batch: it is called only once the item has passed its
        checks, so an item refused at validation or as a duplicate makes no batch."""
        try:
            return self._submit(
                batch_id,
                item,
                actor=actor,
                client=client,
                title=title,
                level=level,
                date=date,
                departments=departments,
                external_id=external_id,
            )
        except DanganError as exc:
            target = batch_id if isinstance(batch_id, int) else None
            self.record_refusals(actor, target, [refusal(display_name(item.name), exc)], client=client)
            raise

    def record_refusals(
        self, actor: Principal, batch_id: int | None, refused: Sequence[Refusal], *, client: str | None = None
    ) -> None:
        """Items refused before they became jobs (bad files, duplicates, scan-less ZIPs): each an audit event."""
        if not refused:
            return
        with self.db.write() as session:
            for row in refused:
                audit.record(
                    session,
                    actor=actor.username,
                    roles=actor.roles,
                    action=AuditAction.INGEST_REFUSED,
                    outcome="refused",
                    target=f"batch:{batch_id}" if batch_id is not None else None,
                    client=client,
                    details={"item": row.item, "error": row.error, "reason": row.message},
                )

    def _submit(
        self,
        batch_id: int | Callable[[], int],
        item: PlannedItem,
        *,
        actor: Principal,
        client: str | None,
        title: str | None,
        level: str | None,
        date: str | None,
        departments: Sequence[str] | None,
        external_id: str | None,
    ) -> JobView:
        """Validate every file of the item and queue it; nothing is written when it is refused.

        Of simultaneous submissions of one file exactly one is queued (the job's claim on its SHA-256 is
        unique); a retry under the same `external_id` gets the first job back, marked `replayed`."""
        authorize(actor.roles, Action.INGEST)
        if external_id is not None and (replay := self._replayed(external_id, actor.username)) is not None:
            return replay
        fields = item_fields(actor, level=level, date=date, departments=departments)
        name = display_name(item.name)
        checked = [validate(path, display_name=_display_name(item, path)) for path in item.sources]
        media_types = {c.media_type for c in checked}
        if len(checked) > 1 and (len(media_types) > 1 or "application/pdf" in media_types):
            raise UnsupportedFile(f"{name}: a multi-file item must be page images of one type")
        hashes = [sha256_file(path)[0] for path in item.sources]
        item_sha = hashes[0] if len(hashes) == 1 else sha256_bytes("".join(hashes).encode())
        self._refuse_duplicate(item_sha, name, actor)
        if not isinstance(batch_id, int):
            batch_id = batch_id()  # the item is acceptable: now its batch may be made
        spool = self._spool(item)
        queued = _Queued(name, item.manifest_row, item_sha, hashes, checked[0].media_type, fields, title, external_id)
        try:
            view = self._queue(batch_id, queued, spool, actor=actor, client=client)
        except IntegrityError:
            shutil.rmtree(spool, ignore_errors=True)
            if external_id is not None and (replay := self._replayed(external_id, actor.username)) is not None:
                return replay  # a simultaneous retry of the same submission won the race
            self._refuse_duplicate(item_sha, name, actor)
            raise Conflict(NEUTRAL_DUPLICATE, Conflict.DUPLICATE_FILE) from None
        except BaseException:  # a stop (SIGTERM) may come after the job committed: then the spool is its input
            if not self._spool_in_use(spool):
                shutil.rmtree(spool, ignore_errors=True)
            raise
        failpoint("ingest.job_queued")  # acknowledged: the job row and its audit event are committed
        return view

    def _spool_in_use(self, spool: Path) -> bool:
        try:
            with self.db.read() as session:
                return (
                    session.scalars(select(IngestJob.id).where(IngestJob.spool_path == str(spool))).first() is not None
                )
        except Exception:  # the catalogue cannot say: keep the files (a stray spool folder loses nothing)
            return True

    def _queue(self, batch_id: int, queued: _Queued, spool: Path, *, actor: Principal, client: str | None) -> JobView:
        with self.db.write() as session:
            batch = self._open_batch(session, batch_id, actor)
            manifest = self._manifest_row(session, batch, queued.manifest_row)
            reference, number = allocate_reference(session, batch, manifest)
            fields = queued.fields
            job = IngestJob(
                batch_id=batch.id,
                state=JobState.QUEUED,
                source_name=queued.name,
                spool_path=str(spool),
                submitted_by=actor.username,
                claim_sha256=queued.sha256,
                external_id=queued.external_id,
                reference_code=reference,
                item_number=number,
                manifest_item_id=manifest.id if manifest else None,
                access_level=int(AccessLevel.parse(fields.level or _manifest_level(manifest) or batch.level)),
                departments=list(fields.departments),
                options={
                    "languages": batch.languages,
                    "engine": batch.ocr_engine,
                    "fonds": batch.fonds.code,
                    "profile": batch.profile,
                    "profile_overrides": dict(batch.profile_overrides),
                    "title": display_name(queued.title)
                    if queued.title
                    else (manifest.title if manifest and manifest.title else _title(queued.name)),
                    "date": fields.date or (stored_text(manifest.date, manifest.date_precision) if manifest else None),
                    "media_type": queued.media_type,
                    "sha256": queued.sha256,
                    "source_sha256": queued.hashes,
                    "spooled": [p.name for p in sorted(spool.iterdir()) if not is_sidecar(p)],
                },
            )
            session.add(job)
            session.flush()  # the claim: a second job for the same SHA-256 fails here, atomically
            audit.record(
                session,
                actor=actor.username,
                roles=actor.roles,
                action=AuditAction.INGEST_SUBMIT,
                target=f"job:{job.id}",
                client=client,
                details={
                    "item": queued.name,
                    "files": len(queued.hashes),
                    "sha256": queued.sha256,
                    "batch": batch.id,
                    "reference_code": reference,
                }
                | ({"external_id": queued.external_id} if queued.external_id else {}),
            )
            return JobView.of(job)

    def _replayed(self, external_id: str, actor: str) -> JobView | None:
        with self.db.read() as session:
            job = replayed_job(session, external_id, actor)
            return None if job is None else JobView.of(job, replayed=True)

    def _refuse_duplicate(self, sha256: str, name: str, principal: Principal) -> None:
        with self.db.read() as session:
            conflict = duplicate_of(session, sha256, name, principal)
        if conflict is not None:
            raise conflict

    def upload_batch(self, actor: Principal, *, fonds: str | None = None) -> int:
        """The open batch a user's loose uploads go to (one per user and fonds, made on first use)."""
        authorize(actor.roles, Action.INGEST)
        fonds = fonds or self.context.settings.default_fonds
        label = f"web uploads of {actor.username}"
        with self.db.read() as session:
            found = session.scalars(
                select(Batch.id)
                .join(Batch.fonds)
                .where(
                    Batch.label == label,
                    Batch.status == BatchStatus.OPEN,
                    Batch.created_by == actor.username,
                    Batch.fonds.has(code=fonds),
                )
            ).first()
        if found is not None:
            return found
        from api.ingest.batches import BatchService

        level = min(AccessLevel.parse(self.context.settings.default_level), actor.clearance)  # within their clearance
        return BatchService(self.context).create(actor=actor, fonds=fonds, label=label, level=level.label).id

    def ensure_open(self, actor: Principal, batch_id: int) -> None:
        """Refuse files for a batch that is sampled, accepted or filed, before any upload is received."""
        authorize(actor.roles, Action.INGEST)
        with self.db.read() as session:
            self._open_batch(session, batch_id, actor)

    def _open_batch(self, session: Session, batch_id: int, actor: Principal) -> Batch:
        batch = session.get(Batch, batch_id)
        if batch is None or not batch_visible(actor, batch):
            raise NotFound(f"batch {batch_id} does not exist; create one with `dangan batch create`")
        check_batch_changeable(batch_id, batch.status)
        check_device_in_use(session, batch)  # a device retired since the batch named it takes no more scans
        return batch

    @staticmethod
    def _manifest_row(session: Session, batch: Batch, row_number: int | None) -> ManifestItem | None:
        if row_number is None:
            return None
        return session.scalars(
            select(ManifestItem).where(ManifestItem.batch_id == batch.id, ManifestItem.row_number == row_number)
        ).first()

    def _spool(self, item: PlannedItem) -> Path:
        """The item's files in a private folder: the job's durable input until it ends. Files the caller
        handed over stay where they are (copied); files in the spool's scratch areas are moved.

        Refused first when the item would take a data disk below the free-space reserve; a disk that fills
        up while copying removes the `.part` folder and says how much more the item needs."""
        spool_dir = self.context.settings.spool_dir
        scratch = [spool_dir / area for area in ("incoming", "unpacked")]
        moved = [any(path.is_relative_to(area) for area in scratch) for path in item.sources]
        sizes = [path.stat().st_size for path in item.sources]
        copied = sum(size for size, was_moved in zip(sizes, moved, strict=True) if not was_moved)
        check_room(self.context.settings, copied, sum(sizes))
        folder = spool_dir / owned_name("item")  # its owner's pid: see remove_stray_files
        partial = folder.with_name(folder.name + ".part")
        try:
            partial.mkdir(parents=True)
            for index, (path, was_moved) in enumerate(zip(item.sources, moved, strict=True), start=1):
                target = partial / f"{index:05d}{path.suffix.lower()}"
                if was_moved:
                    path.replace(target)  # a received upload or an unpacked ZIP member: moved, not copied again
                else:
                    failpoint("spool.copy")
                    shutil.copyfile(path, target)
                    if (sidecar := sidecar_path(path)).is_file():  # the null OCR engine's text comes along
                        shutil.copyfile(sidecar, sidecar_path(target))
                failpoint("ingest.spool_copied")  # one file of the item in the spool's .part folder
            partial.replace(folder)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            full = disk_full(
                exc,
                place="spool",
                path=spool_dir,
                needed=copied,
                what="this item",
                advice="free space there or move DANGAN_HOME",
            )
            if full is not None:
                raise full from exc
            raise
        return folder

    def remove_stray_files(self) -> list[str]:
        """What killed processes left in the spool and work areas (api/ingest/sweep.py); the names removed."""
        return remove_stray_files(self.context)

    def job(self, actor: Principal, job_id: int) -> JobView:
        """A job of an item the caller may see; any other answers exactly like a missing one."""
        authorize(actor.roles, Action.READ_WORK)
        with self.db.read() as session:
            job = session.get(IngestJob, job_id)
            if job is None or not job_visible(session, actor, job):
                raise NotFound(f"job {job_id} does not exist")
            document = session.get(Document, job.document_id) if job.document_id else None
            return JobView.of(job, searchable=document is not None and document.indexed_at is not None)


@dataclass(frozen=True)
class _Queued:
    """One checked item on its way into a job."""

    name: str
    manifest_row: int | None
    sha256: str
    hashes: list[str]
    media_type: str
    fields: ItemFields
    title: str | None
    external_id: str | None


def _display_name(item: PlannedItem, path: Path) -> str:
    """The name a person recognises: the file's own, or folder/file for a page of a folder item."""
    if len(item.sources) == 1 and Path(item.name).suffix.lower() == path.suffix.lower():
        return display_name(item.name)
    return display_name(f"{item.name}/{path.name}")


def _title(name: str) -> str:
    name = display_name(name)
    stem = Path(name.split("..", maxsplit=1)[0]).stem if "." in name else name
    return re.sub(r"[-_]+", " ", stem).strip() or name


def _manifest_level(manifest: ManifestItem | None) -> str | None:
    """The 密级 a manifest row gives its item (checked when the batch was created), if any."""
    level = (manifest.descriptive or {}).get("level") if manifest is not None else None
    return str(level) if level else None
