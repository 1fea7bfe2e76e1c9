"""The quality gate's detectors as issue 13 asks them to be: resolution read from every place a file keeps it
(and estimated from the text when it keeps none), blur at a fixed physical scale, borders only at the edges,
no clipping warning for white paper, a no-text check, and duplicates that need the same colour and text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFilter

from ingest.ocr import process
from ingest.pdfa import page_geometry
from ingest.quality.duplicates import same_scans, text_similarity
from ingest.quality.gate import QualityFinding, evaluate, near_duplicate_findings
from ingest.quality.measure import PageMeasurements, measure_page
from ingest.quality.profiles import PROFILES
from ingest.quality.resolution import estimate_dpi, recorded_dpi
from ingest.results import OcrRequest
from ingest.samples import ENGLISH_PAGES, SamplePage, render_page
from tests.pages import CHINESE_TEXT

DAT31 = PROFILES["dat31"]
MM = 300 / 25.4
ENGLISH = SamplePage(" ".join(ENGLISH_PAGES * 3), "eng")
CHINESE = SamplePage(CHINESE_TEXT * 4, "chi_sim")


def checks(measured: PageMeasurements, **kwargs: object) -> dict[str, QualityFinding]:
    options: dict[str, object] = {"ocr_confidence": 90.0} | kwargs
    return {f.check: f for f in evaluate(measured, DAT31, **options)}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_page(ENGLISH, seed=11, height_mm=150)


@pytest.fixture(scope="module")
def chinese() -> Image.Image:
    return render_page(CHINESE, seed=12)


def reopen(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy() if path.suffix != ".tif" else image


def test_96_dpi_jpeg_fails(page: Image.Image, tmp_path: Path) -> None:
    """Issue 13: a 96-dpi JPEG was reported as recording no resolution and only warned."""
    small = page.resize((round(page.width * 96 / 300), round(page.height * 96 / 300)), Image.Resampling.LANCZOS)
    small.save(tmp_path / "p.jpg", quality=90, dpi=(96, 96))
    with Image.open(tmp_path / "p.jpg") as opened:
        assert recorded_dpi(opened) == 96
        finding = checks(measure_page(opened, dpi=recorded_dpi(opened)))["resolution"]
    assert (finding.severity, finding.measured, finding.threshold) == ("fail", 96, 200)
    assert "estimated" not in finding.message


def test_resolution_is_read_from_exif_tiff_and_png(page: Image.Image, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[282], exif[283], exif[296] = 59.0, 59.0, 3  # dots per centimetre: 150 dpi, JFIF says aspect only
    page.save(tmp_path / "exif.jpg", exif=exif.tobytes())
    page.save(tmp_path / "page.tif", dpi=(200, 200))
    page.save(tmp_path / "page.png", dpi=(400, 400))
    page.save(tmp_path / "none.png")
    with Image.open(tmp_path / "exif.jpg") as exif_jpeg, Image.open(tmp_path / "page.tif") as tiff:
        assert recorded_dpi(exif_jpeg) == pytest.approx(149.9, abs=0.2)
        assert recorded_dpi(tiff) == 200
    with Image.open(tmp_path / "page.png") as png, Image.open(tmp_path / "none.png") as none:
        assert recorded_dpi(png) == pytest.approx(400, abs=0.1)
        assert recorded_dpi(none) is None
    placeholder = Image.new("L", (2480, 3508), 250)
    placeholder.info["dpi"] = (72, 72)  # a software default on a 300-dpi A4 scan: 34 x 49 inches at 72 dpi
    assert recorded_dpi(placeholder) is None


@pytest.mark.parametrize("dpi", [150, 300])
def test_missing_resolution_is_estimated_from_the_text(chinese: Image.Image, dpi: int) -> None:
    """A crop that is no paper size: the text lines alone give the figure, and the finding says it is estimated."""
    crop = chinese.crop((round(15 * MM), round(15 * MM), chinese.width - round(25 * MM), round(170 * MM)))
    scaled = crop.resize((round(crop.width * dpi / 300), round(crop.height * dpi / 300)), Image.Resampling.LANCZOS)
    measured = measure_page(scaled, dpi=None)
    assert measured.dpi is None and measured.estimated_dpi == pytest.approx(dpi, rel=0.2)
    finding = checks(measured)["resolution"]
    assert "estimated" in finding.message and finding.measured == measured.estimated_dpi
    assert finding.severity == ("fail" if dpi < 200 else "warn")


def test_estimate_prefers_a_paper_size_that_agrees_with_the_text() -> None:
    assert estimate_dpi(47.5, (2480, 3508)) == 300  # 12 pt lines on an A4 sheet
    assert estimate_dpi(40.0, (2480, 3508)) == 300  # 10.5 pt: still A4 at 300 dpi
    assert estimate_dpi(47.5, (1000, 1000)) == 300  # no paper size: the text alone, to a common resolution
    assert estimate_dpi(None, (2480, 3508)) is None


def test_engine_is_given_the_estimate(chinese: Image.Image, tmp_path: Path) -> None:
    small = chinese.resize((chinese.width // 2, chinese.height // 2), Image.Resampling.LANCZOS)
    small.save(tmp_path / "scan.png")  # 150 dpi, no resolution recorded
    request = OcrRequest((tmp_path / "scan.png",), "image/png", "chi_sim", tmp_path / "work", engine="null")
    done = process(request)
    [result] = done.pages
    assert result.dpi is None and result.measurements["estimated_dpi"] == 150
    assert {(f.check, f.severity) for f in result.findings} >= {("resolution", "fail")}
    assert page_geometry(done.pdfa_path)[0][2] == pytest.approx(150, abs=1)  # the engine laid it out at 150 dpi


def test_pdf_resolution_counts_the_displayed_size(page: Image.Image, tmp_path: Path) -> None:
    page.save(tmp_path / "scan.pdf", resolution=300)
    assert page_geometry(tmp_path / "scan.pdf")[0][2] == pytest.approx(300, abs=1)
    with pikepdf.open(tmp_path / "scan.pdf", allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj["/UserUnit"] = 2.0  # each point is 2/72 inch: the page is twice as large
        pdf.pages[0].obj["/Rotate"] = 90
        pdf.save(tmp_path / "scan.pdf")
    assert page_geometry(tmp_path / "scan.pdf")[0][2] == pytest.approx(150, abs=1)


def test_blur_is_judged_at_a_physical_scale(page: Image.Image) -> None:
    """σ 1.5 px at 300 dpi is the same blur as σ 3 px at 600 dpi; speckle and sensor noise do not hide it."""
    top = page.crop((0, 0, page.width, page.height // 2))
    at_600 = top.resize((top.width * 2, top.height * 2), Image.Resampling.BICUBIC)
    sharp = measure_page(at_600, dpi=600)
    blurred = measure_page(at_600.filter(ImageFilter.GaussianBlur(3.0)), dpi=600)
    assert "blur" not in checks(sharp) and checks(blurred)["blur"].severity == "warn"
    values = np.asarray(page.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float64)
    noisy = values + np.random.default_rng(3).normal(0, 8, values.shape)
    measured = measure_page(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)), dpi=300)
    assert "blur" in checks(measured)


def test_clean_office_paper_raises_nothing(page: Image.Image, chinese: Image.Image) -> None:
    for clean in (page, chinese):
        white = clean.point(lambda value: 255 if value > 225 else value)  # scanner clips the paper to white
        noisy = np.asarray(clean, dtype=np.float64) + np.random.default_rng(5).normal(0, 8, (clean.height, clean.width))
        for image in (clean, white, Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))):
            measured = measure_page(image, dpi=300)
            assert checks(measured, ocr_text="text " * 20) == {}, measured


def test_over_exposed_page_is_clipped(page: Image.Image) -> None:
    measured = measure_page(page.point(lambda value: min(255, value + 120)), dpi=300)
    assert measured.clipped_light_fraction > 0.6 and "clipped" in checks(measured)


def test_black_strips_at_the_edges_are_borders_and_banners_inside_are_not(page: Image.Image) -> None:
    edge = page.copy()
    draw = ImageDraw.Draw(edge)
    draw.rectangle((round(1 * MM), 0, round(9 * MM), edge.height), fill=25)  # 8 mm, 1 mm in from the left edge
    measured = measure_page(edge, dpi=300)
    assert measured.border_fraction == pytest.approx(9 / 210, abs=0.006)
    assert set(checks(measured)) == {"black_border"}
    inside = page.copy()
    draw = ImageDraw.Draw(inside)
    draw.rectangle((round(20 * MM), round(8 * MM), inside.width - round(20 * MM), round(30 * MM)), fill=30)
    draw.text((round(30 * MM), round(12 * MM)), "ARCHIVE NOTICE", fill=245)
    draw.rectangle((round(20 * MM), round(100 * MM), inside.width - round(20 * MM), round(108 * MM)), fill=60)
    measured = measure_page(inside, dpi=300)
    assert measured.border_fraction == 0.0 and "black_border" not in checks(measured)


def test_no_text_where_there_is_ink(page: Image.Image) -> None:
    measured = measure_page(page, dpi=300)
    finding = checks(measured, ocr_text=" | . ")["no_text"]
    assert (finding.severity, finding.measured) == ("warn", 0.0) and "characters" in finding.message
    assert "no_text" not in checks(measured, ocr_text=ENGLISH_PAGES[0])
    assert "no_text" not in checks(measured)  # no OCR pass (sidecar text, existing text layer): not judged
    blank = dataclasses.replace(measured, ink_ratio=0.0001, blank=True)
    assert "no_text" not in checks(blank, ocr_text="")


def test_duplicates_need_the_same_colour_and_text(page: Image.Image) -> None:
    original = measure_page(page, dpi=300)
    rescan = measure_page(render_page(ENGLISH, seed=40, height_mm=150, noise=0.004, skew_degrees=-0.3), dpi=300)
    cream = Image.merge("RGB", [page.point([round(v * k) for v in range(256)]) for k in (1.0, 0.93, 0.78)])
    tinted = measure_page(cream, dpi=300)
    assert original.colour[:2] == original.colour[2:4] and tinted.colour != original.colour
    assert [key for key, _ in near_duplicate_findings([(1, original), (2, rescan)], DAT31)] == [2]
    assert near_duplicate_findings([(1, original), (2, tinted)], DAT31) == []  # the hash alone: distance ~0
    other_text = "Minutes of the building committee. " * 10
    texts = {1: ENGLISH.text, 2: other_text}
    assert near_duplicate_findings([(1, original), (2, rescan)], DAT31, texts) == []
    stored = [("a", dataclasses.asdict(original), ENGLISH.text), ("b", dataclasses.asdict(rescan), ENGLISH.text)]
    assert [(a, b) for a, b, _ in same_scans(stored, DAT31)] == [("a", "b")]
    assert text_similarity(ENGLISH.text, ENGLISH.text.upper()) == 1.0
    assert text_similarity(ENGLISH.text, other_text) < 0.5
