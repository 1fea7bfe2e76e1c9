"""Per-page quality gate cost against raw tesseract on the same pages, measured in one run.

Pages: full A4 at 300 dpi, alternating English (~500 words) and Chinese (~900 characters), saved as JPEG.
Ours: decode the JPEG + measure_page + evaluate (median of several runs per page, one process).
Reference: the `tesseract` CLI, one page at a time, OMP_THREAD_LIMIT=1, `-l chi_sim+eng`, txt output.
Goal: the quality gate costs at most 5% of the OCR time of a page. Usage: python bench/bench_quality.py [PAGES]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from ingest.quality.gate import evaluate
from ingest.quality.measure import measure_page
from ingest.quality.profiles import PROFILES
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page

LANGUAGES = "chi_sim+eng"
REPEATS = 5
GOAL_PERCENT = 5.0


def make_pages(folder: Path, count: int) -> list[Path]:
    pages = []
    for number in range(count):
        if number % 2 == 0:
            text, language = " ".join(ENGLISH_PAGES * 6), "eng"
        else:
            text, language = "".join(CHINESE_PAGES * 5), "chi_sim"
        image = render_page(SamplePage(text, language), font_pt=11, seed=number, skew_degrees=0.3, noise=0.0008)
        path = folder / f"page-{number:03d}-{language}.jpg"
        image.save(path, quality=90, dpi=(300, 300))
        pages.append(path)
    return pages


def quality_gate_ms(page: Path) -> tuple[float, float, float]:
    """Median milliseconds for decode, measure_page and evaluate on one page."""
    decode: list[float] = []
    measure: list[float] = []
    judge: list[float] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        with Image.open(page) as image:
            image.load()
            dpi = float(image.info["dpi"][0]) if "dpi" in image.info else None
            decoded = time.perf_counter()
            measurements = measure_page(image, dpi=dpi)
        measured = time.perf_counter()
        evaluate(measurements, PROFILES["dat31"], ocr_confidence=90.0)
        judged = time.perf_counter()
        decode.append(decoded - started)
        measure.append(measured - decoded)
        judge.append(judged - measured)
    return _ms(decode), _ms(measure), _ms(judge)


def _ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def tesseract_seconds(page: Path, out: Path) -> float:
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    subprocess.run(
        ["tesseract", str(page), str(out / page.stem), "-l", LANGUAGES, "txt"], check=True, env=env, capture_output=True
    )
    return time.perf_counter() - started


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pages = make_pages(folder, count)
        quality_gate_ms(pages[0])  # warm up numpy and the font cache outside the timings
        print(
            f"{'page':<24} {'decode ms':>9} {'measure ms':>10} {'evaluate ms':>11} {'gate ms':>8} {'tesseract s':>11}"
        )
        gate_totals: list[float] = []
        ocr_totals: list[float] = []
        for page in pages:
            decode, measure, judge = quality_gate_ms(page)
            ocr = tesseract_seconds(page, folder)
            gate_totals.append(decode + measure + judge)
            ocr_totals.append(ocr)
            print(f"{page.name:<24} {decode:9.1f} {measure:10.1f} {judge:11.3f} {gate_totals[-1]:8.1f} {ocr:11.2f}")
        gate = statistics.median(gate_totals)
        ocr = statistics.median(ocr_totals)
        ratio = gate / (ocr * 1000) * 100
        verdict = "within" if ratio <= GOAL_PERCENT else "OVER"
        print(
            f"\nmedian per page: quality gate {gate:.1f} ms (decode+measure_page+evaluate), raw tesseract {ocr:.2f} s"
        )
        print(f"quality gate = {ratio:.2f}% of OCR time ({verdict} the {GOAL_PERCENT:g}% goal)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
