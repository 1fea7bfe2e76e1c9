"""Typed results of browsing the archive's hierarchy (fonds → series → box/volume → item) and of the recently
filed items. Every count is of the records the caller may see, counted in the query."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from pydantic import Field

from api.views.base import View
from api.views.catalogue import level_label
from api.views.urls import PREFIX, document_url, page_thumbnail_url
from archive.dates import PartialDate
from archive.models import Document

NONE_SEGMENT = "-"  # the path segment of "no series" / "no box" (items filed outside a box)


def browse_url(*segments: str) -> str:
    return "/".join([f"{PREFIX}/browse", *(quote(segment, safe="") for segment in segments)])


class BrowseEntry(View):
    """One fonds, series or box with how many items under it the caller may see."""

    key: str = Field(description=f"The path segment ('{NONE_SEGMENT}' for none)")
    label: str = Field(description="The fonds' name; for series and boxes the key itself ('' for none)")
    count: int = Field(description="Items under it the caller may see")
    link: str


class BrowseLevelView(View):
    level: str = Field(description="fonds, series or box: what the entries are")
    path: list[str] = Field(description="The segments above these entries")
    total: int = Field(description="Items under all the entries")
    entries: list[BrowseEntry]


class ItemSummary(View):
    """One item in a listing: enough for a row with a thumbnail."""

    id: int
    reference_code: str
    title: str
    fonds: str
    date: str | None
    access_level: str | None
    status: str
    page_count: int
    filed_at: str | None
    link: str
    thumbnail: str | None = Field(description="The first page's thumbnail; null for a record with no pages")


class BrowseItemsView(View):
    path: list[str]
    total: int
    offset: int
    limit: int
    items: list[ItemSummary]


class RecentItemsView(View):
    items: list[ItemSummary] = Field(description="Filed items the caller may see, newest filed first")


def segment(value: str | None) -> str:
    return value if value else NONE_SEGMENT


def item_summary(document: Document, filed_at: dt.datetime | None) -> ItemSummary:
    date = PartialDate.stored(document.date, document.date_precision)
    return ItemSummary(
        id=document.id,
        reference_code=document.reference_code,
        title=document.title,
        fonds=document.fonds.code,
        date=date.isoformat() if date else None,
        access_level=level_label(document.access_level),
        status=str(document.status),
        page_count=document.page_count,
        filed_at=filed_at.isoformat() if filed_at else None,
        link=document_url(document.id),
        thumbnail=page_thumbnail_url(document.id, 1) if document.page_count else None,
    )
