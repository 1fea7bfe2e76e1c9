"""Login throttling that cannot be turned into a lock-out.

Failures are counted from the audit log per (account, client address), not per account: after
`free_failures` failures of one account from one address, that address waits 1 s, then 2 s, 4 s, ... up to
15 minutes before it may try that account again, while the account's owner elsewhere logs in as usual. A
success from that address starts its count afresh. Password spraying (one address, many usernames) meets a
second, wider count per address across every username, which a success does not reset."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from archive.errors import TooManyAttempts
from archive.events import AuditAction
from archive.models import AuditEvent

MAX_DOUBLINGS = 40  # far past any cap; keeps 2**n a small number


@dataclass(frozen=True)
class LoginThrottle:
    """The numbers of the policy; the defaults are the archive's."""

    free_failures: int = 5  # per account and client address
    client_free_failures: int = 20  # per client address, across usernames
    first_wait: dt.timedelta = dt.timedelta(seconds=1)
    max_wait: dt.timedelta = dt.timedelta(minutes=15)
    account_window: dt.timedelta = dt.timedelta(hours=24)  # failures older than this are forgotten
    client_window: dt.timedelta = dt.timedelta(hours=1)

    def backoff(self, failures: int, free: int) -> dt.timedelta:
        """How long to wait after the last of `failures` failures when `free` of them cost nothing."""
        if failures < free:
            return dt.timedelta(0)
        return min(self.first_wait * (1 << min(failures - free, MAX_DOUBLINGS)), self.max_wait)

    def check(self, session: Session, username: str, client: str | None, now: dt.datetime) -> None:
        """Raise TooManyAttempts (with when to try again) if this address must wait before trying `username`."""
        target = f"user:{username}"
        from_client = AuditEvent.client.is_not_distinct_from(client)
        last_success = session.scalar(
            select(func.max(AuditEvent.at)).where(*_logins("success"), AuditEvent.target == target, from_client)
        )
        since = now - self.account_window
        if last_success is not None and last_success > since:
            since = last_success
        account_count, account_last = _failures(session, since, AuditEvent.target == target, from_client)
        client_count, client_last = _failures(session, now - self.client_window, from_client)
        waits = [(now, "")]
        if account_last is not None:
            wait = self.backoff(account_count, self.free_failures)
            waits.append((account_last + wait, f"for {username!r} from this address"))
        if client_last is not None:
            waits.append((client_last + self.backoff(client_count, self.client_free_failures), "from this address"))
        until, scope = max(waits)
        if until > now:
            seconds = math.ceil((until - now).total_seconds())
            raise TooManyAttempts(
                f"too many failed logins {scope}; try again in {seconds} s (after {until:%Y-%m-%d %H:%M:%S} UTC)",
                retry_after=seconds,
            )


def _logins(outcome: str) -> tuple[ColumnElement[bool], ...]:
    return AuditEvent.action == AuditAction.LOGIN.value, AuditEvent.outcome == outcome


def _failures(session: Session, since: dt.datetime, *conditions: ColumnElement[bool]) -> tuple[int, dt.datetime | None]:
    row = session.execute(
        select(func.count(), func.max(AuditEvent.at)).where(*_logins("failure"), AuditEvent.at > since, *conditions)
    ).one()
    return int(row[0]), row[1]
