"""Which files make one item: by manifest, one file = one item, or one sub-folder of page images = one item.

Pure planning over paths; nothing is read but directory listings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.kinds import IMAGE_SUFFIXES, SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class ManifestSlot:
    """What grouping needs of a manifest row."""

    row_number: int
    source: str | None
    expected_pages: int | None


@dataclass(frozen=True)
class PlannedItem:
    name: str
    sources: tuple[Path, ...]
    manifest_row: int | None = None


def natural_key(path: Path | str) -> list[object]:
    """Sort page-2 before page-10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def _is_scan(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith(".")


def _folder_pages(folder: Path) -> tuple[Path, ...]:
    return tuple(
        sorted((p for p in folder.iterdir() if _is_scan(p) and p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
    )


def discover(paths: Sequence[Path]) -> list[PlannedItem]:
    """Files given are items; in a folder given, each file is an item and each sub-folder of images is one."""
    items: list[PlannedItem] = []
    for path in paths:
        if not path.is_dir():
            items.append(PlannedItem(path.name, (path,)))
            continue
        for child in sorted(path.iterdir(), key=natural_key):
            if child.is_dir() and not child.name.startswith((".", "__MACOSX")):
                pages = _folder_pages(child)
                if pages:
                    items.append(PlannedItem(child.name, pages))
                items.extend(
                    PlannedItem(f"{child.name}/{p.name}", (p,))
                    for p in sorted(child.iterdir(), key=natural_key)
                    if _is_scan(p) and p.suffix.lower() not in IMAGE_SUFFIXES
                )
            elif _is_scan(child):
                items.append(PlannedItem(child.name, (child,)))
    return items


def plan_items(paths: Sequence[Path], manifest: Sequence[ManifestSlot]) -> list[PlannedItem]:
    """Group and match to manifest rows: by the `file` column, by page counts for loose pages, or in order."""
    items = discover(paths)
    if not manifest:
        return items
    if any(slot.source for slot in manifest):
        return _match_by_name(items, manifest)
    loose_pages = all(len(item.sources) == 1 and item.sources[0].suffix.lower() in IMAGE_SUFFIXES for item in items)
    if loose_pages and all(slot.expected_pages for slot in manifest) and len(items) > len(manifest):
        return _group_by_counts(items, manifest)
    return [
        PlannedItem(item.name, item.sources, slot.row_number if slot else None)
        for item, slot in zip(items, [*manifest, *[None] * len(items)], strict=False)
    ]


def _match_by_name(items: list[PlannedItem], manifest: Sequence[ManifestSlot]) -> list[PlannedItem]:
    def key(name: str) -> str:
        return Path(name).stem.lower() if Path(name).suffix.lower() in SUPPORTED_SUFFIXES else name.lower()

    rows = {key(slot.source): slot.row_number for slot in manifest if slot.source}
    return [PlannedItem(item.name, item.sources, rows.get(key(item.name))) for item in items]


def _group_by_counts(items: list[PlannedItem], manifest: Sequence[ManifestSlot]) -> list[PlannedItem]:
    """A box scanned as one run of page images: the manifest's page counts cut it into items."""
    pages = [item.sources[0] for item in items]
    planned: list[PlannedItem] = []
    start = 0
    for slot in manifest:
        count = slot.expected_pages or 0
        chunk = tuple(pages[start : start + count])
        if not chunk:
            break
        planned.append(
            PlannedItem(
                f"{chunk[0].name}..{chunk[-1].name}" if len(chunk) > 1 else chunk[0].name, chunk, slot.row_number
            )
        )
        start += count
    planned.extend(PlannedItem(page.name, (page,)) for page in pages[start:])
    return planned
