"""Reconciliation of a batch against its manifest: missing and extra items, page-count mismatches, numbering
gaps and duplicate pages. Pure: it takes plain facts and returns a report; it never raises on a finding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExpectedItem:
    manifest_item_id: int
    row_number: int
    item_number: int | None
    reference_code: str | None
    expected_pages: int | None
    title: str


@dataclass(frozen=True)
class ReceivedItem:
    source_name: str
    manifest_item_id: int | None
    item_number: int | None
    reference_code: str | None
    state: str
    page_count: int | None  # None while the item is not processed yet
    document_id: int | None


@dataclass(frozen=True)
class DuplicatePage:
    first: str  # "REF p.N"
    second: str
    kind: str  # "identical" (same bytes) or "near" (perceptual hash)
    distance: int


@dataclass
class Reconciliation:
    has_manifest: bool
    missing_items: list[dict[str, Any]] = field(default_factory=list)
    extra_items: list[dict[str, Any]] = field(default_factory=list)
    page_count_mismatches: list[dict[str, Any]] = field(default_factory=list)
    numbering_gaps: list[int] = field(default_factory=list)
    duplicate_pages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.missing_items
            or self.extra_items
            or self.page_count_mismatches
            or self.numbering_gaps
            or self.duplicate_pages
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"clean": self.clean}


def reconcile(
    expected: Sequence[ExpectedItem], received: Sequence[ReceivedItem], duplicates: Sequence[DuplicatePage]
) -> Reconciliation:
    report = Reconciliation(has_manifest=bool(expected))
    by_row = {item.manifest_item_id: item for item in received if item.manifest_item_id is not None}
    for row in expected:
        got = by_row.get(row.manifest_item_id)
        if got is None:
            report.missing_items.append(asdict(row))
        elif row.expected_pages is not None and got.page_count is not None and got.page_count != row.expected_pages:
            report.page_count_mismatches.append(
                {
                    "row_number": row.row_number,
                    "item_number": row.item_number,
                    "reference_code": got.reference_code,
                    "source_name": got.source_name,
                    "expected_pages": row.expected_pages,
                    "received_pages": got.page_count,
                }
            )
    if expected:
        report.extra_items = [asdict(item) for item in received if item.manifest_item_id is None]
    numbers = {row.item_number for row in expected if row.item_number is not None}
    numbers |= {item.item_number for item in received if item.item_number is not None}
    if numbers:
        report.numbering_gaps = sorted(set(range(min(numbers), max(numbers) + 1)) - numbers)
    report.duplicate_pages = [asdict(duplicate) for duplicate in duplicates]
    return report
