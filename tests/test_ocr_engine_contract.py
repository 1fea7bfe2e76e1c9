"""One contract suite for every OCR engine in the registry (house rule 10): the same item, the same checks.

Each engine reads rendered pages with known text and a sidecar beside them; what differs is only how close the
text must come: the null engine gives the sidecar back exactly, a real engine must recognise the page's phrases."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from api.wiring import build_context
from archive.errors import ConfigurationError
from ingest.engines import ENGINES, get_engine
from ingest.ocr import process
from ingest.results import OcrRequest, OcrResult
from storage_config.settings import Settings
from tests.pages import ENGLISH_PHRASES, ENGLISH_TEXT, render

SECOND_TEXT = "Accession register of the county archives. Transfer lists are checked against the boxes received."
SECOND_PHRASES = ("accession register", "transfer lists")


def _exact(got: str, written: str, phrases: tuple[str, ...]) -> bool:
    return got == written


def _recognised(got: str, written: str, phrases: tuple[str, ...]) -> bool:
    return all(phrase in got.lower() for phrase in phrases)


TEXT_CHECKS: dict[str, Callable[[str, str, tuple[str, ...]], bool]] = {
    "null": _exact,
    "tesseract": _recognised,
    "ppocr": _recognised,
    "auto": _recognised,
}
# What each engine marks its image pages with; auto reads these English pages with tesseract.
PAGE_ENGINES = {"null": "null", "tesseract": "tesseract", "ppocr": "ppocr", "auto": "tesseract"}
ENGINE_PARAMS = [pytest.param(name, marks=[] if name == "null" else [pytest.mark.ocr]) for name in sorted(ENGINES)]


def _request(engine: str, sources: tuple[Path, ...], media_type: str, workdir: Path) -> OcrRequest:
    return OcrRequest(sources=sources, media_type=media_type, languages="eng", workdir=workdir, engine=engine)


def _assert_access_copy(result: OcrResult, pages: int) -> None:
    """A PDF/A-2b with one page per source page, as the pipeline's PDF/A step wrote and validated it."""
    with pikepdf.open(result.pdfa_path) as pdf, pdf.open_metadata() as meta:
        assert str(meta.get("pdfaid:part")) == "2"
        assert str(meta.get("pdfaid:conformance")).upper() == "B"
        assert len(pdf.pages) == pages


def _assert_page_contract(result: OcrResult, count: int) -> None:
    assert [page.number for page in result.pages] == list(range(1, count + 1))
    for page in result.pages:
        assert isinstance(page.text, str)
        assert page.confidence is None or 0 <= page.confidence <= 100
        assert page.width_px > 0 and page.height_px > 0
    pickle.loads(pickle.dumps(result))  # it crosses the worker-process boundary


def test_every_engine_has_a_text_check() -> None:
    assert set(TEXT_CHECKS) == set(ENGINES)


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_one_image_page(engine: str, tmp_path: Path) -> None:
    page = render(tmp_path / "in", "schedule.png", ENGLISH_TEXT, "eng", seed=8)
    request = _request(engine, (page,), "image/png", tmp_path / "work")
    pickle.loads(pickle.dumps(request))
    result = process(request)
    _assert_page_contract(result, 1)
    [only] = result.pages
    assert TEXT_CHECKS[engine](only.text, ENGLISH_TEXT, ENGLISH_PHRASES), only.text
    assert only.measurements["dpi"] == 300  # the quality gate measured the page
    assert only.text_source in {"ocr", "sidecar"}
    assert only.engine == PAGE_ENGINES[engine]
    _assert_access_copy(result, 1)


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_multi_page_tiff_gives_a_page_each(engine: str, tmp_path: Path) -> None:
    first = render(tmp_path / "img", "first.png", ENGLISH_TEXT, "eng", seed=8)
    second = render(tmp_path / "img", "second.png", SECOND_TEXT, "eng", seed=9)
    tiff = tmp_path / "in" / "register.tif"
    tiff.parent.mkdir()
    with Image.open(first) as one, Image.open(second) as two:
        one.save(tiff, save_all=True, append_images=[two], dpi=(300, 300), compression="tiff_lzw")
    tiff.with_suffix(".txt").write_text(f"{ENGLISH_TEXT}\n\f{SECOND_TEXT}\n", encoding="utf-8")
    result = process(_request(engine, (tiff,), "image/tiff", tmp_path / "work"))
    _assert_page_contract(result, 2)
    texts = [page.text for page in result.pages]
    assert TEXT_CHECKS[engine](texts[0], ENGLISH_TEXT, ENGLISH_PHRASES), texts[0]
    assert TEXT_CHECKS[engine](texts[1], SECOND_TEXT, SECOND_PHRASES), texts[1]
    _assert_access_copy(result, 2)


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_scanned_pdf_gives_a_page_each(engine: str, tmp_path: Path) -> None:
    first = render(tmp_path / "img", "first.png", ENGLISH_TEXT, "eng", seed=8)
    second = render(tmp_path / "img", "second.png", SECOND_TEXT, "eng", seed=9)
    pdf = tmp_path / "in" / "scanned.pdf"
    pdf.parent.mkdir()
    with Image.open(first) as one, Image.open(second) as two:
        one.convert("L").save(pdf, save_all=True, append_images=[two.convert("L")], resolution=300.0)
    pdf.with_suffix(".txt").write_text(f"{ENGLISH_TEXT}\f{SECOND_TEXT}", encoding="utf-8")
    result = process(_request(engine, (pdf,), "application/pdf", tmp_path / "work"))
    _assert_page_contract(result, 2)
    texts = [page.text for page in result.pages]
    assert TEXT_CHECKS[engine](texts[0], ENGLISH_TEXT, ENGLISH_PHRASES), texts[0]
    assert TEXT_CHECKS[engine](texts[1], SECOND_TEXT, SECOND_PHRASES), texts[1]
    assert all(page.measurements for page in result.pages)  # scanned pages are judged as scans
    _assert_access_copy(result, 2)


@pytest.mark.parametrize("engine", ENGINE_PARAMS)
def test_languages_are_checked_by_the_engine(engine: str) -> None:
    get_engine(engine).check_languages("eng")  # installed (tesseract) or not needed (null): no error


def test_null_engine_without_a_sidecar_gives_empty_text_marked_none(tmp_path: Path) -> None:
    page = render(tmp_path / "in", "schedule.png", ENGLISH_TEXT, "eng", seed=8)
    page.with_suffix(".txt").unlink()
    result = process(_request("null", (page,), "image/png", tmp_path / "work"))
    [only] = result.pages
    assert (only.text, only.text_source, only.confidence) == ("", "none", None)
    _assert_access_copy(result, 1)


def test_naming_engines_loads_no_ocr_library() -> None:
    loaded = "any(name in sys.modules for name in ('pytesseract', 'PIL', 'rapidocr_onnxruntime', 'onnxruntime'))"
    code = f"import sys, ingest.engines; sys.exit(int({loaded}))"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1], check=False).returncode == 0


def test_an_unknown_engine_is_a_configuration_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"DANGAN_OCR_ENGINE='paddle'.*tesseract") as raised:
        build_context(Settings(home=tmp_path / "var", ocr_engine="paddle"))
    assert raised.value.exit_code == 12
    assert not (tmp_path / "var").exists()  # refused before anything is made
