"""Scanned PDF pages are measured as displayed (/Rotate, the image matrix, /UserUnit) and straightened for OCR."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from ingest.geometry.page import measure_geometry
from ingest.geometry.pdfpage import displayed_scans, prepare_for_ocr
from ingest.ocr import process
from ingest.results import OcrRequest
from ingest.samples import ENGLISH_PAGES, SamplePage, render_page
from tests.geometry_pages import straight_page, turned


def scan_pdf(
    path: Path,
    image: Image.Image,
    *,
    rotate: int = 0,
    quarter: bool = False,
    user_unit: float = 1.0,
    dpi: float = 150.0,
) -> Path:
    """A one-page PDF showing a greyscale scan. `quarter`: the image is stored turned 90° clockwise and the
    matrix turns it back; `user_unit`: the page is drawn in units of user_unit/72 inch."""
    stored = image.transpose(Image.Transpose.ROTATE_270) if quarter else image
    width_pt, height_pt = (value / dpi * 72 / user_unit for value in image.size)
    with pikepdf.Pdf.new() as pdf:
        stream = pikepdf.Stream(pdf, zlib.compress(stored.convert("L").tobytes()))
        stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        stream.Width, stream.Height = stored.width, stored.height
        stream.ColorSpace, stream.BitsPerComponent = pikepdf.Name.DeviceGray, 8
        stream.Filter = pikepdf.Name.FlateDecode
        page = pdf.add_blank_page(page_size=(width_pt, height_pt))
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=stream))
        upright = f"{width_pt:g} 0 0 {height_pt:g} 0 0"
        turning = f"0 {height_pt:g} {-width_pt:g} 0 {width_pt:g} 0"  # the stored image's columns run up the page
        matrix = turning if quarter else upright
        page.obj.Contents = pdf.make_stream(f"q {matrix} cm /Im0 Do Q".encode())
        if rotate:
            page.obj.Rotate = rotate
        if user_unit != 1.0:
            page.obj.UserUnit = user_unit
        pdf.save(path)
    return path


def rendered(path: Path, dpi: int) -> Image.Image:
    """The page as poppler's pdftoppm displays it."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(path), str(path)], check=True)
    with Image.open(path.with_name(path.name + ".png")) as image:
        return image.convert("L")


@pytest.mark.parametrize(("rotate", "quarter"), [(0, True), (90, False), (270, True), (180, False)])
def test_the_displayed_image_is_what_a_reader_shows(tmp_path: Path, rotate: int, quarter: bool) -> None:
    page = straight_page("banner", seed=3).reduce(2)
    path = scan_pdf(tmp_path / "page.pdf", page, rotate=rotate, quarter=quarter, dpi=75.0)
    shown, reference = _one(path), rendered(path, 75)
    assert shown.size == reference.size
    ours, theirs = np.asarray(shown, dtype=np.int16), np.asarray(reference, dtype=np.int16)
    difference = float(np.abs(ours - theirs).mean())  # poppler smooths: compare with the page mirrored
    assert difference < 0.5 * float(np.abs(ours[::-1] - theirs).mean())
    assert difference < 0.5 * float(np.abs(ours[:, ::-1] - theirs).mean())


def _one(path: Path) -> Image.Image:
    [scan] = list(displayed_scans(path))
    return scan.image


def test_a_page_matrix_that_turns_the_image_is_applied(tmp_path: Path) -> None:
    page = straight_page("plain", seed=3)
    shown = _one(scan_pdf(tmp_path / "matrix.pdf", page, quarter=True))
    assert np.array_equal(np.asarray(shown), np.asarray(page))


def test_rotate_turns_the_displayed_page_clockwise(tmp_path: Path) -> None:
    page = straight_page("plain", seed=3)
    shown = _one(scan_pdf(tmp_path / "rotate.pdf", page, rotate=90))
    assert np.array_equal(np.asarray(shown), np.asarray(page.transpose(Image.Transpose.ROTATE_270)))
    both = _one(scan_pdf(tmp_path / "both.pdf", page, rotate=270, quarter=True))
    assert np.array_equal(np.asarray(both), np.asarray(page.transpose(Image.Transpose.ROTATE_90)))


def test_user_unit_counts_in_the_resolution(tmp_path: Path) -> None:
    [scan] = list(displayed_scans(scan_pdf(tmp_path / "poster.pdf", straight_page("plain", seed=3), user_unit=10)))
    assert scan.dpi == pytest.approx(150.0, abs=0.5)


def test_a_skewed_scan_is_straightened_and_still_displays_the_same_way(tmp_path: Path) -> None:
    skewed = turned(straight_page("photos", seed=3), 5.0)
    source = scan_pdf(tmp_path / "skewed.pdf", skewed, quarter=True, rotate=180)
    prepared = prepare_for_ocr(source, tmp_path / "prepared.pdf", min_degrees=1.0)
    assert prepared != source
    [before], [after] = list(displayed_scans(source)), list(displayed_scans(prepared))
    assert measure_geometry(before.image).skew.angle == pytest.approx(5.0, abs=0.2)  # upside down: same skew
    assert abs(measure_geometry(after.image).skew.angle) <= 0.3
    assert after.image.size == before.image.size


def test_a_straight_scan_is_left_alone_and_user_unit_is_rescaled(tmp_path: Path) -> None:
    source = scan_pdf(tmp_path / "straight.pdf", straight_page("table", seed=3))
    assert prepare_for_ocr(source, tmp_path / "unchanged.pdf", min_degrees=1.0) == source
    poster = scan_pdf(tmp_path / "poster.pdf", straight_page("table", seed=3), user_unit=10)
    prepared = prepare_for_ocr(poster, tmp_path / "rescaled.pdf", min_degrees=1.0)
    with pikepdf.open(poster) as original, pikepdf.open(prepared) as rescaled:
        assert "/UserUnit" not in rescaled.pages[0].obj
        assert float(rescaled.pages[0].mediabox[2]) == pytest.approx(float(original.pages[0].mediabox[2]) * 10)
    [scan] = list(displayed_scans(prepared))
    assert scan.dpi == pytest.approx(150.0, abs=0.5)


@pytest.mark.ocr
def test_a_user_unit_poster_is_read(tmp_path: Path) -> None:
    """Issue 13: a poster PDF with /UserUnit 10 was stored with the text "ut"."""
    text = " ".join(ENGLISH_PAGES)
    page = render_page(SamplePage(text, "eng"), dpi=200, height_mm=120, skew_degrees=0, seed=4)
    source = scan_pdf(tmp_path / "poster.pdf", page, user_unit=10, dpi=200)
    request = OcrRequest(sources=(source,), media_type="application/pdf", languages="eng", workdir=tmp_path / "w")
    [result] = process(request).pages
    assert "Retention schedule" in result.text
    assert result.measurements["dpi"] == pytest.approx(200.0, abs=1)
