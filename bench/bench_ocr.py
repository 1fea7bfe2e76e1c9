"""OCR accuracy and speed on pages with known text: raw tesseract, raw PP-OCR and Dang'an, side by side in one run.

Corpus: bench/ocr_corpus.py (rendered Chinese simplified / traditional and English pages with one degradation
each, plus real scans from a local mirror when present), cached under var/bench/ocr. Per page, in 2 worker
processes (one thread each), three readings of the same file:
  tesseract  pytesseract.image_to_string on the file, `chi_sim+eng` / `chi_tra+eng` / `eng`, OMP_THREAD_LIMIT=1
  ppocr      rapidocr_onnxruntime.RapidOCR (PP-OCRv4 from the wheel) on the file, 1 intra-op thread; lines joined
  dangan     ingest.ocr.process with an OcrRequest (the real pipeline: measure, deskew, engine, PDF/A), engine
             from --engine or DANGAN_OCR_ENGINE (default tesseract)
Prints per page and per group / degradation the bag-of-words F1 (bigrams of Han runs, lower-cased words
otherwise), CER, wall and CPU seconds per page (CPU: the worker's and its child programs'), then the issue's
goals as PASS/FAIL lines; the time goals use CPU seconds, which a shared, busy machine disturbs far less.
Usage: python -m bench.bench_ocr [--pages N] [--group zh-hans,zh-hant,en,real-en] [--engine NAME] [--no-real]
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ocr_corpus import CHINESE_GROUPS, CorpusPage, build
from bench.textmetrics import bag_f1, cer

ENGINES = ("tesseract", "ppocr", "dangan")
WORKERS = 2
DEFAULT_PAGES = 12  # every degradation once (8 Chinese, 4 English), a few minutes on 2 idle cores; 33: all pairs
CACHE = Path("var/bench/ocr")
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".pdf": "application/pdf"}
_state: dict[str, Any] = {}


@dataclass(frozen=True)
class Reading:
    text: str
    seconds: float
    cpu: float  # CPU seconds of the worker and the programs it ran (tesseract, ocrmypdf's helpers)


@dataclass(frozen=True)
class Scored:
    page: CorpusPage
    f1: dict[str, float]
    cer: dict[str, float]
    seconds: dict[str, float]
    cpu: dict[str, float]


def _start_worker(engine: str, scratch: str) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    rapidocr = importlib.import_module("rapidocr_onnxruntime")  # untyped: no stubs, no py.typed

    _state["ppocr"] = rapidocr.RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    _state["engine"], _state["scratch"] = engine, Path(scratch)


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _timed(read: Callable[[], str]) -> Reading:
    started, cpu = time.perf_counter(), _cpu()
    text = read()
    return Reading(text, time.perf_counter() - started, _cpu() - cpu)


def _tesseract(page: CorpusPage) -> str:
    import pytesseract

    return str(pytesseract.image_to_string(str(page.image), lang=page.languages))


def _ppocr(page: CorpusPage) -> str:
    """RapidOCR opens a file with Pillow but reads a palette image's indices as grey levels (real-linn.png read
    nothing): such images are handed over as BGR pixels, the order its own loader produces."""
    import numpy as np
    from PIL import Image

    source: str | np.ndarray = str(page.image)
    with Image.open(page.image) as image:
        if image.mode not in ("L", "RGB"):
            source = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    result, _ = _state["ppocr"](source)
    return "\n".join(str(line[1]) for line in result or ())


def _dangan(page: CorpusPage) -> str:
    from ingest.ocr import process
    from ingest.results import OcrRequest

    workdir = _state["scratch"] / f"{page.name}-{os.getpid()}"
    media_type = MEDIA_TYPES[page.path.suffix]
    request = OcrRequest((page.path,), media_type, page.languages, workdir, engine=_state["engine"])
    try:
        return "\n".join(result.text for result in process(request).pages)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read_page(page: CorpusPage) -> dict[str, Reading]:
    return {
        "tesseract": _timed(lambda: _tesseract(page)),
        "ppocr": _timed(lambda: _ppocr(page)),
        "dangan": _timed(lambda: _dangan(page)),
    }


def _warm_up(_: int) -> None:  # loads the models and language data in each worker, outside the timings
    from PIL import Image

    probe = _state["scratch"] / f"warm-{os.getpid()}.png"
    Image.new("L", (200, 60), 255).save(probe)
    _state["ppocr"](str(probe))


def run(pages: list[CorpusPage], engine: str) -> list[Scored]:
    with (
        tempfile.TemporaryDirectory(prefix="dangan-bench-ocr-") as scratch,
        ProcessPoolExecutor(WORKERS, initializer=_start_worker, initargs=(engine, scratch)) as pool,
    ):
        list(pool.map(_warm_up, range(WORKERS)))
        readings = []
        for done, reading in enumerate(pool.map(read_page, pages), start=1):
            readings.append(reading)
            print(f"[{done}/{len(pages)}] {pages[done - 1].name}", file=sys.stderr, flush=True)
    scored = []
    for page, reading in zip(pages, readings, strict=True):
        scored.append(
            Scored(
                page,
                {name: bag_f1(reading[name].text, page.truth) for name in ENGINES},
                {name: cer(reading[name].text, page.truth) for name in ENGINES},
                {name: reading[name].seconds for name in ENGINES},
                {name: reading[name].cpu for name in ENGINES},
            )
        )
    return scored


def _row(label: str, rows: list[Scored]) -> str:
    cells = []
    for name in ENGINES:
        f1 = statistics.mean(row.f1[name] for row in rows) * 100
        error = statistics.mean(row.cer[name] for row in rows) * 100
        seconds = statistics.mean(row.seconds[name] for row in rows)
        cpu = statistics.mean(row.cpu[name] for row in rows)
        cells.append(f"{f1:5.1f} {error:6.1f} {seconds:5.1f} {cpu:5.1f}")
    return f"{label:<32} {len(rows):>3}  " + "  ".join(cells)


def _header(first: str) -> str:
    names = "  ".join(f"{name:^24}" for name in ENGINES)
    units = "  ".join(f"{'F1%':>5} {'CER%':>6} {'s/pg':>5} {'cpu':>5}" for _ in ENGINES)
    return f"{first:<32} {'n':>3}  {names}\n{'':<32} {'':>3}  {units}"


def report(scored: list[Scored], engine: str) -> list[str]:
    lines = [_header("page")]
    lines += [_row(f"{row.page.name}", [row]) for row in scored]
    lines += ["", _header("group")]
    for group in sorted({row.page.group for row in scored}):
        lines.append(_row(group, [row for row in scored if row.page.group == group]))
    lines += ["", _header("degradation")]
    for kind in dict.fromkeys(row.page.degradation for row in scored):
        lines.append(_row(kind, [row for row in scored if row.page.degradation == kind]))
    lines += ["", f"goals (dangan = ingest.ocr.process, engine {engine!r}):"]
    return lines + goals(scored)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def goals(scored: list[Scored]) -> list[str]:
    chinese = [row for row in scored if row.page.group in CHINESE_GROUPS]
    english = [row for row in scored if row.page.group not in CHINESE_GROUPS]
    lines: list[str] = []
    if chinese:
        mean = statistics.mean(row.f1["dangan"] for row in chinese) * 100
        lines.append(f"{_verdict(mean >= 92)} Chinese mean F1 {mean:.1f}% (goal >= 92%; {len(chinese)} pages)")
        gaps = [(max(row.f1["tesseract"], row.f1["ppocr"]) - row.f1["dangan"], row.page.name) for row in chinese]
        lines.append(_worst(gaps, "Chinese pages worse than the better raw engine"))
        ratio = _sum(chinese, "dangan") / _sum(chinese, "tesseract")
        wall = _sum(chinese, "dangan", wall=True) / _sum(chinese, "tesseract", wall=True)
        lines.append(
            f"{_verdict(ratio <= 1.5)} Chinese time {ratio:.2f}x raw tesseract's CPU time per page (goal <= 1.5x; "
            f"wall {wall:.2f}x)"
        )
    if english:
        gaps = [(row.f1["tesseract"] - row.f1["dangan"], row.page.name) for row in english]
        lines.append(_worst(gaps, "English pages worse than raw tesseract"))
        throughput = _sum(english, "tesseract") / _sum(english, "dangan")
        wall = _sum(english, "tesseract", wall=True) / _sum(english, "dangan", wall=True)
        verdict = _verdict(throughput >= 0.9)
        lines.append(
            f"{verdict} English throughput {throughput:.2f}x raw tesseract, by CPU time "
            f"(goal >= 0.90x; wall {wall:.2f}x)"
        )
    return lines


def _worst(gaps: list[tuple[float, str]], what: str) -> str:
    worse = [(gap, name) for gap, name in gaps if gap > 0.01]
    worst_gap, worst_name = max(gaps)
    detail = f"worst {worst_name} {worst_gap * 100:+.1f} points" if gaps else ""
    return f"{_verdict(not worse)} {what} by > 1 point: {len(worse)} of {len(gaps)} ({detail})"


def _sum(rows: Iterable[Scored], engine: str, *, wall: bool = False) -> float:
    """Seconds over `rows`: CPU seconds (steady on a shared machine), or wall-clock seconds."""
    return sum((row.seconds if wall else row.cpu)[engine] for row in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help="rendered pages (3 groups in turn)")
    parser.add_argument("--group", default="", help="comma-separated groups to keep (zh-hans,zh-hant,en,real-en)")
    parser.add_argument("--engine", default=os.environ.get("DANGAN_OCR_ENGINE", "auto"))
    parser.add_argument("--no-real", action="store_true", help="leave out the real scans")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    pages = build(args.cache, args.pages, real=not args.no_real)
    if args.group:
        wanted = set(args.group.split(","))
        pages = [page for page in pages if page.group in wanted]
    if not pages:
        raise SystemExit("no pages in that selection")
    started = time.perf_counter()
    scored = run(pages, args.engine)
    print("\n".join(report(scored, args.engine)))
    real = sum(1 for page in pages if page.group == "real-en")
    print(f"\n{len(pages)} pages ({real} real), {WORKERS} processes, {time.perf_counter() - started:.0f} s wall")


if __name__ == "__main__":
    main()
