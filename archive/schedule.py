"""The scheduled duties and when each is due: one table of rules, no clock of its own (the caller gives `now`)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Duty(enum.StrEnum):
    BACKUP = "backup"  # a backup run to every target
    VERIFY_SAMPLE = "verify_sample"  # a sample verification of the primary store
    DRILL = "drill"  # a restore drill from every target that has a backup
    CHECKPOINT = "checkpoint"  # a signed checkpoint of the access log
    COMPLIANCE = "compliance"  # the quarterly compliance report
    RETENTION_DUE = "retention_due"  # the retention due list: records past (or near) their retention period


@dataclass(frozen=True)
class Plan:
    """One duty's interval (None: switched off) and its last run's start, if any."""

    duty: Duty
    every: dt.timedelta | None
    last_started: dt.datetime | None = None

    def next_due(self) -> dt.datetime | None:
        """When it is due next (None: never, it is off); a duty that never ran is due at once."""
        if self.every is None:
            return None
        if self.last_started is None:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        return self.last_started + self.every

    def due(self, now: dt.datetime) -> bool:
        next_due = self.next_due()
        return next_due is not None and next_due <= now


def interval(value: float, unit: str) -> dt.timedelta | None:
    """A setting's interval (0: off) as a timedelta; unit is 'minutes', 'hours' or 'days'."""
    return dt.timedelta(**{unit: value}) if value > 0 else None
