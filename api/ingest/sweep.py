"""What killed processes leave behind in the spool and work areas, swept at every runner start once their owner
is gone: an item's folder no unfinished or failed job needs (half-copied, never queued, or filed just before the crash),
the work folder of a job no live lease holds, backup and drill scratch, ZIPs half unpacked, uploads half
received, rescan work folders. The folders of live
processes (their pid in the name, archive/scratch.py) and of live leases are left alone."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from sqlalchemy import select

from api.wiring import Context
from archive.models import IngestJob, utcnow
from archive.scratch import OWNED, owner_alive, sweep
from archive.values import JobState

log = logging.getLogger(__name__)


def remove_stray_files(context: Context) -> list[str]:
    """Sweep what dead processes left (see the module's docstring); returns the names removed."""
    settings = context.settings
    with context.db.read() as session:
        # A failed job keeps its spooled copy too, for `dangan jobs retry`.
        unfinished = IngestJob.state.in_([JobState.QUEUED, JobState.PROCESSING, JobState.RETRYING, JobState.FAILED])
        columns = (
            IngestJob.id,
            IngestJob.spool_path,
            IngestJob.state,
            IngestJob.lease_owner,
            IngestJob.lease_expires_at,
        )
        rows = list(session.execute(select(*columns).where(unfinished)))
    needed = {Path(spool).name for _, spool, *_ in rows if spool}
    now = utcnow()
    in_hand = {  # the work folders of live leases (job-N-<the runner's random part>)
        f"job-{job_id}-{owner.rsplit(':', 1)[-1]}"
        for job_id, _, state, owner, expires in rows
        if state == JobState.PROCESSING and owner and expires is not None and expires > now
    }
    removed = _remove_finished_workdirs(settings.home_dir / "work", in_hand)
    for entry in sorted(settings.spool_dir.iterdir()) if settings.spool_dir.is_dir() else []:
        found = OWNED.match(entry.name)
        if found is None or found["kind"] != "item" or entry.name in needed or owner_alive(entry.name):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    removed += sweep(settings.spool_dir, ("backup", "drill"))
    removed += sweep(settings.spool_dir / "unpacked", ("unpack",)) + sweep(settings.spool_dir / "incoming", ("upload",))
    removed += sweep(settings.home_dir / "work", ("rescan",))
    removed += sweep(settings.spool_dir / "seal", ("seal", "clear"))  # encryption at rest's sealed files
    if removed:
        log.warning("removed %d folder(s) interrupted work left behind", len(removed))
    return removed


def _remove_finished_workdirs(work: Path, in_hand: set[str]) -> list[str]:
    """A job's work folder (`job-N-<runner>`) outlives its run only when its process died (before its cleanup);
    the folders of jobs held by a live lease are their runners'."""
    removed = []
    for entry in sorted(work.glob("job-*")) if work.is_dir() else []:
        if re.fullmatch(r"job-\d+(?:-[0-9a-f]+)?", entry.name) and entry.name not in in_hand:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
