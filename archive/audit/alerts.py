"""Alerts computed from the audit log: bursts of denied access, bulk downloads, off-hours restricted access,
and every download refused because the stored bytes no longer match their checksum.

Every alert lists the ids of the events behind it, so a compliance officer can pull them up and export
them. Document levels come from the caller (``level_of``): this module reads only the audit table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import InvalidInput
from archive.events import AuditAction
from archive.models import AuditEvent
from archive.values import AccessLevel

AlertKind = Literal["denied_burst", "bulk_download", "off_hours_access", "integrity_failure"]
LevelLookup = Callable[[list[int]], dict[int, int | None]]

DENIED_OUTCOMES = frozenset({"denied", "denied_or_missing", "failure"})
READ_ACTIONS = frozenset(
    {
        AuditAction.DOCUMENT_VIEW,
        AuditAction.DOCUMENT_DOWNLOAD,
        AuditAction.DOCUMENT_PAGE_IMAGE,
        AuditAction.DOCUMENT_THUMBNAIL,
    }
)
DENIAL_ACTIONS = READ_ACTIONS | {AuditAction.ACCESS_DENIED, AuditAction.LOGIN}
INTEGRITY_ACTION = AuditAction.DOCUMENT_INTEGRITY.value
_DOCUMENT_PREFIX = "document:"


@dataclass(frozen=True)
class AlertRules:
    """Thresholds. A burst is ``count`` or more matching events by one actor within ``window`` minutes.

    Office hours are ``[start, end)`` local hours on ``office_days`` (Monday = 0) in ``timezone``;
    off-hours successful reads of documents at ``off_hours_min_level`` or above raise an alert.
    """

    denied_burst_count: int = 5
    denied_burst_window_minutes: int = 10
    bulk_download_count: int = 50
    bulk_download_window_minutes: int = 60
    office_hours: tuple[int, int] = (8, 18)
    office_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    timezone: str = "Asia/Shanghai"
    off_hours_min_level: int = int(AccessLevel.CONFIDENTIAL)

    def __post_init__(self) -> None:
        for name in ("denied_burst_count", "denied_burst_window_minutes", "bulk_download_count"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be at least 1")
        if self.bulk_download_window_minutes < 1:
            raise InvalidInput("bulk_download_window_minutes must be at least 1")
        start, end = self.office_hours
        if not 0 <= start < end <= 24:
            raise InvalidInput(
                f"office_hours must be (start, end) with 0 <= start < end <= 24, got {self.office_hours}"
            )
        if any(day not in range(7) for day in self.office_days):
            raise InvalidInput(f"office_days are weekday numbers 0 (Monday) to 6 (Sunday), got {self.office_days}")
        if self.off_hours_min_level not in {int(level) for level in AccessLevel}:
            raise InvalidInput(f"off_hours_min_level must be 0..4, got {self.off_hours_min_level}")
        self.zone()  # fail now on an unknown timezone name

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(f"unknown timezone {self.timezone!r}; use an IANA name like Asia/Shanghai") from exc

    def in_office(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.zone())
        start, end = self.office_hours
        return local.weekday() in self.office_days and start <= local.hour < end


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    actor: str
    first_at: dt.datetime
    last_at: dt.datetime
    count: int
    event_ids: tuple[int, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "actor": self.actor,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "count": self.count,
            "event_ids": list(self.event_ids),
            "message": self.message,
        }


class _Event(NamedTuple):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    outcome: str


def compute_alerts(
    session: Session,
    rules: AlertRules,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    level_of: LevelLookup,
) -> list[Alert]:
    """All alerts over events in ``[since, until)``, ordered by first event time, then kind and actor."""
    events = _load_events(session, since=since, until=until)
    alerts = [
        *_denied_bursts(events, rules),
        *_bulk_downloads(events, rules),
        *_off_hours_access(events, rules, level_of),
        *_integrity_failures(events),
    ]
    return sorted(alerts, key=lambda alert: (alert.first_at, alert.kind, alert.actor, alert.event_ids))


def _load_events(session: Session, *, since: dt.datetime | None, until: dt.datetime | None) -> list[_Event]:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a timezone (for example 2024-05-01T00:00:00+08:00)")
    statement = select(
        AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.target, AuditEvent.outcome
    ).where(AuditEvent.action.in_(DENIAL_ACTIONS | READ_ACTIONS | {INTEGRITY_ACTION}))
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.at < until)
    statement = statement.order_by(AuditEvent.at, AuditEvent.id)
    return [_Event(*row) for row in session.execute(statement)]


def _denied_bursts(events: Sequence[_Event], rules: AlertRules) -> list[Alert]:
    denials = [e for e in events if e.action in DENIAL_ACTIONS and e.outcome in DENIED_OUTCOMES]
    window = dt.timedelta(minutes=rules.denied_burst_window_minutes)
    alerts = []
    for actor, burst in _bursts(denials, count=rules.denied_burst_count, window=window):
        minutes = rules.denied_burst_window_minutes
        message = (
            f"{len(burst)} denied access attempts by {actor!r} between {burst[0].at.isoformat()} and "
            f"{burst[-1].at.isoformat()} (rule: {rules.denied_burst_count} or more within {minutes} min)"
        )
        alerts.append(_alert("denied_burst", actor, burst, message))
    return alerts


def _bulk_downloads(events: Sequence[_Event], rules: AlertRules) -> list[Alert]:
    downloads = [e for e in events if e.action == AuditAction.DOCUMENT_DOWNLOAD and e.outcome == "success"]
    window = dt.timedelta(minutes=rules.bulk_download_window_minutes)
    alerts = []
    for actor, burst in _bursts(downloads, count=rules.bulk_download_count, window=window):
        documents = len({e.target for e in burst})
        minutes = rules.bulk_download_window_minutes
        message = (
            f"{len(burst)} downloads ({documents} distinct documents) by {actor!r} between "
            f"{burst[0].at.isoformat()} and {burst[-1].at.isoformat()} "
            f"(rule: {rules.bulk_download_count} or more within {minutes} min)"
        )
        alerts.append(_alert("bulk_download", actor, burst, message))
    return alerts


def _integrity_failures(events: Sequence[_Event]) -> list[Alert]:
    """One alert for every refused download of damaged bytes: no threshold, each one needs a repair."""
    return [
        _alert(
            "integrity_failure",
            e.actor,
            [e],
            f"the stored copy of {e.target or 'a document'} failed its checksum when {e.actor!r} downloaded it at "
            f"{e.at.isoformat()}; run `dangan verify` and repair it from a backup",
        )
        for e in events
        if e.action == INTEGRITY_ACTION and e.outcome == "failure"
    ]


def _bursts(events: Sequence[_Event], *, count: int, window: dt.timedelta) -> list[tuple[str, list[_Event]]]:
    """Per actor, the maximal runs of events covered by windows holding ``count`` or more events.

    A sliding window ends at each event and reaches back ``window``; windows that share an event merge
    into one burst, so a long burst gives one alert, not one per window.
    """
    bursts: list[tuple[str, list[_Event]]] = []
    for actor, own in _by_actor(events).items():
        merged: list[list[int]] = []  # [first index, last index] of each burst
        left = 0
        for right, event in enumerate(own):
            while event.at - own[left].at > window:
                left += 1
            if right - left + 1 < count:
                continue
            if merged and left <= merged[-1][1]:
                merged[-1][1] = right
            else:
                merged.append([left, right])
        bursts.extend((actor, own[first : last + 1]) for first, last in merged)
    return bursts


def _off_hours_access(events: Sequence[_Event], rules: AlertRules, level_of: LevelLookup) -> list[Alert]:
    """Successful reads of restricted documents outside office hours, one alert per actor per off-hours stretch.

    A document whose level is unset (or unknown to ``level_of``) counts as restricted: default is deny.
    """
    candidates = [
        (e, doc_id)
        for e in events
        if e.action in READ_ACTIONS
        and e.outcome == "success"
        and (doc_id := _document_id(e.target)) is not None
        and not rules.in_office(e.at)
    ]
    if not candidates:
        return []
    levels = level_of(sorted({doc_id for _, doc_id in candidates}))
    flagged = [e for e, doc_id in candidates if _restricted(levels.get(doc_id), rules.off_hours_min_level)]
    alerts = []
    for actor, own in _by_actor(flagged).items():
        for stretch in _split_at_office_hours(own, rules):
            documents = sorted({e.target or "" for e in stretch})
            shown = ", ".join(documents[:10]) + (f" and {len(documents) - 10} more" if len(documents) > 10 else "")
            local = stretch[0].at.astimezone(rules.zone())
            message = (
                f"{len(stretch)} off-hours reads of restricted documents by {actor!r} from "
                f"{local.strftime('%a %Y-%m-%d %H:%M')} {rules.timezone}: {shown}"
            )
            alerts.append(_alert("off_hours_access", actor, stretch, message))
    return alerts


def _restricted(level: int | None, minimum: int) -> bool:
    return level is None or level >= minimum


def _split_at_office_hours(events: Sequence[_Event], rules: AlertRules) -> list[list[_Event]]:
    """Group time-ordered off-hours events so that no office period starts inside a group."""
    groups: list[list[_Event]] = []
    for event in events:
        if groups and not _office_starts_between(groups[-1][-1].at, event.at, rules):
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


def _office_starts_between(earlier: dt.datetime, later: dt.datetime, rules: AlertRules) -> bool:
    if not rules.office_days:
        return False
    if later - earlier > dt.timedelta(days=8):
        return True
    zone = rules.zone()
    day = earlier.astimezone(zone).date()
    while day <= later.astimezone(zone).date():
        if day.weekday() in rules.office_days:
            start = dt.datetime.combine(day, dt.time(rules.office_hours[0]), tzinfo=zone)
            if earlier < start <= later:
                return True
        day += dt.timedelta(days=1)
    return False


def _by_actor(events: Sequence[_Event]) -> dict[str, list[_Event]]:
    grouped: dict[str, list[_Event]] = defaultdict(list)
    for event in events:
        grouped[event.actor].append(event)
    return dict(grouped)


def _document_id(target: str | None) -> int | None:
    if target is None or not target.startswith(_DOCUMENT_PREFIX):
        return None
    number = target.removeprefix(_DOCUMENT_PREFIX)
    return int(number) if number.isdigit() else None


def _alert(kind: AlertKind, actor: str, events: Sequence[_Event], message: str) -> Alert:
    return Alert(
        kind=kind,
        actor=actor,
        first_at=events[0].at,
        last_at=events[-1].at,
        count=len(events),
        event_ids=tuple(e.id for e in events),
        message=message,
    )
