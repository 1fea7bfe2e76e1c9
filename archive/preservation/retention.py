"""Retention periods (保管期限) and the due date of a record, by the rule the README states.

Codes, as the reference codes and DA/T 22-2015 write them:

  Y10, Y30, D10, D30, …   a fixed period of that many years (定期 N 年; `Y` and `D` mean the same here)
  10年, 定期30年           the same, written in Chinese
  YJ, Y, P, permanent, 永久  permanent: never due

The rule (DA/T practice): the period is counted from 1 January of the year after the filing year (归档年度) and
the record falls due on 1 January after the period's last year. A record filed in 2015 with Y10 is counted from
2016-01-01 and is due on 2026-01-01 (its period ends on 2025-12-31). The filing year is the batch's year; for a
record without one, the year of its own date; else the year it was catalogued. An appraisal that keeps a record
gives it a new code and counts that period from the year after the appraisal (`counted_after`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from archive.errors import InvalidInput

PERMANENT_CODES = frozenset({"yj", "y", "p", "permanent", "永久"})
_FIXED = re.compile(r"^(?:[yd](\d{1,3})|(?:定期)?(\d{1,3})年)$")
MAX_YEARS = 999


@dataclass(frozen=True)
class RetentionPeriod:
    """A parsed code: `years` None for permanent."""

    code: str
    years: int | None

    @property
    def permanent(self) -> bool:
        return self.years is None


def parse_retention(code: str) -> RetentionPeriod:
    """The period a code names; InvalidInput (with the code) for anything else."""
    cleaned = code.strip().lower()
    if cleaned in PERMANENT_CODES:
        return RetentionPeriod(code.strip(), None)
    found = _FIXED.match(cleaned)
    years = int(found.group(1) or found.group(2)) if found else 0
    if not found or not 1 <= years <= MAX_YEARS:
        raise InvalidInput(
            f"{code!r} is not a retention code; use Y10, Y30 (or D10, D30, 定期30年: a number of years) "
            "or YJ / permanent / 永久",
            InvalidInput.RETENTION_CODE,
            {"code": code},
        )
    return RetentionPeriod(code.strip(), years)


def filing_year(batch_year: int | None, record_date: dt.date | None, catalogued: dt.datetime) -> int:
    """归档年度: the batch's year, else the record's own year, else the year it was catalogued."""
    if batch_year is not None:
        return batch_year
    if record_date is not None:
        return record_date.year
    return catalogued.year


def due_date(period: RetentionPeriod, counted_after_year: int) -> dt.date | None:
    """1 January after the period's last year, the period counted from the year after `counted_after_year`;
    None for a permanent record."""
    if period.years is None:
        return None
    last_year = counted_after_year + period.years
    if last_year + 1 > dt.MAXYEAR:
        return None
    return dt.date(last_year + 1, 1, 1)


@dataclass(frozen=True)
class RecordRetention:
    """What decides one record's due date, and the date itself."""

    code: str  # the record's own code if it has one, else its series' (batch's)
    source: str  # "record" | "series"
    counted_after: int  # the filing year, or the year of the appraisal that kept it
    due_on: dt.date | None  # None: permanent


def record_retention(
    *,
    own_code: str | None,
    series_code: str | None,
    counted_after: int | None,
    batch_year: int | None,
    record_date: dt.date | None,
    catalogued: dt.datetime,
) -> RecordRetention:
    """The record's own code overrides its series'; a kept record's period counts after its appraisal year."""
    code, source = (own_code, "record") if own_code else (series_code or "", "series")
    period = parse_retention(code)
    after = counted_after if counted_after is not None else filing_year(batch_year, record_date, catalogued)
    return RecordRetention(code=period.code, source=source, counted_after=after, due_on=due_date(period, after))
