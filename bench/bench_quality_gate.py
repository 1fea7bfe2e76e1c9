"""Is the quality gate right? Precision and recall per detector on labelled pages, and its time per page against
main's measure_page (the reference, loaded from /work/main or DANGAN_REFERENCE_MEASURE, measured in the same run).

Pages: A4 at 300 dpi rendered from the corpus (/work/shared/corpus, Chinese) and the English samples at 10.5, 12
and 14 pt, saved as JPEG (quality 90) and decoded again, so the resolution is read back from the file. Each base
page yields 29 labelled variants:
  clean: as rendered; paper clipped to pure white (office scanners); grey recycled paper (luma ~205); JPEG
    quality 40; Gaussian noise σ 8; blur σ 0.5 and 1.0
  blur (positive): Gaussian blur σ 1.5, 2, 3 px
  exposure (positive): low contrast, over-exposed (ink lifted, paper clipped), under-exposed (paper dark)
  border (positive): a 10 mm black strip down the left edge; an 8 mm strip at the foot starting 1 mm in;
    a wedge (a sheet fed askew) along the right edge.  Negative: a dark printed banner with white text inside
    the page, and a dark table header row
  resolution (positive: below 200 dpi): 96 and 150 dpi; negative: 200 and 300 dpi; each with and without dpi
    metadata (without: the gate estimates from the text size); and a 155 x 170 mm crop (no paper size to go by)
    at 96, 150 and 300 dpi without metadata
  duplicate: a rescan (other noise, skew) of a page (positive pair); a page with other text in the same layout,
    and that page on tinted paper (negative pairs). Judged on hash + colour alone, and with the pages' text
    standing in for OCR text (the gate compares OCR texts when it has them).
Usage: python -m bench.bench_quality_gate [BASE_PAGES]   (default 6; every base page makes 33 pages)
"""

from __future__ import annotations

import importlib.util
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest.quality.duplicates import same_scans
from ingest.quality.gate import evaluate
from ingest.quality.measure import PageMeasurements, measure_page
from ingest.quality.profiles import PROFILES
from ingest.quality.resolution import recorded_dpi
from ingest.samples import ENGLISH_PAGES, SamplePage, find_cjk_font, render_page

CORPUS = Path(os.environ.get("DANGAN_CORPUS", "/work/shared/corpus"))
REFERENCE = Path(os.environ.get("DANGAN_REFERENCE_MEASURE", "/work/main/ingest/quality/measure.py"))
DETECTORS = ("blur", "exposure", "border", "resolution", "duplicate", "duplicate+text")
EXPOSURE_CHECKS = {"too_dark", "too_light", "low_contrast", "clipped"}
GOAL = 0.95
DPI = 300
MM = DPI / 25.4
PROFILE = PROFILES["dat31"]


@dataclass
class Page:
    name: str
    image: Image.Image
    labels: set[str]  # detectors that should fire
    dpi_in_file: bool = True
    true_dpi: int = DPI
    text: str = ""
    quality: int = 90  # JPEG quality it is saved with


@dataclass
class Tally:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, expected: bool, found: bool, name: str) -> None:
        if expected and found:
            self.true_positive += 1
        elif found:
            self.false_positive += 1
            self.misses.append(f"false alarm: {name}")
        elif expected:
            self.false_negative += 1
            self.misses.append(f"missed: {name}")
        else:
            self.true_negative += 1


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted(CORPUS.glob("*.txt")):
        body = "".join(path.read_text(encoding="utf-8").split())
        texts += [body[start : start + 1500] for start in range(0, min(len(body), 6000), 1500)]
    return texts or ["关于加强档案数字化工作的通知。" * 60]


def base_pages(count: int) -> list[tuple[str, str, str, float]]:
    """(name, text, language, font pt): alternating Chinese corpus chunks and English samples."""
    chinese = corpus_texts()
    english = [" ".join(ENGLISH_PAGES[index % 2 :] + ENGLISH_PAGES) * 4 for index in range(2)]
    sizes = (10.5, 12.0, 14.0)
    pages = []
    for number in range(count):
        size = sizes[(number // 2) % len(sizes)]
        if number % 2 == 0:
            pages.append((f"zh{number:02d}", chinese[(number // 2) % len(chinese)], "chi_sim", size))
        else:
            pages.append((f"en{number:02d}", english[(number // 2) % 2], "eng", size))
    return pages


def point(image: Image.Image, function: Callable[[np.ndarray], np.ndarray]) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.clip(function(values), 0, 255).astype(np.uint8))


def noisy(image: Image.Image, sigma: float, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return point(image, lambda values: values + rng.normal(0, sigma, values.shape))


def strip(image: Image.Image, box: tuple[float, float, float, float], fill: int = 14) -> Image.Image:
    out = image.copy()
    ImageDraw.Draw(out).rectangle(tuple(round(value) for value in box), fill=fill)
    return out


def wedge(image: Image.Image) -> Image.Image:
    out = image.copy()
    width, height = out.size
    ImageDraw.Draw(out).polygon([(width, 0), (width - 18 * MM, 0), (width - 4 * MM, height), (width, height)], fill=20)
    return out


def banner(image: Image.Image, top_mm: float, height_mm: float) -> Image.Image:
    """A dark printed bar across the text block with white lettering, `top_mm` below the top edge."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    left, right = 20 * MM, out.width - 20 * MM
    top, bottom = top_mm * MM, (top_mm + height_mm) * MM
    draw.rectangle((round(left), round(top), round(right), round(bottom)), fill=40)
    font = ImageFont.truetype(str(find_cjk_font()), round(height_mm * 0.5 * MM))
    draw.text((round(left + 5 * MM), round(top + height_mm * 0.2 * MM)), "档案管理 ARCHIVE NOTICE", font=font, fill=245)
    return out


def resized(image: Image.Image, dpi: int) -> Image.Image:
    if dpi == DPI:
        return image
    size = (round(image.width * dpi / DPI), round(image.height * dpi / DPI))
    return image.resize(size, Image.Resampling.LANCZOS)


def variants(name: str, clean: Image.Image, text: str, seed: int) -> list[Page]:
    width, height = clean.size
    blur = {sigma: clean.filter(ImageFilter.GaussianBlur(sigma)) for sigma in (0.5, 1.0, 1.5, 2.0, 3.0)}
    pages = [
        Page(f"{name} clean", clean, set(), text=text),
        Page(f"{name} white paper", point(clean, lambda v: np.where(v > 225, 255, v)), set()),
        Page(f"{name} noise σ8", noisy(clean, 8, seed), set()),
        Page(f"{name} recycled grey paper", point(clean, lambda v: v * 0.82), set()),
        Page(f"{name} JPEG quality 40", clean, set(), quality=40),
        *[Page(f"{name} blur σ{s:g}", blur[s], {"blur"} if s >= 1.5 else set()) for s in blur],
        Page(f"{name} low contrast", point(clean, lambda v: 255 - (255 - v) * 0.35), {"exposure"}),
        Page(f"{name} over-exposed", point(clean, lambda v: v + 120), {"exposure"}),
        Page(f"{name} under-exposed", point(clean, lambda v: v * 0.45), {"exposure"}),
        Page(f"{name} left edge strip", strip(clean, (0, 0, 10 * MM, height)), {"border"}),
        Page(f"{name} foot strip 1 mm in", strip(clean, (0, height - 9 * MM, width, height - 1 * MM)), {"border"}),
        Page(f"{name} wedge at right", wedge(clean), {"border"}),
        Page(f"{name} banner inside", banner(clean, 8, 22), set()),
        Page(f"{name} header row", strip(clean, (20 * MM, 60 * MM, width - 20 * MM, 68 * MM), fill=60), set()),
    ]
    for dpi in (96, 150, 200, 300):
        scaled = resized(clean, dpi)
        labels = {"resolution"} if dpi < 200 else set()
        pages.append(Page(f"{name} {dpi} dpi", scaled, labels, True, dpi))
        pages.append(Page(f"{name} {dpi} dpi, none recorded", scaled, labels, False, dpi))
    crop = clean.crop((round(15 * MM), round(15 * MM), width - round(25 * MM), round(170 * MM)))  # not a paper size
    for dpi in (96, 150, 300):
        labels = {"resolution"} if dpi < 200 else set()
        pages.append(Page(f"{name} {dpi} dpi crop, none recorded", resized(crop, dpi), labels, False, dpi))
    return pages


def decoded(page: Page) -> tuple[Image.Image, float | None]:
    """Saved as JPEG (with or without its dpi) and opened again, as the pipeline would read it."""
    buffer = io.BytesIO()
    extra = {"dpi": (page.true_dpi, page.true_dpi)} if page.dpi_in_file else {}
    page.image.save(buffer, format="JPEG", quality=page.quality, **extra)
    buffer.seek(0)
    with Image.open(buffer) as opened:
        opened.load()
        return opened.copy(), recorded_dpi(opened)


def reference_module() -> ModuleType | None:
    if not REFERENCE.exists():
        return None
    spec = importlib.util.spec_from_file_location("reference_measure", REFERENCE)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def detected(measured: PageMeasurements) -> set[str]:
    checks = {finding.check: finding for finding in evaluate(measured, PROFILE, ocr_confidence=None)}
    found = set()
    if "blur" in checks:
        found.add("blur")
    if EXPOSURE_CHECKS & set(checks):
        found.add("exposure")
    if "black_border" in checks:
        found.add("border")
    if "resolution" in checks and checks["resolution"].severity == "fail":
        found.add("resolution")
    return found


def run_pages(pages: list[Page], reference: ModuleType | None, tallies: dict[str, Tally]) -> tuple[list[float], ...]:
    ours: list[float] = []
    theirs: list[float] = []
    estimate_errors: list[float] = []
    for page in pages:
        image, dpi = decoded(page)
        started = time.perf_counter()
        measured = measure_page(image, dpi=dpi)
        ours.append(time.perf_counter() - started)
        if reference is not None:
            started = time.perf_counter()
            reference.measure_page(image, dpi=dpi)
            theirs.append(time.perf_counter() - started)
        found = detected(measured)
        for detector in ("blur", "exposure", "border", "resolution"):
            tallies[detector].add(detector in page.labels, detector in found, page.name)
        if not page.dpi_in_file and measured.estimated_dpi:
            estimate_errors.append(abs(measured.estimated_dpi / page.true_dpi - 1))
    return ours, theirs, estimate_errors


def duplicate_pages(name: str, text: str, language: str, size: float, other: str, seed: int) -> list[Page]:
    """[original, rescan, other text same layout, other text on tinted paper]"""
    page = SamplePage(text, language)
    original = render_page(page, font_pt=size, seed=seed)
    rescan = render_page(page, font_pt=size, seed=seed + 100, skew_degrees=-0.4, noise=0.004)
    different = render_page(SamplePage(other, language), font_pt=size, seed=seed)
    tinted = Image.merge(
        "RGB", [different.point([round(level * k) for level in range(256)]) for k in (1.0, 0.93, 0.78)]
    )
    return [
        Page(f"{name} original", original, set(), text=text),
        Page(f"{name} rescan", rescan, set(), text=text),
        Page(f"{name} other text", different, set(), text=other),
        Page(f"{name} other text, tinted paper", tinted, set(), text=other),
    ]


def run_duplicates(groups: list[list[Page]], tallies: dict[str, Tally]) -> None:
    for group in groups:
        measured = [(page.name, measure_page(decoded(page)[0], dpi=DPI), page.text) for page in group]
        plain = [(key, asdict(values), None) for key, values, _ in measured]
        texted = [(key, asdict(values), text) for key, values, text in measured]
        expected = {(group[0].name, group[1].name)}
        for detector, described in (("duplicate", plain), ("duplicate+text", texted)):
            found = {(a, b) for a, b, _ in same_scans(described, PROFILE)}
            for first in range(len(group)):
                for second in range(first + 1, len(group)):
                    pair = (group[first].name, group[second].name)
                    tallies[detector].add(pair in expected, pair in found, " ~ ".join(pair))


def report(tallies: dict[str, Tally], ours: list[float], theirs: list[float], errors: list[float]) -> None:
    print(
        f"{'detector':<16} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4} {'precision':>10} {'recall':>8}  goal ≥ {GOAL:.0%}"
    )
    for detector in DETECTORS:
        tally = tallies[detector]
        found = tally.true_positive + tally.false_positive
        actual = tally.true_positive + tally.false_negative
        precision = tally.true_positive / found if found else 1.0
        recall = tally.true_positive / actual if actual else 1.0
        verdict = "met" if min(precision, recall) >= GOAL else "NOT MET"
        print(
            f"{detector:<16} {tally.true_positive:4d} {tally.false_positive:4d} {tally.false_negative:4d}"
            f" {tally.true_negative:4d} {precision:10.1%} {recall:8.1%}  {verdict}"
        )
    for detector in DETECTORS:
        for miss in tallies[detector].misses:
            print(f"  {detector}: {miss}")
    if errors:
        typical, worst = statistics.median(errors), max(errors)
        print(f"\nresolution estimated without metadata: median error {typical:.1%}, max {worst:.1%}")
    median = statistics.median(ours) * 1000
    line = f"measure_page median {median:.0f} ms/page over {len(ours)} pages"
    if theirs:
        reference = statistics.median(theirs) * 1000
        line += f"; main's measure_page {reference:.0f} ms: {median / reference:.2f}x the reference"
    print(line)


def main(count: int) -> None:
    tallies = {detector: Tally() for detector in DETECTORS}
    reference = reference_module()
    texts = corpus_texts()
    ours: list[float] = []
    theirs: list[float] = []
    errors: list[float] = []
    groups = []
    for seed, (name, text, language, size) in enumerate(base_pages(count)):
        clean = render_page(SamplePage(text, language), font_pt=size, seed=seed)
        timings = run_pages(variants(name, clean, text, seed), reference, tallies)
        ours, theirs, errors = ours + timings[0], theirs + timings[1], errors + timings[2]
        other = texts[(seed + 3) % len(texts)] if language == "chi_sim" else " ".join(reversed(ENGLISH_PAGES)) * 4
        groups.append(duplicate_pages(name, text, language, size, other, seed))
        print(f"{name} done", file=sys.stderr)
    run_duplicates(groups, tallies)
    report(tallies, ours, theirs, errors)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
