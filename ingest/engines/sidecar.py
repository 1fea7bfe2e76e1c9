"""The null engine's text files: `scan.tif` → `scan.txt` (UTF-8), one text per page separated by form feeds.

Light on purpose (no imaging library): the ingest spool carries a scan's sidecar along with it."""

from __future__ import annotations

from pathlib import Path

from ingest.engines.base import PageText

SIDECAR_SUFFIX = ".txt"


def sidecar_path(source: Path) -> Path:
    return source.with_suffix(SIDECAR_SUFFIX)


def is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == SIDECAR_SUFFIX


def sidecar_text(source: Path, frame: int) -> PageText:
    """Page `frame` (0-based) of the sidecar beside `source`, stripped; empty, source "none", when it has none."""
    sidecar = sidecar_path(source)
    if not sidecar.is_file():
        return PageText("", text_source="none")
    pages = sidecar.read_text(encoding="utf-8").split("\f")
    if frame >= len(pages):
        return PageText("", text_source="none")
    return PageText(pages[frame].strip(), text_source="sidecar")
