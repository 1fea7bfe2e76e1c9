"""The PP-OCR engine and the auto engine on rendered pages with known text: what PP-OCR reads on a Chinese page
(text, line boxes, confidences, the one-page PDF's text layer), that it runs with no network, which languages it
takes, and that auto gives Chinese pages to PP-OCR and English pages to tesseract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from archive.errors import InvalidInput
from archive.models import Page as PageRow
from bench.textmetrics import bag_f1
from ingest.engines import get_engine
from ingest.engines.auto import AutoEngine, is_chinese, probe_crops
from ingest.engines.base import PageImage
from ingest.engines.ppocr import PpocrEngine, check_languages
from ingest.ocr import process
from ingest.results import OcrRequest
from tests.conftest import Cli, make_context
from tests.pages import chinese_page, english_page, render

HAN_SPACE_HAN = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")


def _page(path: Path, work: Path) -> PageImage:
    work.mkdir(parents=True, exist_ok=True)
    return PageImage(image_path=path, source=path, frame=0, number=1, dpi=300, out_base=work / "page-0001")


@pytest.mark.ocr
def test_ppocr_reads_a_rendered_chinese_page_with_boxes_and_a_text_layer(tmp_path: Path) -> None:
    page = chinese_page(tmp_path / "in")
    read = PpocrEngine().read_page(_page(page.path, tmp_path / "work"), languages="chi_sim+eng", timeout_seconds=120)
    assert bag_f1(read.text, page.text) >= 0.9, read.text
    assert not HAN_SPACE_HAN.search(read.text)
    with Image.open(page.path) as image:
        width, height = image.size
    assert read.boxes
    for line in read.boxes:
        left, top, right, bottom = line.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, line
        assert line.confidence is not None and 0 <= line.confidence <= 100
    assert read.confidence is not None and read.confidence >= 80
    layer = subprocess.run(["pdftotext", str(read.pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert all(phrase in layer.replace("\n", "") for phrase in page.phrases), layer
    assert not HAN_SPACE_HAN.search(layer), layer


@pytest.mark.ocr
def test_ppocr_uses_no_network(tmp_path: Path) -> None:
    """The models come from the wheel: with sockets refused, the engine loads and reads a line."""
    page = chinese_page(tmp_path / "in")
    code = (
        "import socket, sys\n"
        "def refuse(*args, **kwargs): raise OSError('network used')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from PIL import Image\n"
        "from ingest.engines.auto import probe_crops\n"
        "from ingest.engines.ppocr import PpocrEngine\n"
        f"crops = probe_crops(Image.open({str(page.path)!r}))\n"
        "print(''.join(text for text, _ in PpocrEngine().recognise_crops(crops)))\n"
    )
    root = Path(__file__).parents[1]
    run = subprocess.run([sys.executable, "-c", code], check=False, cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "档案" in run.stdout, run.stdout


@pytest.mark.ocr
def test_auto_gives_chinese_pages_to_ppocr_and_english_pages_to_tesseract(tmp_path: Path) -> None:
    zh, en = chinese_page(tmp_path / "in"), english_page(tmp_path / "in")
    engine = AutoEngine()
    assert engine.choose(zh.path, "chi_sim+eng") == "ppocr"
    assert engine.choose(en.path, "chi_sim+eng") == "tesseract"
    assert engine.choose(zh.path, "eng") == "tesseract"  # no Chinese asked for: no probe
    assert engine.choose(en.path, "chi_sim") == "ppocr"  # only Chinese asked for
    assert engine.choose(zh.path, "chi_tra+eng") == "tesseract"  # tesseract reads traditional Chinese better
    sources = (zh.path, en.path)
    request = OcrRequest(sources, "image/png", "chi_sim+eng", tmp_path / "work", engine="auto")
    pages = process(request).pages
    assert [page.engine for page in pages] == ["ppocr", "tesseract"]
    assert bag_f1(pages[0].text, zh.text) >= 0.9 and bag_f1(pages[1].text, en.text) >= 0.9


def test_probe_finds_text_lines_and_the_script_rule_counts_characters(tmp_path: Path) -> None:
    zh = chinese_page(tmp_path / "in")
    with Image.open(zh.path) as image:
        crops = probe_crops(image)
        blank = probe_crops(Image.new("L", image.size, 255))
    assert 1 <= len(crops) <= 3 and all(20 <= crop.height <= 150 for crop in crops)
    assert blank == []
    assert is_chinese("档案数字化 ok") and not is_chinese("Retention schedule 档")


def test_ppocr_takes_chinese_and_latin_only() -> None:
    check_languages("chi_sim+chi_tra+eng")
    with pytest.raises(InvalidInput, match=r"deu.*tesseract"):
        check_languages("chi_sim+deu")
    get_engine("ppocr").check_languages("chi_sim")  # naming and checking loads no model


def test_a_batch_or_an_ingest_run_names_its_engine(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's engine wins over DANGAN_OCR_ENGINE (here tesseract, which would read the page itself)."""
    monkeypatch.setenv("DANGAN_OCR_ENGINE", "tesseract")
    refused = cli("ingest", str(tmp_path), "--engine", "paddle", "--json")
    assert refused.exit_code != 0 and "paddle" in refused.stdout + refused.stderr
    page = english_page(tmp_path / "scans")
    made = cli("batch", "create", "--fonds", "A12", "--engine", "null", "--json")
    assert made.exit_code == 0, made.stderr
    assert cli("ingest", str(page.path.parent), "--batch", str(made.json["id"]), "--json").exit_code == 0
    render(tmp_path / "more", "second.png", page.text, "eng", seed=3)  # another scan of the same text
    assert cli("ingest", str(tmp_path / "more"), "--engine", "null", "--json").exit_code == 0
    context = make_context(tmp_path / "var")
    try:
        with context.db.session() as session:
            pages = session.scalars(select(PageRow)).all()
            assert [(row.text, row.measurements["ocr_engine"]) for row in pages] == [(page.text, "null")] * 2
    finally:
        context.close()


@pytest.mark.ocr
@pytest.mark.parametrize("engine", ["ppocr", "auto"])
def test_an_upside_down_chinese_page_is_turned_over_and_read_in_order(tmp_path: Path, engine: str) -> None:
    """PP-OCR's line classifier turns each upside-down line by itself, so the page used to be read with its lines
    in reverse order (bench 006-zh-hans-rotated: F1 81.6%); most lines turned means the page is upside down."""
    page = chinese_page(tmp_path / "in")
    flipped = tmp_path / "in" / "flipped.png"
    with Image.open(page.path) as image:
        image.rotate(180).save(flipped, dpi=(300, 300))
    upright = PpocrEngine().read_page(_page(page.path, tmp_path / "up"), languages="chi_sim", timeout_seconds=120)
    assert not upright.upside_down
    request = OcrRequest((flipped,), "image/png", "chi_sim+eng", tmp_path / "work", engine=engine)
    [read] = process(request).pages
    assert read.engine == "ppocr" and read.rotated_degrees == 180
    assert bag_f1(read.text, page.text) >= 0.9, read.text
    first_line = page.text.strip().splitlines()[0]
    assert read.text.startswith(first_line[:6]), read.text[:40]
