"""From what the archivist handed over (files, folders, ZIPs) to planned items of a batch."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from api.views.ingest import Refusal
from api.wiring import Context
from archive.diskfull import disk_full
from archive.errors import DanganError, InvalidInput, UnsupportedFile
from archive.models import Batch
from archive.scratch import owned_name
from ingest.archives import extract_zip, is_zip
from ingest.grouping import ManifestSlot, PlannedItem, plan_items


@dataclass
class Plan:
    items: list[PlannedItem] = field(default_factory=list)
    rejected: list[Refusal] = field(default_factory=list)
    scratch: list[Path] = field(default_factory=list)  # unpacked archives; jobs keep their own spooled copies

    def cleanup(self) -> None:
        for folder in self.scratch:
            shutil.rmtree(folder, ignore_errors=True)


def refusal(name: str, exc: DanganError) -> Refusal:
    return Refusal.of(name, exc)


def plan_batch_items(context: Context, batch_id: int | None, paths: list[Path]) -> Plan:
    """ZIPs are unpacked safely into the spool area; a refused archive is reported and the rest go on.

    A missing path is one the CLI user typed; uploads and unpacked files are named by their file name only."""
    plan = Plan()
    expanded: list[Path] = []
    try:
        for path in paths:
            if not path.exists():
                plan.rejected.append(refusal(str(path), InvalidInput(f"{path} does not exist")))
            elif path.is_file() and path.suffix.lower() == ".zip":  # other names go through content validation
                try:
                    expanded.append(_unpacked(context, plan, path))
                except DanganError as exc:
                    plan.rejected.append(refusal(path.name, exc))
            else:
                expanded.append(path)
        with context.db.session() as session:
            batch = session.get(Batch, batch_id) if batch_id is not None else None
            slots = [ManifestSlot(m.row_number, m.source, m.expected_pages) for m in batch.manifest] if batch else []
        plan.items = plan_items(expanded, slots)
    except BaseException:
        plan.cleanup()
        raise
    return plan


def _unpacked(context: Context, plan: Plan, path: Path) -> Path:
    """The folder a ZIP's scans were unpacked into; a ZIP without a single scan is refused, nothing queued."""
    if not is_zip(path):
        raise UnsupportedFile(f"{path.name}: named as a ZIP archive but its content is not one; check the file")
    scratch = context.settings.spool_dir / "unpacked" / owned_name("unpack")  # swept once its process is gone
    plan.scratch.append(scratch)
    try:  # all or nothing: a disk that fills up while unpacking leaves nothing of the archive behind
        extracted = extract_zip(path, scratch / path.stem, display_name=path.name)
    except OSError as exc:
        unpacking = f"unpacking {path.name}"
        if (full := disk_full(exc, place="unpacking area", path=scratch.parent, what=unpacking)) is not None:
            raise full from exc
        raise
    if not extracted.files:
        left_out = ", ".join(f"{entry.name} ({entry.reason})" for entry in extracted.skipped[:5])
        more = f" and {len(extracted.skipped) - 5} more" if len(extracted.skipped) > 5 else ""
        raise UnsupportedFile(
            f"{path.name} holds no scans (TIFF, PNG, JPEG or PDF)"
            + (f"; it has only {left_out}{more}" if left_out else "; it is empty")
        )
    return _unwrapped(scratch / path.stem)


def _unwrapped(folder: Path) -> Path:
    """A ZIP of one folder holds that folder: its contents are the box, not one item."""
    children = [child for child in folder.iterdir() if not child.name.startswith(".")]
    while len(children) == 1 and children[0].is_dir():
        folder = children[0]
        children = [child for child in folder.iterdir() if not child.name.startswith(".")]
    return folder
