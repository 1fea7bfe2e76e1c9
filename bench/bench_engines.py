"""OCR engines side by side: tesseract, PP-OCR and auto on rendered A4 pages at 300 dpi with known text.

Chinese pages come from ../shared/corpus (simplified and traditional management documents, pinyin glosses
stripped), English pages from the licence texts in /usr/share/common-licenses. Each engine reads each page
through its `read_page` (text, boxes, one-page PDF), one thread per process; auto's figures are its script
probe, measured, plus the read of the engine it chose (the same call, not repeated). Printed per page and per
group: bag-of-bigrams F1 (bigrams of Han runs; lower-cased words otherwise), CER, wall and CPU seconds (this
process plus its children, as tesseract runs as a child; on a shared machine CPU seconds are the steadier
figure), and the time ratios against tesseract in the same run.

    PYTHONPATH=. nice -n 10 python -m bench.bench_engines [CHINESE_PAGES] [ENGLISH_PAGES] [THREADS]
"""

from __future__ import annotations

import re
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.textmetrics import bag_f1, cer
from ingest.engines import get_engine
from ingest.engines.auto import AutoEngine
from ingest.engines.base import EngineOptions, OcrEngine, PageImage
from ingest.samples import SamplePage, render_page_with_text

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LICENCES = Path("/usr/share/common-licenses")
ENGLISH_SOURCES = ("GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-2.1", "GFDL-1.3")
ENGINE_NAMES = ("tesseract", "ppocr", "auto")
LANGUAGES = "chi_sim+eng"
_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


@dataclass(frozen=True)
class BenchPage:
    name: str
    group: str  # "zh" or "en"
    path: Path
    truth: str


def chinese_texts(count: int) -> list[tuple[str, str]]:
    """(name, text) chunks of ~1,100 characters, taken in turn from each corpus file."""
    files = sorted(CORPUS.glob("*.txt"))
    cleaned = [re.sub(r"\s+", "", _GLOSS.sub("", path.read_text(encoding="utf-8"))) for path in files]
    chunks: list[tuple[str, str]] = []
    for index in range(count):
        text = cleaned[index % len(files)]
        start = 400 + (index // len(files)) * 1500  # past the web copy's boilerplate head
        chunks.append((f"zh-{files[index % len(files)].stem[:3]}-{index // len(files)}", text[start : start + 1100]))
    return chunks


def english_texts(count: int) -> list[tuple[str, str]]:
    texts = []
    for name in ENGLISH_SOURCES[:count]:
        words = (LICENCES / name).read_text(encoding="utf-8").split()
        texts.append((f"en-{name.replace('.', '')}", " ".join(words[200:900])))  # no dots: out_base suffixes
    return texts


def render_pages(folder: Path, chinese: int, english: int) -> list[BenchPage]:
    pages = []
    for seed, (name, text, group) in enumerate(
        [(n, t, "zh") for n, t in chinese_texts(chinese)] + [(n, t, "en") for n, t in english_texts(english)]
    ):
        language = "chi_sim" if group == "zh" else "eng"
        image, drawn = render_page_with_text(SamplePage(text, language), seed=seed)
        path = folder / f"{name}.png"
        image.save(path, dpi=(300, 300))
        pages.append(BenchPage(name, group, path, drawn))
    return pages


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def read(engine: OcrEngine, page: BenchPage, work: Path) -> tuple[str, str, float, float]:
    """(text, engine that read it, wall seconds, CPU seconds)."""
    image = PageImage(page.path, page.path, 0, 1, 300, work / f"{engine.name}-{page.name}")
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = engine.read_page(image, languages=LANGUAGES, timeout_seconds=600)
    return result.text, result.engine or engine.name, time.perf_counter() - wall, cpu_seconds() - cpu


def main(chinese: int = 10, english: int = 5, threads: int = 1) -> None:
    options = EngineOptions(threads=threads)
    engines = {name: get_engine(name, options) for name in ("tesseract", "ppocr")}
    auto = AutoEngine(options)
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as scratch:
        work = Path(scratch)
        pages = render_pages(work, chinese, english)
        for engine in engines.values():
            read(engine, pages[0], work)  # models loaded, caches warm: not counted
        rows: dict[tuple[str, str], Row] = {}
        print(f"{'page':<18}" + "".join(f"{name:>36}" for name in ENGINE_NAMES))
        for page in pages:
            for name, engine in engines.items():
                text, _, wall, cpu = read(engine, page, work)
                rows[(page.name, name)] = Row(bag_f1(text, page.truth), cer(text, page.truth), wall, cpu, name)
            wall, cpu = time.perf_counter(), cpu_seconds()
            chosen = auto.choose(page.path, LANGUAGES)  # auto = this probe + the chosen engine's read
            probe_wall, probe_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            picked = rows[(page.name, chosen)]
            rows[(page.name, "auto")] = Row(
                picked.f1, picked.cer, picked.wall + probe_wall, picked.cpu + probe_cpu, chosen
            )
            cells = [rows[(page.name, name)].cell() for name in ENGINE_NAMES]
            print(f"{page.name:<18}" + "".join(f"{cell:>36}" for cell in cells), flush=True)
        summarise(pages, rows)


@dataclass(frozen=True)
class Row:
    f1: float
    cer: float
    wall: float
    cpu: float
    engine: str  # that read the page

    def cell(self) -> str:
        return f"F1 {self.f1:6.1%} CER {self.cer:6.1%} {self.wall:5.1f}s {self.cpu:5.1f}cpu {self.engine[:2]}"


def summarise(pages: list[BenchPage], rows: dict[tuple[str, str], Row]) -> None:
    print(f"\nthreads per process: ONNX Runtime intra-op as given, tesseract OMP_THREAD_LIMIT=1; languages {LANGUAGES}")
    for group in ("zh", "en"):
        names = [page.name for page in pages if page.group == group]
        if not names:
            continue
        base_wall = sum(rows[(n, "tesseract")].wall for n in names)
        base_cpu = sum(rows[(n, "tesseract")].cpu for n in names)
        for engine in ENGINE_NAMES:
            f1s = [rows[(n, engine)].f1 for n in names]
            wall = sum(rows[(n, engine)].wall for n in names)
            cpu = sum(rows[(n, engine)].cpu for n in names)
            picked = Counter(rows[(n, engine)].engine for n in names)
            print(
                f"{group} {engine:<10} mean F1 {sum(f1s) / len(f1s):6.1%}  min {min(f1s):6.1%}  "
                f"{wall / len(names):5.2f} s/page ({wall / base_wall:4.2f}x tesseract)  "
                f"{cpu / len(names):5.2f} cpu-s/page ({cpu / base_cpu:4.2f}x)  read by {dict(picked)}"
            )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
