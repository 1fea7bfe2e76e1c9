"""The search filters as people give them (creator, organisation, keyword: exact values, any case; year: the
archival year 归档年度) (strings: a level's name, dates as YYYY, YYYY-MM or YYYY-MM-DD) made
into the engine's `SearchFilters`, once for both adapters: a year or month given as the end of a range means its
last day ("to 2021" includes all of 2021). Light on purpose: the CLI imports it before any engine."""

from __future__ import annotations

from archive.dates import range_bound
from archive.values import AccessLevel
from search.types import SearchFilters


def search_filters(
    *,
    fonds: str | None = None,
    series: str | None = None,
    batch_id: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    doc_type: str | None = None,
    language: str | None = None,
    level: str | None = None,
    creator: str | None = None,
    organisation: str | None = None,
    keyword: str | None = None,
    year: int | None = None,
) -> SearchFilters:
    """Refuses a bad date or level name with InvalidInput (exit 2, HTTP 400) naming it."""
    return SearchFilters(
        fonds=fonds,
        series=series,
        batch_id=batch_id,
        date_from=range_bound(date_from),
        date_to=range_bound(date_to, end=True),
        doc_type=doc_type,
        language=language,
        level=int(AccessLevel.parse(level)) if level else None,
        creator=creator or None,
        organisation=organisation or None,
        keyword=keyword or None,
        archival_year=year,
    )
