"""Sample scans for `make run`, the tests and the benchmarks: A4 pages rendered with a CJK font, then given
mild scan noise and skew so that OCR meets something like a real scanner's output."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from archive.errors import ConfigurationError

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
A4_MM = (210, 297)

ENGLISH_PAGES = (
    "Municipal Records Office. Retention schedule for personnel files. Personnel files of permanent staff "
    "are kept for thirty years after the end of employment. Payroll registers are kept for ten years. "
    "Applications from candidates who were not appointed are destroyed after two years. The records "
    "officer reviews the schedule every January and reports exceptions to the director in writing.",
    "Minutes of the building committee, fourteenth meeting. The committee approved the repair of the east "
    "reading room roof and asked the treasurer for three quotations. Members noted that humidity in the "
    "basement stacks exceeded sixty percent during the summer; a dehumidifier will be installed before "
    "the autumn transfer of land registry volumes.",
)
CHINESE_PAGES = (
    "关于加强档案数字化工作的通知。各部门要按照档案管理规定，做好纸质档案的整理、扫描和著录工作。"
    "扫描分辨率不低于每英寸三百点，图像应当清晰完整，不得缺页漏页。数字化成果经质量检查合格后方可归档，"
    "并按照密级和知悉范围设置利用权限。",
    "城市建设档案馆二零二三年工作总结。全年接收工程档案一千二百卷，完成历史档案数字化四十万页，"
    "开展档案利用服务三千余人次。下一年度将重点推进档案信息化建设，完善备份与异地容灾措施，"
    "提高档案安全保管水平。",
)


@dataclass(frozen=True)
class SamplePage:
    text: str
    language: str  # "eng" or "chi_sim"


def find_cjk_font() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    raise ConfigurationError("no CJK font found; run `make install` (it installs fonts-noto-cjk)")


def render_page(
    page: SamplePage,
    *,
    dpi: int = 300,
    height_mm: float = A4_MM[1],
    font_pt: float = 12.0,
    skew_degrees: float = 0.6,
    noise: float = 0.002,
    blur: float = 0.4,
    seed: int = 0,
) -> Image.Image:
    """A grey-scale page with the text wrapped to the margins, slightly rotated and speckled."""
    return render_page_with_text(
        page,
        dpi=dpi,
        height_mm=height_mm,
        font_pt=font_pt,
        skew_degrees=skew_degrees,
        noise=noise,
        blur=blur,
        seed=seed,
    )[0]


def render_page_with_text(
    page: SamplePage,
    *,
    dpi: int = 300,
    height_mm: float = A4_MM[1],
    font_pt: float = 12.0,
    skew_degrees: float = 0.6,
    noise: float = 0.002,
    blur: float = 0.4,
    seed: int = 0,
) -> tuple[Image.Image, str]:
    """The page and the text that fitted on it, line by line (the ground truth for error rates)."""
    width = round(A4_MM[0] / 25.4 * dpi)
    height = round(height_mm / 25.4 * dpi)
    margin = round(20 / 25.4 * dpi)
    font = ImageFont.truetype(str(find_cjk_font()), round(font_pt / 72 * dpi))
    image = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(image)
    y = margin
    line_height = round(font.size * 1.6)
    drawn: list[str] = []
    for line in _wrap(page.text, font, width - 2 * margin, page.language):
        if y + line_height > height - margin:
            break
        draw.text((margin, y), line, font=font, fill=20)
        drawn.append(line)
        y += line_height
    rng = random.Random(seed)
    image = image.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, fillcolor=250)
    pixels = image.load()
    assert pixels is not None
    for _ in range(int(width * height * noise)):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 90, 255))
    return (image.filter(ImageFilter.GaussianBlur(blur)) if blur else image), "\n".join(drawn)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int, language: str) -> list[str]:
    units = list(text) if language.startswith("chi") else text.split(" ")
    joiner = "" if language.startswith("chi") else " "
    lines: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}{joiner}{unit}" if current else unit
        if font.getlength(candidate) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = unit
    if current:
        lines.append(current)
    return lines


def write_sample_batch(folder: Path, *, dpi: int = 300) -> list[Path]:
    """A small batch: an English PNG, a Chinese JPEG, and a two-page TIFF (Chinese + English)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    english = render_page(SamplePage(ENGLISH_PAGES[0], "eng"), dpi=dpi, seed=1)
    written.append(_save(english, folder / "retention-schedule.png", dpi))
    chinese = render_page(SamplePage(CHINESE_PAGES[0], "chi_sim"), dpi=dpi, seed=2, skew_degrees=-0.8)
    written.append(_save(chinese, folder / "digitisation-notice.jpg", dpi))
    first = render_page(SamplePage(CHINESE_PAGES[1], "chi_sim"), dpi=dpi, seed=3)
    second = render_page(SamplePage(ENGLISH_PAGES[1], "eng"), dpi=dpi, seed=4, skew_degrees=-0.4)
    target = folder / "annual-report-and-minutes.tif"
    first.save(target, format="TIFF", save_all=True, append_images=[second], dpi=(dpi, dpi), compression="tiff_lzw")
    written.append(target)
    return written


def _save(image: Image.Image, path: Path, dpi: int) -> Path:
    if path.suffix == ".jpg":
        image.save(path, format="JPEG", quality=88, dpi=(dpi, dpi))
    else:
        image.save(path, dpi=(dpi, dpi))
    return path
