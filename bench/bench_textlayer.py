"""The access copy's text layer, three ways, on the same pages in one run, as `pdftotext` reads it back.

Pages: A4 300 dpi JPEG scans rendered from Chinese and English text (mild noise and skew), OCR chi_sim+eng for
Chinese and eng for English, one tesseract process at a time (OMP_THREAD_LIMIT=1):
  tesseract-pdf  the old image path: one tesseract run writing its own PDF + txt + TSV per page
  textlayer      the image path now: one tesseract run writing txt + TSV, the page PDF by `write_page_pdf`
  ocrmypdf       the PDF path: an image PDF of the same pages through `ingest.pdfa.to_pdfa`
Each way's pages are joined to PDF/A-2b (`save_pdfa`; ocrmypdf writes its own) and read back with `pdftotext`.
Prints per way and language: seconds per page, Han-space-Han pairs / Han characters, full-width punctuation
kept (read back / drawn), bag-of-bigrams F1 (Han runs; lower-cased words otherwise) against the rendered text,
and the ratio textlayer / tesseract-pdf of wall time and of CPU time (tesseract's + this process's: steadier
than wall time on a loaded machine).
Usage: python -m bench.bench_textlayer [PAGES_PER_LANGUAGE]
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import img2pdf

from bench.textmetrics import bag_f1
from ingest.engines.tesseract import recognised_words_and_lines
from ingest.pdfa import save_pdfa, to_pdfa
from ingest.samples import CHINESE_PAGES, ENGLISH_PAGES, SamplePage, render_page_with_text
from ingest.textlayer import write_page_pdf

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_SPACE_HAN = re.compile(f"(?<=[{HAN}])[ \t]+(?=[{HAN}])")
HAN_CHAR = re.compile(f"[{HAN}]")
CJK_PUNCTUATION = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]")  # 。，：；（）etc.
LANGUAGES = {"chi_sim": "chi_sim+eng", "eng": "eng"}
ENV = os.environ | {"OMP_THREAD_LIMIT": "1"}


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def make_pages(folder: Path, count: int) -> list[tuple[Path, str, str]]:
    """(scan, language, text drawn) for `count` Chinese and `count` English pages."""
    pages = []
    for number in range(2 * count):
        if number % 2:
            language, text = "chi_sim", "".join(CHINESE_PAGES * 5)
        else:
            language, text = "eng", " ".join(ENGLISH_PAGES * 6)
        image, drawn = render_page_with_text(
            SamplePage(text, language), font_pt=11, seed=number, skew_degrees=0.3, noise=0.0008
        )
        path = folder / f"page-{number:03d}-{language}.jpg"
        image.save(path, quality=90, dpi=(300, 300))
        pages.append((path, language, drawn))
    return pages


def tesseract(scan: Path, base: Path, language: str, outputs: str) -> None:
    command = ["tesseract", str(scan), str(base), "-l", LANGUAGES[language], "--dpi", "300"]
    command += ["-c", "tessedit_create_tsv=1"]
    subprocess.run([*command, *outputs.split()], check=True, env=ENV, capture_output=True)


def tesseract_pdf(scan: Path, base: Path, language: str) -> Path:
    tesseract(scan, base, language, "pdf txt")
    return base.with_suffix(".pdf")


def textlayer(scan: Path, base: Path, language: str) -> Path:
    tesseract(scan, base, language, "txt")
    _, lines = recognised_words_and_lines(base.with_suffix(".tsv"))
    write_page_pdf(scan, dpi=300, lines=lines, out=base.with_suffix(".pdf"))
    return base.with_suffix(".pdf")


CPU: dict[str, float] = {}


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def image_path_ways(pages: list[tuple[Path, str, str]], work: Path) -> dict[str, dict[str, list[float]]]:
    """Both image-path ways, page by page in alternating order; per way and language: seconds per page."""
    ways = {"tesseract-pdf": tesseract_pdf, "textlayer": textlayer}
    seconds: dict[str, dict[str, list[float]]] = {way: {} for way in ways}
    made: dict[str, dict[str, list[Path]]] = {way: {} for way in ways}
    for index, (scan, language, _) in enumerate(pages):
        order = list(ways) if index % 2 == 0 else list(reversed(ways))
        for way in order:
            (work / way).mkdir(exist_ok=True)
            started, cpu = time.perf_counter(), cpu_seconds()
            pdf = ways[way](scan, work / way / scan.stem, language)
            seconds[way].setdefault(language, []).append(time.perf_counter() - started)
            CPU[f"{way} {language}"] = CPU.get(f"{way} {language}", 0.0) + cpu_seconds() - cpu
            made[way].setdefault(language, []).append(pdf)
    for way, by_language in made.items():
        for language, pdfs in by_language.items():
            save_pdfa(pdfs, work / f"{way}-{language}.pdf")
    return seconds


def ocrmypdf_way(pages: list[tuple[Path, str, str]], work: Path) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {}
    for language, languages in LANGUAGES.items():
        scans = [str(scan) for scan, lang, _ in pages if lang == language]
        source = work / f"scans-{language}.pdf"
        source.write_bytes(img2pdf.convert(scans))
        started = time.perf_counter()
        to_pdfa(source, work / f"ocrmypdf-{language}.pdf", languages=languages, sidecar=None, page_timeout=120)
        seconds[language] = [(time.perf_counter() - started) / len(scans)] * len(scans)
    return seconds


def report(pages: list[tuple[Path, str, str]], work: Path, seconds: dict[str, dict[str, list[float]]]) -> None:
    header = f"{'way':<14} {'lang':<8} {'s/page':>7} {'Han-space-Han':>14} {'Han chars':>10} {'CJK punct':>11}"
    print(f"{header} {'F1 %':>6}")
    for way, by_language in seconds.items():
        for language, values in by_language.items():
            text = pdftotext(work / f"{way}-{language}.pdf")
            truth = "\n".join(drawn for _, lang, drawn in pages if lang == language)
            pairs, han = len(HAN_SPACE_HAN.findall(text)), len(HAN_CHAR.findall(text))
            punct = f"{len(CJK_PUNCTUATION.findall(text))}/{len(CJK_PUNCTUATION.findall(truth))}"
            per_page = sum(values) / len(values)
            line = f"{way:<14} {language:<8} {per_page:>7.2f} {pairs:>14} {han:>10} {punct:>11}"
            print(f"{line} {100 * bag_f1(text, truth):>6.1f}")
    for language in LANGUAGES:
        old, new = sum(seconds["tesseract-pdf"][language]), sum(seconds["textlayer"][language])
        cpu_ratio = CPU[f"textlayer {language}"] / CPU[f"tesseract-pdf {language}"]
        print(f"textlayer / tesseract-pdf, {language}: wall time {new / old:.3f}, CPU time {cpu_ratio:.3f}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="dangan-bench-textlayer-") as tmp:
        work = Path(tmp)
        (work / "pages").mkdir()
        pages = make_pages(work / "pages", count)
        seconds = image_path_ways(pages, work)
        seconds["ocrmypdf"] = ocrmypdf_way(pages, work)
        report(pages, work, seconds)


if __name__ == "__main__":
    main()
