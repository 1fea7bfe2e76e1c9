"""The rules of ingest jobs that every runner follows: which jobs may start now, and how long a job that met a
passing fault waits before its next try. Runners (local, server, a later Celery worker) only ask these.

A job:  queued ─claim→ processing ─→ done | needs_review | failed
                          └ a passing fault (DanganError.transient) → retrying ─(not_before passed)→ claim again
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import ColumnElement, and_, or_

from archive.models import IngestJob
from archive.values import JobState

_RANDOM = random.Random()


def runnable(now: dt.datetime) -> ColumnElement[bool]:
    """Jobs any runner may claim at `now`: queued ones, and retrying ones whose wait is over."""
    due = or_(IngestJob.not_before.is_(None), IngestJob.not_before <= now)
    return or_(IngestJob.state == JobState.QUEUED, and_(IngestJob.state == JobState.RETRYING, due))


def retry_wait(attempts: int, *, first: float, maximum: float, rng: random.Random | None = None) -> float:
    """Seconds before the next try: doubling from `first` with each attempt, capped at `maximum`, jittered
    between half and all of it, so that jobs that failed together do not all come back at the same moment."""
    ceiling = min(maximum, first * 2.0 ** max(0, attempts - 1))
    spread: float = (rng or _RANDOM).random()
    return ceiling * (0.5 + 0.5 * spread)


def stuck(now: dt.datetime) -> ColumnElement[bool]:
    """Jobs `processing` without a live owner: no lease, or a lease that expired (the worker died or hung).
    Any runner may take them over; `dangan jobs` shows them as `stuck`."""
    expired = or_(IngestJob.lease_expires_at.is_(None), IngestJob.lease_expires_at < now)
    return and_(IngestJob.state == JobState.PROCESSING, expired)
