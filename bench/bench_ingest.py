"""Ingest throughput against raw tesseract on the same pages, measured in one run.

Reference: the `tesseract` CLI, 2 processes at a time, OMP_THREAD_LIMIT=1, txt+hocr output, on the same images.
Ours: `dangan ingest` end to end (validation, OCR with PDF + text + TSV, PDF/A, SHA-256, storage, catalogue,
index) with 2 workers. Prints pages/min for both and the ratio. Usage: python bench/bench_ingest.py [PAGES]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from api.cli.ingesting import ingest_paths
from api.wiring import build_context
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page
from storage_config.settings import Settings

LANGUAGES = "chi_sim+eng"
WORKERS = 2


def make_pages(folder: Path, count: int) -> list[Path]:
    """Full A4 pages at 300 dpi, alternating English (~500 words) and Chinese (~900 characters), as JPEG."""
    pages = []
    for number in range(count):
        if number % 2 == 0:
            text, language = " ".join(ENGLISH_PAGES * 6), "eng"
        else:
            text, language = "".join(CHINESE_PAGES * 5), "chi_sim"
        image = render_page(SamplePage(text, language), font_pt=11, seed=number, skew_degrees=0.3, noise=0.0008)
        path = folder / f"page-{number:03d}.jpg"
        image.save(path, quality=90, dpi=(300, 300))
        pages.append(path)
    return pages


def raw_tesseract(pages: list[Path], out: Path) -> float:
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}

    def one(page: Path) -> None:
        subprocess.run(
            ["tesseract", str(page), str(out / page.stem), "-l", LANGUAGES, "txt", "hocr"],
            check=True,
            env=env,
            capture_output=True,
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - started


def ours(pages: list[Path], home: Path) -> float:
    context = build_context(Settings(home=home, workers=WORKERS))
    try:
        started = time.perf_counter()
        outcome = ingest_paths(context, pages, languages=LANGUAGES)
        elapsed = time.perf_counter() - started
        if outcome.exit_code() != 0:
            raise SystemExit(f"ingest failed: {outcome.as_dict()}")
        return elapsed
    finally:
        context.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory(prefix="dangan-bench-") as tmp:
        root = Path(tmp)
        (root / "pages").mkdir()
        (root / "raw").mkdir()
        pages = make_pages(root / "pages", count)
        raw = raw_tesseract(pages, root / "raw")
        ours_seconds = ours(pages, root / "home")
    print(f"pages: {count} (A4, 300 dpi, half English, half Chinese), languages {LANGUAGES}, {WORKERS} workers")
    print(
        f"raw tesseract (txt+hocr, 2 procs): {raw:7.2f} s  {count / raw * 60:6.1f} pages/min  {raw / count:.2f} s/page"
    )
    print(
        f"dangan ingest (end to end):        {ours_seconds:7.2f} s  {count / ours_seconds * 60:6.1f} pages/min  "
        f"{ours_seconds / count:.2f} s/page"
    )
    print(f"ratio ours/raw throughput: {raw / ours_seconds:.2f}x")


if __name__ == "__main__":
    main()
