"""Ingest speed and accuracy against the tools an archivist would otherwise use, in one run, on the same pages.

Pages: 20 A4 300 dpi JPEG scans (10 English, 10 Chinese, rendered with mild noise and skew), OCR languages
chi_sim+eng, 2 workers. Three ways through them:
  raw        the `tesseract` CLI, 2 processes at a time, OMP_THREAD_LIMIT=1, txt+hocr output, one run per page
  ocrmypdf   `ocrmypdf --jobs 2` with default options on one PDF of the same images (img2pdf), with --sidecar
  dangan     `dangan ingest` end to end: validation, quality gate, OCR (PDF+text+TSV), PDF/A-2b, SHA-256,
             storage, catalogue, search index
Prints seconds, pages/min, the throughput ratios, character error rates against the rendered text, and the
quality gate's share of OCR time. Usage: python -m bench.bench_ingest [PAGES] [LANGUAGES]
(`python -m bench.bench_ingest 10 eng` repeats the English-only comparison quoted in the ingest issue).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import img2pdf
from sqlalchemy import select

from api.cli.ingesting import ingest_paths
from api.ingest.batches import BatchService
from api.ingest.intake import IngestRequest
from api.wiring import build_context
from archive.access import Principal
from archive.models import Document, IngestJob
from archive.values import AccessLevel, Role
from bench.textmetrics import cer
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page_with_text
from storage_config.settings import Settings

LANGUAGES = sys.argv[2] if len(sys.argv) > 2 else "chi_sim+eng"
WORKERS = 2


def make_pages(folder: Path, count: int) -> dict[str, str]:
    """page file name -> the text drawn on it."""
    truth: dict[str, str] = {}
    for number in range(count):
        if number % 2 == 0 or "chi" not in LANGUAGES:
            text, language = " ".join(ENGLISH_PAGES * 6), "eng"
        else:
            text, language = "".join(CHINESE_PAGES * 5), "chi_sim"
        image, drawn = render_page_with_text(
            SamplePage(text, language), font_pt=11, seed=number, skew_degrees=0.3, noise=0.0008
        )
        name = f"page-{number:03d}.jpg"
        image.save(folder / name, quality=90, dpi=(300, 300))
        truth[name] = drawn
    return truth


def raw_tesseract(pages: list[Path], out: Path) -> tuple[float, dict[str, str]]:
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
    elapsed = time.perf_counter() - started
    return elapsed, {page.name: (out / f"{page.stem}.txt").read_text(encoding="utf-8") for page in pages}


def ocrmypdf_jobs2(pages: list[Path], out: Path) -> tuple[float, dict[str, str]]:
    source = out / "scans.pdf"
    source.write_bytes(img2pdf.convert([str(page) for page in pages]))
    sidecar = out / "sidecar.txt"
    command = [
        sys.executable,
        "-m",
        "ocrmypdf",
        "--jobs",
        str(WORKERS),
        "-l",
        LANGUAGES,
        "--sidecar",
        str(sidecar),
        str(source),
        str(out / "ocrmypdf.pdf"),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    texts = sidecar.read_text(encoding="utf-8").split("\f")
    return elapsed, {page.name: texts[index] for index, page in enumerate(pages)}


def dangan(pages: list[Path], home: Path) -> tuple[float, dict[str, str], float]:
    context = build_context(Settings(home=home, workers=WORKERS))
    try:
        archivist = Principal("bench-archivist", frozenset({Role.ARCHIVIST}), AccessLevel.TOP_SECRET)
        batch = BatchService(context).create(actor=archivist, fonds="B01", languages=LANGUAGES).id
        started = time.perf_counter()
        outcome = ingest_paths(context, IngestRequest(paths=list(pages), batch_id=batch), actor=archivist)
        elapsed = time.perf_counter() - started
        if outcome.exit_code() != 0:
            raise SystemExit(f"ingest failed: {outcome.as_json()}")
        with context.db.session() as session:
            texts = {d.original_filename: "\n".join(p.text for p in d.pages) for d in session.scalars(select(Document))}
            timings = [job.options["timing"] for job in session.scalars(select(IngestJob))]
        quality = sum(t["quality_seconds"] for t in timings) / sum(t["ocr_seconds"] for t in timings)  # type: ignore[index]
        return elapsed, texts, quality
    finally:
        context.close()


def mean_cer(texts: dict[str, str], truth: dict[str, str], language_of: dict[str, str]) -> dict[str, float]:
    by_language: dict[str, list[float]] = {}
    for name, reference in truth.items():
        by_language.setdefault(language_of[name], []).append(cer(texts.get(name, ""), reference))
    return {language: sum(values) / len(values) for language, values in sorted(by_language.items())}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory(prefix="dangan-bench-") as tmp:
        root = Path(tmp)
        for sub in ("pages", "raw", "ocrmypdf"):
            (root / sub).mkdir()
        truth = make_pages(root / "pages", count)
        pages = sorted((root / "pages").glob("*.jpg"))
        language_of = {
            page.name: "eng" if int(page.stem[-3:]) % 2 == 0 or "chi" not in LANGUAGES else "chi_sim" for page in pages
        }
        raw_s, raw_text = raw_tesseract(pages, root / "raw")
        omp_s, omp_text = ocrmypdf_jobs2(pages, root / "ocrmypdf")
        our_s, our_text, quality_share = dangan(pages, root / "home")
    mix = "half English, half Chinese" if "chi" in LANGUAGES else "English"
    print(f"pages: {count} A4 300 dpi JPEG scans ({mix}), -l {LANGUAGES}, {WORKERS} workers")
    for label, seconds, texts in (
        ("raw tesseract (txt+hocr, 2 procs)", raw_s, raw_text),
        ("ocrmypdf --jobs 2 (defaults)", omp_s, omp_text),
        ("dangan ingest (end to end)", our_s, our_text),
    ):
        rates = ", ".join(f"CER {lang} {value:.2%}" for lang, value in mean_cer(texts, truth, language_of).items())
        print(f"{label:36} {seconds:7.2f} s {count / seconds * 60:6.1f} pages/min  {rates}")
    print(f"throughput dangan / raw tesseract: {raw_s / our_s:.2f}x  (goal >= 0.90x)")
    print(f"throughput dangan / ocrmypdf -j2:  {omp_s / our_s:.2f}x  (goal >= 1.70x)")
    print(f"quality checks / OCR time per page: {quality_share:.1%}  (goal <= 5%)")


if __name__ == "__main__":
    main()
