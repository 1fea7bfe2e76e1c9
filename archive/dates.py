"""Archival dates: a day, a month or only a year, kept at the precision the record gives.

A letter may be dated 1998-06-03, a file only "June 1998", a ledger only "1923". :class:`PartialDate` is the one
value type for them: parsed once from what a person typed, stored as the first day of the period plus its
precision, shown as it was given, and turned into a day range for searches.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from archive.errors import InvalidInput

Precision = Literal["year", "month", "day"]
DATE_FORMS = "YYYY-MM-DD, YYYY-MM or YYYY (e.g. 1998-06-03, 1998-06 or 1998)"
_PATTERN = re.compile(r"([0-9]{4})(?:[-./]([0-9]{1,2})(?:[-./]([0-9]{1,2}))?)?")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A year, a month of a year, or a day; month and day are None when the record does not give them."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is outside 1–9999")
        if self.month is None:
            if self.day is not None:
                raise ValueError("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is outside 1–12")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"{calendar.month_name[self.month]} {self.year} has days 1–{last}, not {self.day}")

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """YYYY-MM-DD, YYYY-MM or YYYY ('-', '.' or '/' between); anything else is InvalidInput saying so."""
        cleaned = text.strip()
        match = _PATTERN.fullmatch(cleaned)
        if not match:
            raise InvalidInput(
                f"date {_shown(text)} is not a date; write {DATE_FORMS}", InvalidInput.DATE_FORM, {"date": text[:40]}
            )
        try:
            return cls(int(match[1]), int(match[2]) if match[2] else None, int(match[3]) if match[3] else None)
        except ValueError as exc:
            raise InvalidInput(
                f"date {_shown(text)} is not a real date: {exc}; write {DATE_FORMS}",
                InvalidInput.DATE_NOT_REAL,
                {"date": text[:40]},
            ) from exc

    @classmethod
    def parse_optional(cls, text: str | None) -> PartialDate | None:
        """Like parse, with an empty or missing text meaning 'no date'."""
        return cls.parse(text) if text and text.strip() else None

    @classmethod
    def stored(cls, start: dt.date | None, precision: str | None) -> PartialDate | None:
        """Back from a catalogue row's (date, date_precision) pair; a missing precision means a full day."""
        if start is None:
            return None
        if precision == "year":
            return cls(start.year)
        if precision == "month":
            return cls(start.year, start.month)
        return cls(start.year, start.month, start.day)

    @property
    def precision(self) -> Precision:
        return "year" if self.month is None else "month" if self.day is None else "day"

    @property
    def stored_precision(self) -> str | None:
        """What the date_precision column holds: 'year' or 'month', None for a full day (as legacy rows)."""
        return None if self.precision == "day" else self.precision

    def start(self) -> dt.date:
        """The first day of the period (what search ranges and sorting use)."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def end(self) -> dt.date:
        """The last day of the period."""
        if self.month is None:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1])

    def isoformat(self) -> str:
        """As precise as the record: '1998', '1998-06' or '1998-06-03'."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.isoformat()


def range_bound(text: str | None, *, end: bool = False) -> dt.date | None:
    """A search filter's 'from' (first day) or 'to' (last day) of what the text names: "to 1998" is 1998-12-31."""
    date = PartialDate.parse_optional(text)
    if date is None:
        return None
    return date.end() if end else date.start()


def stored_text(start: dt.date | None, precision: str | None) -> str | None:
    """A catalogue row's (date, date_precision) as the text it was given ('1998-06'), or None."""
    date = PartialDate.stored(start, precision)
    return date.isoformat() if date else None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")
