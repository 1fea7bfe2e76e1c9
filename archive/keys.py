"""The object-key layout of a store, in one place: content-addressed objects, backup manifests, catalogue
snapshots and audit checkpoints. Every key the system writes comes from a function here."""

from __future__ import annotations

import re

from archive.errors import InvalidInput

OBJECT_PREFIX = "sha256/"  # catalogue objects, by content
MANIFEST_PREFIX = "manifests/"  # one per backup run
SNAPSHOT_PREFIX = "catalogue/"  # database snapshots a backup carries
CHECKPOINT_PREFIX = "audit/checkpoints/"  # signed checkpoints of the audit chain
REPORT_PREFIX = "reports/"  # periodic compliance reports (JSON), kept beside the records they report on
ESCROW_PREFIX = "escrow/"  # one per backup run: the signing key, encrypted (archive/preservation/escrow.py)
DERIVED_PREFIX = "derived/"  # page images and thumbnails: rebuildable, neither catalogued nor backed up
DERIVED_VERSION = 1  # bump when the rendering changes: new keys, and `dangan derive` makes them
CHECKPOINT_PATTERN = re.compile(r"^audit/checkpoints/(\d{8,})\.json$")
MANIFEST_PATTERN = re.compile(r"^manifests/(\d{8,})\.json$")


def content_key(sha256: str) -> str:
    """The content-addressed key of bytes with this SHA-256 (fanned out to keep directories small)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise InvalidInput(f"{sha256!r} is not a lowercase hex SHA-256")
    return f"{OBJECT_PREFIX}{sha256[:2]}/{sha256}"


def manifest_key(run_id: int) -> str:
    """The manifest of backup run `run_id`."""
    return f"{MANIFEST_PREFIX}{run_id:08d}.json"


def escrow_key(run_id: int) -> str:
    """The key escrow written by backup run `run_id` (beside its manifest, which hashes it)."""
    return f"{ESCROW_PREFIX}{run_id:08d}.json"


def snapshot_key(stamp: str, run_id: int, suffix: str) -> str:
    """A catalogue snapshot taken at `stamp` (UTC, e.g. 20261201T120000Z) by backup run `run_id`."""
    return f"{SNAPSHOT_PREFIX}{stamp}-run{run_id}.{suffix.lstrip('.')}"


def checkpoint_key(sequence: int) -> str:
    """The audit-chain checkpoint number `sequence`."""
    return f"{CHECKPOINT_PREFIX}{sequence:08d}.json"


def derived_key(pdfa_sha256: str, page: int, kind: str) -> str:
    """A page image (`kind` page_image or thumbnail) drawn from the access copy with this SHA-256: content-
    addressed by its source, so a rescan (a new access copy) gets new images and the old ones are never served
    (they are pruned once no current page refers to them: api/search/page_images.py)."""
    if not re.fullmatch(r"[0-9a-f]{64}", pdfa_sha256):
        raise InvalidInput(f"{pdfa_sha256!r} is not a lowercase hex SHA-256")
    if not re.fullmatch(r"[a-z_]+", kind) or page < 1:
        raise InvalidInput(f"no derived object {kind!r} of page {page}")
    return f"{DERIVED_PREFIX}{pdfa_sha256[:2]}/{pdfa_sha256}/p{page:05d}-{kind}-v{DERIVED_VERSION}.jpg"
