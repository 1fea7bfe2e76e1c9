"""Rendered test pages with known text, small enough that real OCR stays quick."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ingest.engines.sidecar import sidecar_path
from ingest.samples import A4_MM, SamplePage, find_cjk_font, render_page

DPI, HEIGHT_MM, FONT_PT, MARGIN_MM = 300, 70, 14, 20  # how `render` draws (ingest.samples.render_page_with_text)

CHINESE_TEXT = (
    "关于加强档案数字化工作的通知。各部门要做好纸质档案的整理和扫描工作，图像应当清晰完整，不得缺页漏页。"
    "数字化成果经质量检查合格后方可归档，并按照密级设置利用权限。"
)
CHINESE_PHRASES = ("档案数字化", "纸质档案", "质量检查合格")
ENGLISH_TEXT = (
    "Municipal Records Office. Retention schedule for personnel files. Payroll registers are kept for ten years."
)
ENGLISH_PHRASES = ("payroll registers", "retention schedule", "personnel files")


@dataclass(frozen=True)
class RenderedPage:
    path: Path
    text: str
    phrases: tuple[str, ...]


def render(folder: Path, name: str, text: str, language: str, *, seed: int = 7) -> Path:
    """A 70 mm strip of an A4 page at 300 dpi, lightly skewed and speckled, saved by extension, with its text
    beside it as the null OCR engine's sidecar (`notice-zh.png` → `notice-zh.txt`; real OCR ignores it)."""
    image = render_page(
        SamplePage(text, language),
        dpi=DPI,
        height_mm=HEIGHT_MM,
        font_pt=FONT_PT,
        skew_degrees=0.4,
        noise=0.0005,
        blur=0.3,
        seed=seed,
    )
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jpg":
        image.save(path, quality=90, dpi=(300, 300))
    else:
        image.save(path, dpi=(300, 300))
    sidecar_path(path).write_text(text, encoding="utf-8")
    return path


def drawn_box(text: str, word: str) -> tuple[float, float, float, float]:
    """Where `render` draws `word` of a one-line `text`: its ink box (left, top, right, bottom) as fractions of
    the page, before the page's slight skew (what a straightened page shows)."""
    width, height = round(A4_MM[0] / 25.4 * DPI), round(HEIGHT_MM / 25.4 * DPI)
    margin = round(MARGIN_MM / 25.4 * DPI)
    font = ImageFont.truetype(str(find_cjk_font()), round(FONT_PT / 72 * DPI))
    assert font.getlength(text) <= width - 2 * margin, f"{text!r} is more than one line"
    prefix = text[: text.index(word)]
    draw = ImageDraw.Draw(Image.new("L", (width, height)))
    left, top, right, bottom = draw.textbbox((margin + font.getlength(prefix), margin), word, font=font)
    return (left / width, top / height, right / width, bottom / height)


def chinese_page(folder: Path, name: str = "notice-zh.png") -> RenderedPage:
    return RenderedPage(render(folder, name, CHINESE_TEXT, "chi_sim"), CHINESE_TEXT, CHINESE_PHRASES)


def english_page(folder: Path, name: str = "schedule-en.jpg") -> RenderedPage:
    return RenderedPage(render(folder, name, ENGLISH_TEXT, "eng", seed=8), ENGLISH_TEXT, ENGLISH_PHRASES)
