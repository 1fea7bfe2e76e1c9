"""Encryption-at-rest overhead: the same pages ingested and filed at an unencrypted level (internal) and at
confidential (encrypted), and a full verification of each archive, as ratios encrypted / unencrypted measured
in the same run. Also the envelope alone (seal and open of one large object) against plain SHA-256 hashing.

The OCR engine is the null engine (no recognition: text from a sidecar, none here), so that OCR time does not
swamp the figure; ingest still validates, measures quality, builds the PDF/A access copy, writes the objects and
draws page images. With real OCR (seconds per page) the ingest ratio is closer still to 1. Each side is run
twice, alternately, and the faster run of each kept (verification: the fastest of five per archive).
Usage: python -m bench.bench_encryption [PAGES]   (default 12 A4 300 dpi JPEG scans)
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from api.cli.ingesting import ingest_paths
from api.ingest.batches import BatchService
from api.ingest.intake import IngestRequest
from api.preservation.maintenance import MaintenanceService
from api.preservation.verification import VerificationService
from api.wiring import build_context
from archive.access import Principal
from archive.values import AccessLevel, Role
from ingest.samples import ENGLISH_PAGES, SamplePage, render_page_with_text
from storage_config.encryption import Envelope, Seal, seal_stream
from storage_config.keyring import FileKeyProvider
from storage_config.settings import Settings

ARCHIVIST = Principal("bench-archivist", frozenset({Role.ARCHIVIST}), AccessLevel.TOP_SECRET)
VERIFY_REPEATS = 5
OPERATOR = Principal("bench-sysadmin", frozenset({Role.SYSADMIN}), AccessLevel.TOP_SECRET)


def make_pages(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        text = " ".join(ENGLISH_PAGES * 6)
        image, _ = render_page_with_text(SamplePage(text, "eng"), font_pt=11, seed=number, skew_degrees=0.3)
        image.save(folder / f"page-{number:03d}.jpg", quality=92, dpi=(300, 300))
    return sorted(folder.glob("*.jpg"))


def one_side(pages: list[Path], home: Path, level: str) -> tuple[float, float]:
    """(ingest+file seconds, full verification seconds)."""
    context = build_context(Settings(home=home, workers=2, ocr_engine="null"))
    try:
        MaintenanceService(context).initialise()
        batch = BatchService(context).create(actor=ARCHIVIST, fonds="B01", languages="eng", level=level).id
        started = time.perf_counter()
        outcome = ingest_paths(context, IngestRequest(paths=list(pages), batch_id=batch), actor=ARCHIVIST)
        ingest_s = time.perf_counter() - started
        if outcome.exit_code() != 0:
            raise SystemExit(f"ingest failed: {outcome.as_json()}")
        timings = []
        for _ in range(VERIFY_REPEATS):  # small archives verify in a fraction of a second: the fastest of a few
            started = time.perf_counter()
            report = VerificationService(context).verify(OPERATOR, level="full")
            timings.append(time.perf_counter() - started)
            if report.status != "clean":
                raise SystemExit(f"verification not clean: {report.status}")
        return ingest_s, min(timings)
    finally:
        context.close()


def envelope_alone(root: Path, mib: int = 64) -> tuple[float, float, float]:
    """(sha256 seconds, seal seconds, open seconds) over `mib` MiB of random bytes, in memory."""
    data = os.urandom(mib * 2**20)
    started = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    hash_s = time.perf_counter() - started
    envelope = Envelope(FileKeyProvider(root / "bench-keys.json"))
    key = os.urandom(32)
    out = io.BytesIO()
    started = time.perf_counter()
    seal_stream(io.BytesIO(data), out, key, "bench")
    seal_s = time.perf_counter() - started
    key_id, wrapped = envelope.provider.wrap(key)
    out.seek(0)
    started = time.perf_counter()
    with envelope.open(out, Seal(key_id, wrapped, "bench"), where="bench") as stream:
        while stream.read(2**20):
            pass
    return hash_s, seal_s, time.perf_counter() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    with tempfile.TemporaryDirectory(prefix="dangan-enc-") as tmp:
        root = Path(tmp)
        pages = make_pages(root / "pages", count)
        size = sum(page.stat().st_size for page in pages)
        runs: dict[str, list[tuple[float, float]]] = {"internal": [], "confidential": []}
        for round_ in range(2):
            for level in ("internal", "confidential") if round_ == 0 else ("confidential", "internal"):
                runs[level].append(one_side(pages, root / f"home-{level}-{round_}", level))
        hash_s, seal_s, open_s = envelope_alone(root)
    clear_ingest, clear_verify = min(r[0] for r in runs["internal"]), min(r[1] for r in runs["internal"])
    sealed_ingest, sealed_verify = min(r[0] for r in runs["confidential"]), min(r[1] for r in runs["confidential"])
    print(f"pages: {count} A4 300 dpi JPEG scans, {size / 2**20:.1f} MiB; null OCR engine; 2 workers")
    print(f"ingest+file   internal (clear): {clear_ingest:7.2f} s   confidential (encrypted): {sealed_ingest:7.2f} s")
    print(f"full verify   internal (clear): {clear_verify:7.2f} s   confidential (encrypted): {sealed_verify:7.2f} s")
    print(f"ratio encrypted / unencrypted: ingest {sealed_ingest / clear_ingest:.2f}x, ", end="")
    print(f"full verification {sealed_verify / clear_verify:.2f}x (stored hash + decrypt + plaintext hash)")
    print(
        f"envelope alone, 64 MiB: sha256 {64 / hash_s:6.0f} MiB/s, seal {64 / seal_s:6.0f} MiB/s, "
        f"open {64 / open_s:6.0f} MiB/s"
    )


if __name__ == "__main__":
    main()
