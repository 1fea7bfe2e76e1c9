"""Scanned PDFs: their pages read like image pages (now) against the whole PDF through ocrmypdf (before), one run.

Two 3-page A4 300 dpi JPEG scans rendered from known text (mild noise and skew), wrapped by img2pdf: English
(eng) and Chinese (chi_sim+eng). Ways, one after another on the same file, one process (OMP_THREAD_LIMIT=1):
  ocrmypdf   before: `ingest.pdfpages.ocrmypdf_path` (prepare_for_ocr, then ocrmypdf + tesseract, PDF/A-2b)
  tesseract  now: `ingest.ocr.process` with engine tesseract (each page through the image pipeline)
  ppocr      now, Chinese only: engine ppocr
Prints per file and way: wall and CPU seconds per page (CPU: this process's and its children's), the ratio to
ocrmypdf in the same run, Han-space-Han pairs (within a line) and full-width punctuation (，。：；、) in
`pdftotext` of the access copy, bag-of-words F1 (bench.textmetrics) against the drawn text, and whether
every page has a confidence.
Usage: python -m bench.bench_pdfpages [PAGES]
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import img2pdf

from archive.text import HAN_RANGES
from bench.textmetrics import bag_f1
from ingest.engines import get_engine
from ingest.imagepage import Clock
from ingest.ocr import process
from ingest.pdfpages import ocrmypdf_path
from ingest.results import OcrRequest, PageResult
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page_with_text

HAN_SPACE_HAN = re.compile(f"(?<=[{HAN_RANGES}])[ \\t]+(?=[{HAN_RANGES}])")  # within a line
FULL_WIDTH = "，。：；、"


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def make_pdf(folder: Path, language: str, pages: int) -> tuple[Path, str]:
    scans, drawn = [], []
    for number in range(pages):
        if language == "chi_sim":
            text = "".join(CHINESE_PAGES[number:] + CHINESE_PAGES[:number]) * 3
        else:
            text = " ".join(ENGLISH_PAGES[number:] + ENGLISH_PAGES[:number]) * 4
        image, fitted = render_page_with_text(
            SamplePage(text, language), font_pt=11, seed=number, skew_degrees=0.3, noise=0.0008
        )
        path = folder / f"{language}-{number}.jpg"
        image.save(path, quality=90, dpi=(300, 300))
        scans.append(str(path))
        drawn.append(fitted)
    pdf = folder / f"{language}.pdf"
    pdf.write_bytes(img2pdf.convert(scans))
    return pdf, "\n".join(drawn)


def run(way: str, source: Path, languages: str, work: Path) -> list[PageResult]:
    engine = "tesseract" if way == "ocrmypdf" else way
    request = OcrRequest((source,), "application/pdf", languages, work, engine=engine)
    if way == "ocrmypdf":
        work.mkdir(parents=True)
        pages, _ = ocrmypdf_path(request, Clock(get_engine("tesseract", request.engine_options)), source, {})
        return pages
    return list(process(request).pages)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="bench-pdfpages-") as temp:
        folder = Path(temp)
        print(f"{'file':8} {'way':10} {'s/page':>7} {'cpu/page':>8} {'ratio':>6} {'cpu-ratio':>9} "
              f"{'HsH':>4} {'full-w':>6} {'F1':>6} conf")  # fmt: skip
        for language, languages, ways in (
            ("eng", "eng", ("ocrmypdf", "tesseract")),
            ("chi_sim", "chi_sim+eng", ("ocrmypdf", "tesseract", "ppocr")),
        ):
            source, truth = make_pdf(folder, language, count)
            reference: tuple[float, float] | None = None
            for way in ways:
                work = folder / f"{language}-{way}"
                started, cpu = time.perf_counter(), cpu_seconds()
                pages = run(way, source, languages, work)
                wall, used = (time.perf_counter() - started) / count, (cpu_seconds() - cpu) / count
                reference = reference or (wall, used)
                text = pdftotext(work / "access.pdf")
                marks = sum(text.count(mark) for mark in FULL_WIDTH)
                confident = all(page.confidence is not None for page in pages)
                print(
                    f"{language:8} {way:10} {wall:7.2f} {used:8.2f} {wall / reference[0]:6.2f} "
                    f"{used / reference[1]:9.2f} {len(HAN_SPACE_HAN.findall(text)):4d} {marks:6d} "
                    f"{bag_f1(text, truth):6.3f} {confident}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
