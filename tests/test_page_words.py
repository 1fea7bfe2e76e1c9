"""Word boxes for highlighting on the page image: real OCR (tesseract and PP-OCR) of pages drawn with known text at
known places, the boxes kept at ingest, the route answering the query's terms' boxes where the words were drawn,
on a straightened page too (checked on the display image the viewer shows), under the record's own rule."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select, update

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.review import ReviewService
from api.runners.local import ocr_in_child
from api.wiring import Context
from archive.models import AuditEvent, Page
from ingest.samples import find_cjk_font
from tests.actors import ARCHIVIST, bearer
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.workflow_helpers import file_batch

pytestmark = pytest.mark.ocr

DPI = 300
SIZE = (2480, 827)  # a 70 mm strip of an A4 page at 300 dpi
MARGIN = 236
ENGLISH = ("Payroll registers are kept for ten years.", "Retention schedule for personnel files.")
CHINESE = ("关于加强档案数字化工作的通知", "各部门要做好纸质档案的整理")
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Drawn:
    path: Path
    word: str
    box: Box  # where `word` was drawn: fractions of the page


def draw_page(path: Path, lines: tuple[str, ...], word: str, *, skew: float = 0.0) -> Drawn:
    """`lines` drawn at 14 pt from the margin; the ink box of `word` (in the first line) as fractions."""
    font = ImageFont.truetype(str(find_cjk_font()), round(14 / 72 * DPI))
    image = Image.new("L", SIZE, 250)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + index * round(font.size * 1.6)), line, font=font, fill=20)
    prefix = lines[0][: lines[0].index(word)]
    left, top, right, bottom = draw.textbbox((MARGIN + font.getlength(prefix), MARGIN), word, font=font)
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=250)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, dpi=(DPI, DPI))
    return Drawn(path, word, (left / SIZE[0], top / SIZE[1], right / SIZE[0], bottom / SIZE[1]))


@dataclass
class Archive:
    context: Context
    client: TestClient
    ids: dict[str, int]
    drawn: dict[str, Drawn]
    staff: dict[str, str]
    admin: dict[str, str]


def _ingest(context: Context, page: Path, *, box: str, engine: str, languages: str, level: str, filed: bool) -> int:
    batch = (
        BatchService(context)
        .create(actor=ARCHIVIST, fonds="W1", series="S1", box=box, level=level, engine=engine, languages=languages)
        .id
    )
    run = ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch)
    assert [job.state for job in run.jobs] == ["done"], run
    if filed:
        file_batch(context, batch)
    [document_id] = [int(job.document_id) for job in run.jobs if job.document_id is not None]
    return document_id


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    root = tmp_path_factory.mktemp("words")
    context = make_context(root / "var", ocr_engine="tesseract")
    drawn = {  # second lines differ: the same scan twice would be refused as already archived
        "en": draw_page(root / "en.png", ENGLISH, "registers"),
        "zh-tesseract": draw_page(root / "zt.png", CHINESE, "档案数字化"),
        "zh-ppocr": draw_page(root / "zp.png", (CHINESE[0], "数字化成果经质量检查合格"), "档案数字化"),
        "skewed": draw_page(root / "sk.png", (ENGLISH[0], "Minutes of the building committee."), "registers", skew=3.0),
        "secret": draw_page(root / "se.png", (ENGLISH[0], "Closed box of deeds."), "registers"),
        "rescan": draw_page(root / "re.png", (ENGLISH[0], "Survey of the north quarter."), "registers"),
        "pdf": draw_page(root / "pdf.png", (ENGLISH[0], "Land registry volumes."), "registers"),
    }
    with Image.open(drawn["pdf"].path) as scanned:  # a scanned PDF: its page is read like an image page
        scanned.save(root / "scan.pdf", resolution=DPI)
    drawn["pdf"] = Drawn(root / "scan.pdf", drawn["pdf"].word, drawn["pdf"].box)
    plan = {
        "en": ("B1", "tesseract", "eng", "public", True),
        "zh-tesseract": ("B2", "tesseract", "chi_sim", "public", True),
        "zh-ppocr": ("B3", "ppocr", "chi_sim", "public", True),
        "skewed": ("B4", "tesseract", "eng", "public", True),
        "secret": ("B5", "tesseract", "eng", "secret", True),
        "rescan": ("B6", "tesseract", "eng", "public", False),
        "pdf": ("B7", "tesseract", "eng", "public", True),
    }
    ids = {
        name: _ingest(context, drawn[name].path, box=box, engine=engine, languages=langs, level=level, filed=filed)
        for name, (box, engine, langs, level, filed) in plan.items()
    }
    staff = bearer(context, "reader", ["staff"], clearance="internal")
    admin = bearer(context, "sysadmin")
    with TestClient(create_app(context)) as client:
        yield Archive(context, client, ids, drawn, staff, admin)
    context.close()


def _words(archive: Archive, name: str, query: str | None, headers: dict[str, str] | None = None) -> list[dict]:  # type: ignore[type-arg]
    params = {} if query is None else {"q": query}
    response = archive.client.get(
        f"/api/v1/documents/{archive.ids[name]}/pages/1/words", params=params, headers=headers or archive.staff
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["page"] == 1 and body["document_id"] == archive.ids[name] and body["query"] == query
    boxes: list[dict] = body["boxes"]  # type: ignore[type-arg]
    return boxes


def _overlap(found: Box, drawn: Box) -> float:
    """Intersection over union of two boxes."""
    left, top = max(found[0], drawn[0]), max(found[1], drawn[1])
    right, bottom = min(found[2], drawn[2]), min(found[3], drawn[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = (found[2] - found[0]) * (found[3] - found[1]) + (drawn[2] - drawn[0]) * (drawn[3] - drawn[1]) - inter
    return inter / union if union else 0.0


@pytest.mark.parametrize(
    ("name", "query"),
    [("en", "REGISTERS"), ("zh-tesseract", "档案数字化"), ("zh-ppocr", "档案数字化"), ("pdf", "registers")],
)
def test_a_query_term_box_is_where_the_word_was_drawn(archive: Archive, name: str, query: str) -> None:
    drawn = archive.drawn[name]
    hits = _words(archive, name, query)
    assert hits, f"{name}: no box for {query!r}; all boxes: {_words(archive, name, None)}"
    best = max(hits, key=lambda hit: _overlap(tuple(hit["box"]), drawn.box))
    found: Box = tuple(best["box"])  # type: ignore[assignment]
    assert all(0.0 <= value <= 1.0 for value in found) and found[0] < found[2] and found[1] < found[3]
    assert _overlap(found, drawn.box) > 0.5, (found, drawn.box, hits)
    centre = ((found[0] + found[2]) / 2, (found[1] + found[3]) / 2)
    expected = ((drawn.box[0] + drawn.box[2]) / 2, (drawn.box[1] + drawn.box[3]) / 2)
    assert abs(centre[0] - expected[0]) < 0.01 and abs(centre[1] - expected[1]) < 0.02, (found, drawn.box)
    assert drawn.word.lower() in best["text"].lower() or best["text"] in drawn.word


def test_without_a_query_every_box_and_unmatched_terms_none(archive: Archive) -> None:
    every = _words(archive, "en", None)
    texts = " ".join(hit["text"] for hit in every).lower()
    assert {"payroll", "registers", "retention", "personnel"} <= set(texts.replace(".", "").split())
    assert _words(archive, "en", "elephant") == []
    assert _words(archive, "en", "AND") == []  # search syntax alone has no terms
    kept = _words(archive, "en", "kept AND register")  # stems match as in search: "register" finds "registers"
    assert sorted(hit["text"].lower() for hit in kept) == ["kept", "registers"]
    chinese = _words(archive, "zh-ppocr", "质量")
    assert [hit["text"] for hit in chinese] == ["质量"]
    line = _words(archive, "zh-ppocr", None)
    assert len(chinese[0]["box"]) == 4 and any("质量" in hit["text"] for hit in line)


def test_a_straightened_pages_box_lands_on_the_word_in_the_display_image(archive: Archive) -> None:
    document = archive.ids["skewed"]
    with archive.context.db.read() as session:
        measured = session.scalars(select(Page.measurements).where(Page.document_id == document)).one()
    assert abs(float(measured["skew_degrees"])) > 2 and abs(float(measured["skew_after_degrees"])) < 1
    [hit] = _words(archive, "skewed", "registers")
    image = archive.client.get(f"/api/v1/documents/{document}/pages/1/image", headers=archive.staff)
    assert image.status_code == 200
    display = Image.open(io.BytesIO(image.content)).convert("L")
    width, height = display.size
    left, top, right, bottom = hit["box"]
    region = display.crop((round(left * width), round(top * height), round(right * width), round(bottom * height)))
    assert _inked(region) > 0.08, hit  # dark strokes of the word fill the box
    below = display.crop((round(left * width), round(0.85 * height), round(right * width), round(0.95 * height)))
    assert _inked(below) < 0.01  # and the blank paper under the text does not


def _inked(region: Image.Image) -> float:
    pixels = list(region.getdata())
    return sum(1 for value in pixels if value < 128) / max(1, len(pixels))


def test_hidden_records_answer_like_missing_ones_and_reads_are_logged(archive: Archive) -> None:
    secret = archive.ids["secret"]
    hidden = archive.client.get(f"/api/v1/documents/{secret}/pages/1/words?q=payroll", headers=archive.staff)
    missing = archive.client.get("/api/v1/documents/999999/pages/1/words?q=payroll", headers=archive.staff)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "not_found"
    assert hidden.json()["message"] == f"document {secret} does not exist"
    no_page = archive.client.get(f"/api/v1/documents/{archive.ids['en']}/pages/3/words", headers=archive.staff)
    assert no_page.status_code == 404 and "has no page 3" in no_page.json()["message"]
    assert [hit["text"] for hit in _words(archive, "secret", "payroll", archive.admin)] == ["Payroll"]
    with archive.context.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.target == f"document:{secret}", AuditEvent.action == "document.view")
        ).all()
    outcomes = {(event.actor, event.outcome) for event in events}
    assert ("reader", "denied_or_missing") in outcomes and ("sysadmin", "success") in outcomes
    read = next(event for event in events if event.actor == "sysadmin")
    assert read.details["words"] == "payroll" and read.details["text"] == 1


def test_records_read_before_boxes_were_kept_answer_an_empty_list(archive: Archive) -> None:
    document = archive.ids["en"]
    with archive.context.db.write() as session:
        kept = session.scalars(select(Page.boxes).where(Page.document_id == document)).one()
        session.execute(update(Page).where(Page.document_id == document).values(boxes=None))
    try:
        assert _words(archive, "en", None) == [] and _words(archive, "en", "payroll") == []
    finally:
        with archive.context.db.write() as session:
            session.execute(update(Page).where(Page.document_id == document).values(boxes=kept))


def test_a_rescan_replaces_the_pages_boxes(archive: Archive, tmp_path: Path) -> None:
    document = archive.ids["rescan"]
    assert _words(archive, "rescan", "registers", archive.admin)
    with archive.context.db.read() as session:
        page_id = session.scalars(select(Page.id).where(Page.document_id == document, Page.current)).one()
    again = draw_page(tmp_path / "rescan.png", ("Minutes of the building committee.",), "building")
    ReviewService(archive.context).replace(page_id, again.path, actor=ARCHIVIST, ocr=ocr_in_child)
    assert _words(archive, "rescan", "registers", archive.admin) == []
    [hit] = _words(archive, "rescan", "building", archive.admin)
    assert _overlap(tuple(hit["box"]), again.box) > 0.5  # type: ignore[arg-type]
