"""Compliance tools over the real audit log: filters, CSV/JSON export, the export's own event, alerts.

Events are written with ``archive.audit.log.record`` on real SQLite and PostgreSQL; to control their times the
helper sets ``at`` on the freshly flushed event and recomputes its hash before the next event chains onto it, so
the hash chain stays valid (ids follow write order, times need not).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.wiring import Context
from archive.audit import log as audit
from archive.audit.alerts import AlertRules, compute_alerts
from archive.audit.query import AuditFilter, export_csv, export_json, query_events, record_export
from archive.errors import InvalidInput
from archive.events import AuditAction
from archive.models import AuditEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEDNESDAY = dt.date(2024, 5, 15)
SATURDAY = dt.date(2024, 5, 18)
T0 = dt.datetime(2024, 5, 15, 2, 0, tzinfo=dt.UTC)  # 10:00 Wednesday in Shanghai


def shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def put(session: Session, at: dt.datetime, *, actor: str, action: str, **fields: Any) -> int:
    """Record one event, then give it the time ``at`` (hash recomputed, so the chain still verifies)."""
    event = audit.record(session, actor=actor, action=AuditAction(action), **fields)
    event.at = at
    event.hash = audit.recompute_hash(event)
    session.flush()
    return event.id


def levels(known: dict[int, int | None]) -> Callable[[list[int]], dict[int, int | None]]:
    def level_of(ids: list[int]) -> dict[int, int | None]:
        return {doc_id: known[doc_id] for doc_id in ids if doc_id in known}

    return level_of


@pytest.fixture
def context(db_context: Context) -> Context:
    """Every test here runs on SQLite and on PostgreSQL (tests/pgserver.py)."""
    return db_context


@pytest.fixture
def seeded(context: Context) -> dict[str, int]:
    with context.db.write() as s:
        ids = {
            "search": put(
                s, T0, actor="alice", action="search", client="10.0.0.1", details={"query": "档案 土地", "hits": 3}
            ),
            "view1": put(
                s,
                T0 + dt.timedelta(minutes=1),
                actor="alice",
                action="document.view",
                target="document:1",
                client="10.0.0.1",
                details={"role": "staff"},
            ),
            "view12": put(
                s,
                T0 + dt.timedelta(minutes=2),
                actor="bob",
                action="document.view",
                target="document:12",
                outcome="denied_or_missing",
                client="10.0.0.2",
            ),
            "download1": put(
                s,
                T0 + dt.timedelta(hours=1),
                actor="bob",
                action="document.download",
                target="document:1",
                client="10.0.0.2",
            ),
            "batch": put(s, T0 + dt.timedelta(hours=2), actor="carol", action="batch.create", target="batch:7"),
            "batch2": put(s, T0 + dt.timedelta(hours=3), actor="carol", action="batch.file", target="batch:7"),
            "like": put(s, T0 + dt.timedelta(hours=4), actor="carol", action="page.accept"),
            "unlike": put(s, T0 + dt.timedelta(hours=5), actor="carol", action="page.reject"),
        }
    return ids


def ids_for(context: Context, flt: AuditFilter) -> list[int]:
    with context.db.session() as session:
        return [row["id"] for row in query_events(session, flt)]


def test_each_filter_narrows_the_log(context: Context, seeded: dict[str, int]) -> None:
    assert ids_for(context, AuditFilter(actor="alice")) == [seeded["search"], seeded["view1"]]
    assert ids_for(context, AuditFilter(document_id=1)) == [seeded["view1"], seeded["download1"]]
    assert ids_for(context, AuditFilter(document_id=12)) == [seeded["view12"]]
    assert ids_for(context, AuditFilter(action="document.view")) == [seeded["view1"], seeded["view12"]]
    assert ids_for(context, AuditFilter(action="batch.*")) == [seeded["batch"], seeded["batch2"]]
    assert ids_for(context, AuditFilter(action="document.*", actor="bob")) == [seeded["view12"], seeded["download1"]]
    assert ids_for(context, AuditFilter(outcome="denied_or_missing")) == [seeded["view12"]]
    assert ids_for(context, AuditFilter(client="10.0.0.2")) == [seeded["view12"], seeded["download1"]]
    window = AuditFilter(since=T0 + dt.timedelta(minutes=1), until=T0 + dt.timedelta(hours=2))
    assert ids_for(context, window) == [seeded["view1"], seeded["view12"], seeded["download1"]]  # until exclusive
    local = AuditFilter(since=shanghai(WEDNESDAY, 12), until=shanghai(WEDNESDAY, 13))  # 04:00-05:00 UTC
    assert ids_for(context, local) == [seeded["batch"]]


def test_prefix_filter_treats_sql_wildcards_literally(context: Context, seeded: dict[str, int]) -> None:
    # Every action comes from one vocabulary (archive.events), none with "_" or "%" in it: a literal prefix
    # matches, and "_" does not stand for "any character" (it would match "page.accept" and "page.reject").
    assert ids_for(context, AuditFilter(action="page.a*")) == [seeded["like"]]
    assert ids_for(context, AuditFilter(action="page_*")) == []
    assert ids_for(context, AuditFilter(action="%*")) == []
    everything = ids_for(context, AuditFilter(action="*"))
    assert everything == ids_for(context, AuditFilter())
    assert len(everything) == len(seeded) + 1  # plus the "fonds.create" event written at initialisation


def test_limit_and_offset_page_through_by_id(context: Context, seeded: dict[str, int]) -> None:
    carol = [seeded["batch"], seeded["batch2"], seeded["like"], seeded["unlike"]]
    assert ids_for(context, AuditFilter(actor="carol", limit=2)) == carol[:2]
    assert ids_for(context, AuditFilter(actor="carol", limit=2, offset=2)) == carol[2:]
    assert ids_for(context, AuditFilter(actor="carol", offset=10)) == []


def test_rows_carry_every_field(context: Context, seeded: dict[str, int]) -> None:
    with context.db.session() as session:
        (row,) = query_events(session, AuditFilter(action="search"))
        stored = session.get(AuditEvent, seeded["search"])
    assert stored is not None
    assert row == {
        "id": seeded["search"],
        "at": "2024-05-15T02:00:00+00:00",
        "actor": "alice",
        "action": "search",
        "target": None,
        "outcome": "success",
        "client": "10.0.0.1",
        "details": {"query": "档案 土地", "hits": 3},
        "hash": stored.hash,
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 0},
        {"limit": 100_001},
        {"offset": -1},
        {"since": dt.datetime(2024, 5, 1)},  # naive
        {"since": T0, "until": T0 - dt.timedelta(seconds=1)},
    ],
)
def test_bad_filters_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        AuditFilter(**kwargs)


def test_csv_export_round_trips_chinese_and_neutralises_formulas(context: Context, seeded: dict[str, int]) -> None:
    with context.db.write() as s:
        hostile = put(
            s,
            T0,
            actor='=HYPERLINK("http://x")',
            action="search",
            target="+1+2",
            client="@SUM(A1)",
            outcome="-2",
            details={"query": "=1+1 档号"},
        )
    with context.db.session() as session:
        rows = query_events(session, AuditFilter())
    buffer = io.StringIO(newline="")
    assert export_csv(rows, buffer) == len(rows)
    data = buffer.getvalue().encode("utf-8")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed[0] == ["id", "at", "actor", "action", "target", "outcome", "client", "details", "hash"]
    by_id = {int(line[0]): line for line in parsed[1:]}
    assert len(by_id) == len(rows)
    search = by_id[seeded["search"]]
    assert json.loads(search[7]) == {"query": "档案 土地", "hits": 3}
    assert search[4] == ""  # no target
    bad = by_id[hostile]
    assert bad[2] == '\'=HYPERLINK("http://x")'
    assert bad[4] == "'+1+2"
    assert bad[5] == "'-2"
    assert bad[6] == "'@SUM(A1)"
    assert json.loads(bad[7]) == {"query": "=1+1 档号"}  # the JSON cell starts with "{": nothing to escape


def test_json_export_parses(context: Context, seeded: dict[str, int]) -> None:
    with context.db.session() as session:
        rows = query_events(session, AuditFilter(actor="alice"))
    buffer = io.StringIO()
    assert export_json(rows, buffer) == 2
    assert "档案 土地" in buffer.getvalue()  # not \u-escaped
    parsed = json.loads(buffer.getvalue())
    assert [item["id"] for item in parsed] == [seeded["search"], seeded["view1"]]
    assert parsed[0]["details"] == {"query": "档案 土地", "hits": 3}


def test_the_export_itself_is_logged(context: Context, seeded: dict[str, int]) -> None:
    flt = AuditFilter(actor="bob", since=shanghai(WEDNESDAY, 0), action="document.*")
    with context.db.session() as session:
        count = len(query_events(session, flt))
    with context.db.write() as session:
        record_export(session, actor="olga", client="10.9.9.9", flt=flt, count=count, fmt="csv")
    with context.db.session() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")))
        chain = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    (event,) = events
    assert (event.actor, event.client, event.outcome) == ("olga", "10.9.9.9", "success")
    assert event.details["count"] == 2
    assert event.details["format"] == "csv"
    assert event.details["filter"] == {
        "actor": "bob",
        "document_id": None,
        "action": "document.*",
        "outcome": None,
        "since": "2024-05-14T16:00:00+00:00",
        "until": None,
        "client": None,
        "limit": 1000,
        "offset": 0,
    }
    assert all(audit.recompute_hash(e) == e.hash for e in chain)
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(chain))
    with context.db.write() as session, pytest.raises(InvalidInput):
        record_export(session, actor="olga", client=None, flt=flt, count=0, fmt="xlsx")


# --- alerts --------------------------------------------------------------------------------------------------

NO_LEVELS = levels({})


def alerts_for(context: Context, *, level_of: Callable[[list[int]], dict[int, int | None]] = NO_LEVELS) -> list[Any]:
    with context.db.session() as session:
        return compute_alerts(session, AlertRules(), since=None, until=None, level_of=level_of)


def test_six_denials_in_five_minutes_make_one_burst(context: Context) -> None:
    with context.db.write() as s:
        put(
            s,
            T0 - dt.timedelta(hours=1),
            actor="eve",
            action="document.view",
            target="document:1",
            outcome="denied_or_missing",
        )
        burst = [
            put(s, T0 + dt.timedelta(minutes=n), actor="eve", action=action, target="document:2", outcome=outcome)
            for n, (action, outcome) in enumerate(
                [
                    ("document.view", "denied_or_missing"),
                    ("document.download", "denied_or_missing"),
                    ("access.denied", "denied"),
                    ("login", "failure"),
                    ("document.view", "denied_or_missing"),
                    ("document.view", "denied_or_missing"),
                ]
            )
        ]
        put(s, T0 + dt.timedelta(minutes=2), actor="eve", action="document.view", target="document:3")  # success
        put(s, T0 + dt.timedelta(minutes=3), actor="eve", action="search", outcome="failure")  # not an access action
        put(s, T0 + dt.timedelta(minutes=3), actor="mallory", action="login", outcome="failure")  # someone else
    (alert,) = alerts_for(context)
    assert alert.kind == "denied_burst"
    assert alert.actor == "eve"
    assert alert.event_ids == tuple(burst)
    assert alert.count == 6
    assert (alert.first_at, alert.last_at) == (T0, T0 + dt.timedelta(minutes=5))
    assert "eve" in alert.message


def test_four_denials_are_no_burst(context: Context) -> None:
    with context.db.write() as s:
        for n in range(4):
            put(s, T0 + dt.timedelta(minutes=n), actor="eve", action="login", outcome="failure")
    assert alerts_for(context) == []


def test_overlapping_windows_merge_and_separate_bursts_stay_apart(context: Context) -> None:
    with context.db.write() as s:
        long_burst = [
            put(s, T0 + dt.timedelta(minutes=3 * n), actor="eve", action="login", outcome="failure") for n in range(12)
        ]  # 33 minutes, every 10-minute window holds 4: merged, one alert
        later = [
            put(s, T0 + dt.timedelta(hours=3, seconds=n), actor="eve", action="login", outcome="failure")
            for n in range(5)
        ]
    with context.db.session() as session:
        alerts = compute_alerts(session, AlertRules(denied_burst_count=4), level_of=NO_LEVELS)
    assert [a.event_ids for a in alerts] == [tuple(long_burst), tuple(later)]
    with context.db.session() as session:
        only_later = compute_alerts(session, AlertRules(), since=T0 + dt.timedelta(hours=1), level_of=NO_LEVELS)
    assert [a.event_ids for a in only_later] == [tuple(later)]


def test_sixty_downloads_in_an_hour_are_bulk(context: Context) -> None:
    with context.db.write() as s:
        ids = [
            put(s, T0 + dt.timedelta(seconds=59 * n), actor="dave", action="document.download", target=f"document:{n}")
            for n in range(60)
        ]
        put(
            s,
            T0 + dt.timedelta(minutes=5),
            actor="dave",
            action="document.download",
            target="document:1",
            outcome="denied_or_missing",
        )
    (alert,) = alerts_for(context, level_of=levels({n: 0 for n in range(60)}))
    assert (alert.kind, alert.actor, alert.count) == ("bulk_download", "dave", 60)
    assert alert.event_ids == tuple(ids)
    assert "60 distinct documents" in alert.message


def test_thirty_downloads_are_not_bulk(context: Context) -> None:
    with context.db.write() as s:
        for n in range(30):
            put(s, T0 + dt.timedelta(minutes=n), actor="dave", action="document.download", target=f"document:{n}")
    assert alerts_for(context, level_of=levels({n: 0 for n in range(30)})) == []


CONFIDENTIAL_DOC, PUBLIC_DOC, UNSET_DOC = 1, 2, 3
DOC_LEVELS = levels({CONFIDENTIAL_DOC: 2, PUBLIC_DOC: 0, UNSET_DOC: None})


def off_hours_alerts(context: Context, *reads: tuple[dt.datetime, int, str]) -> tuple[list[Any], list[int]]:
    with context.db.write() as s:
        ids = [put(s, at, actor="frank", action=action, target=f"document:{doc}") for at, doc, action in reads]
    return alerts_for(context, level_of=DOC_LEVELS), ids


def test_confidential_view_at_night_alerts(context: Context) -> None:
    (alert,), ids = off_hours_alerts(context, (shanghai(WEDNESDAY, 23), CONFIDENTIAL_DOC, "document.view"))
    assert (alert.kind, alert.actor, alert.event_ids) == ("off_hours_access", "frank", tuple(ids))
    assert "document:1" in alert.message


def test_confidential_view_in_office_hours_is_fine(context: Context) -> None:
    alerts, _ = off_hours_alerts(context, (shanghai(WEDNESDAY, 10), CONFIDENTIAL_DOC, "document.view"))
    assert alerts == []


def test_public_document_at_night_is_fine(context: Context) -> None:
    alerts, _ = off_hours_alerts(context, (shanghai(WEDNESDAY, 23), PUBLIC_DOC, "document.download"))
    assert alerts == []


def test_confidential_view_on_saturday_morning_alerts(context: Context) -> None:
    (alert,), ids = off_hours_alerts(context, (shanghai(SATURDAY, 10), CONFIDENTIAL_DOC, "document.view"))
    assert alert.event_ids == tuple(ids)


def test_unset_level_counts_as_restricted(context: Context) -> None:
    (alert,), ids = off_hours_alerts(context, (shanghai(WEDNESDAY, 7), UNSET_DOC, "document.download"))
    assert alert.event_ids == tuple(ids)


def test_one_night_is_one_alert_and_the_next_night_another(context: Context) -> None:
    alerts, ids = off_hours_alerts(
        context,
        (shanghai(WEDNESDAY, 23), CONFIDENTIAL_DOC, "document.view"),
        (shanghai(WEDNESDAY + dt.timedelta(days=1), 1), CONFIDENTIAL_DOC, "document.download"),
        (shanghai(WEDNESDAY + dt.timedelta(days=1), 23), CONFIDENTIAL_DOC, "document.view"),
    )
    assert [a.event_ids for a in alerts] == [(ids[0], ids[1]), (ids[2],)]


def test_denied_night_reads_are_not_off_hours_access(context: Context) -> None:
    with context.db.write() as s:
        put(
            s,
            shanghai(WEDNESDAY, 23),
            actor="frank",
            action="document.view",
            target="document:1",
            outcome="denied_or_missing",
        )
    assert alerts_for(context, level_of=DOC_LEVELS) == []


def test_rules_are_validated() -> None:
    with pytest.raises(InvalidInput):
        AlertRules(timezone="Mars/Olympus")
    with pytest.raises(InvalidInput):
        AlertRules(office_hours=(18, 8))
    with pytest.raises(InvalidInput):
        AlertRules(denied_burst_count=0)
