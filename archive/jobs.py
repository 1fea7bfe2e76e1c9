"""The rules of ingest jobs that every runner follows: which jobs may start now, how a runner holds one (a lease
it renews), when a job whose workers keep dying gives up, and how long a job that met a passing fault waits.
Runners (CLI, server, a later Celery worker) only ask these; the transitions are archive/workflow.py's
JOB_TRANSITIONS. Pure expressions and arithmetic: no I/O.

A job:  queued ─claim→ processing ─→ done | needs_review | failed
                          ├ a passing fault (DanganError.transient) → retrying ─(not_before passed)→ claim again
                          ├ its runner stops (SIGTERM) → queued (handed back, lease cleared)
                          └ its lease expires (the runner died: kill -9, OOM) → claimed again by any runner;
                            the `limit`-th expiry (DANGAN_FAULTS__POISON_DEATHS, 3) ends it failed instead
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_

from archive.errors import DanganError
from archive.models import IngestJob
from archive.redact import hide_paths
from archive.values import JobState

_RANDOM = random.Random()


def lease_expired(now: dt.datetime) -> ColumnElement[bool]:
    """Jobs `processing` without a live owner: the lease ran out, or there never was one (rows from before
    leases existed, migration 0004)."""
    return and_(
        IngestJob.state == JobState.PROCESSING,
        or_(IngestJob.lease_expires_at.is_(None), IngestJob.lease_expires_at <= now),
    )


def runnable(now: dt.datetime) -> ColumnElement[bool]:
    """Jobs any runner may claim at `now`: queued ones, retrying ones whose wait is over, and processing ones
    whose lease expired."""
    due = or_(IngestJob.not_before.is_(None), IngestJob.not_before <= now)
    return or_(IngestJob.state == JobState.QUEUED, and_(IngestJob.state == JobState.RETRYING, due), lease_expired(now))


def held_by(owner: str) -> ColumnElement[bool]:
    """The fence of every write that ends or changes a running job: it applies only while `owner` holds it."""
    return and_(IngestJob.state == JobState.PROCESSING, IngestJob.lease_owner == owner)


def claim_values(owner: str, now: dt.datetime, lease_seconds: float) -> dict[str, Any]:
    """The one UPDATE's values that make `owner` hold a runnable job (with `runnable(now)` as its WHERE).
    Taking over an expired lease counts as one more death of a worker on this job."""
    return {
        "lost_leases": IngestJob.lost_leases + case((IngestJob.state == JobState.PROCESSING, 1), else_=0),
        "state": JobState.PROCESSING,
        "lease_owner": owner,
        "lease_expires_at": lease_until(now, lease_seconds),
        "attempts": IngestJob.attempts + 1,
        "started_at": now,
        "not_before": None,
    }


def lease_until(now: dt.datetime, lease_seconds: float) -> dt.datetime:
    return now + dt.timedelta(seconds=lease_seconds)


def renew_every(lease_seconds: float) -> float:
    """A holder renews its leases every third of a lease: two renewals may be missed before it loses one."""
    return lease_seconds / 3.0


def handed_back() -> dict[str, Any]:
    """A stopping runner gives its jobs back: queued again at once, no owner, not counted as a death."""
    return {"state": JobState.QUEUED, "lease_owner": None, "lease_expires_at": None}


def poisoned(lost_leases: int, limit: int) -> bool:
    """A job whose lease ran out `limit` times (its runner died each time) fails instead of being run again."""
    return lost_leases >= limit


def poison_reason(job_id: int, lost_leases: int) -> str:
    return (
        f"its worker died {lost_leases} times while processing it (killed, or out of memory); "
        f"retry with `dangan jobs retry {job_id}` once fixed"
    )


def retry_wait(attempts: int, *, first: float, maximum: float, rng: random.Random | None = None) -> float:
    """Seconds before the next try: doubling from `first` with each attempt, capped at `maximum`, jittered
    between half and all of it, so that jobs that failed together do not all come back at the same moment."""
    ceiling = min(maximum, first * 2.0 ** min(max(0, attempts - 1), 32))  # (the exponent capped: no float overflow)
    spread: float = (rng or _RANDOM).random()
    return ceiling * (0.5 + 0.5 * spread)


def stuck(now: dt.datetime) -> ColumnElement[bool]:
    """Jobs `processing` without a live owner: no lease, or a lease that expired (the worker died or hung).
    Any runner may take them over; `dangan jobs` shows them as `stuck`."""
    expired = or_(IngestJob.lease_expires_at.is_(None), IngestJob.lease_expires_at < now)
    return and_(IngestJob.state == JobState.PROCESSING, expired)


def failure_of(error: DanganError, hidden: Iterable[Path | str]) -> dict[str, Any]:
    """What a job keeps of the refusal that ended it (`options["failure"]`), shaped as an error answer's body:
    its code, reason and params (text params with the private paths under `hidden` removed), and its message."""
    roots = list(hidden)
    params = {
        name: hide_paths(value, roots) if isinstance(value, str) else value for name, value in error.params.items()
    }
    reason = error.reason.name if error.reason is not None else None
    return {"error": error.code, "message": hide_paths(error.message, roots), "reason": reason, "params": params}
