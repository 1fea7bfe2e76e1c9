"""The archivist's screens in a real browser (tests/browser.py): batches, one batch (upload, progress, findings,
reconciliation, filing), the held-page review and acceptance sampling.

The journey (en): an archivist creates a batch with a manifest and the tesseract engine, uploads a folder with the
folder picker (its sidecar .txt files are refused with a translated code) and one more scan by a dropped file,
watches the jobs finish, finds the held 150 dpi page by the findings filter, replaces it with a rescan; a second
archivist draws the sample, passes every page beside its image and text, decides, downloads the report and files
the batch. Then every archivist screen again in zh-CN, over batches prepared through the services. axe-core:
no serious or critical violations on any of them; screenshots at 1280 and 375 px."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from api.ingest.acceptance import AcceptanceService
from api.ingest.batches import BatchService
from api.ingest.devices import DeviceService
from api.ingest.process import ScanProcess
from api.wiring import Context
from tests.actors import ARCHIVIST, PASSWORD, REVIEWER, account
from tests.browser import goto, open_page, page_errors, serious_violations, served, shots, sign_in
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import ENGLISH_TEXT, render

JOURNEY_MS = 180_000  # real OCR of the uploads and of the rescan


@dataclass(frozen=True)
class Site:
    url: str
    browser: Browser
    folder: Path  # the box to upload: two scans (one at 150 dpi) and their sidecar .txt files
    dropped: Path  # one more scan, dropped on the zone
    rescan: Path  # the held page scanned again at 300 dpi
    manifest: Path
    held_batch: int  # prepared: one page held by the quality gate
    held_page: int
    sampling_batch: int  # prepared: a sample drawn, no verdicts yet


def low_resolution(clean: Path, target: Path) -> Path:
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(clean) as image:
        image.resize((image.width // 2, image.height // 2)).save(target, dpi=(150, 150))
    return target


def prepared_batches(context: Context, root: Path) -> tuple[int, int, int]:
    """A batch with a held page and a batch being sampled, made the way the CLI makes them (null OCR, sidecars)."""
    batches = BatchService(context)
    DeviceService(context).add(ARCHIVIST, code="SCN-01", name="Fujitsu fi-7160", make="Fujitsu", model="fi-7160")
    process = ScanProcess(device="SCN-01", file_format="PNG", operator="王芳")  # the batch's 数字化过程信息
    held = batches.create(
        actor=ARCHIVIST, fonds="PREP", series="HELD", languages="eng", level="internal", process=process
    ).id
    good = render(root / "prep-held", "ledger.png", "Harbour ledger. " + ENGLISH_TEXT, "eng", seed=91)
    faint = low_resolution(
        render(root / "prep-src", "faint.png", "Faint copy. " + ENGLISH_TEXT, "eng", seed=92),
        root / "prep-held" / "faint.png",
    )
    ingest_paths(context, [good, faint], actor=ARCHIVIST, batch_id=held)
    status = batches.status(ARCHIVIST, held)
    [page] = status.held_pages
    sampling = batches.create(actor=ARCHIVIST, fonds="PREP", series="SMPL", languages="eng", level="internal").id
    sheets = [
        render(root / "prep-smpl", f"sheet-{n}.png", f"Sheet {n}. " + ENGLISH_TEXT, "eng", seed=93 + n)
        for n in range(2)
    ]
    ingest_paths(context, sheets, actor=ARCHIVIST, batch_id=sampling)
    AcceptanceService(context).draw(sampling, actor=REVIEWER, percent=100, minimum=1)
    return held, page.page_id, sampling


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web-archivist")
    context = make_context(root / "var")
    account(context, "clerk", ["archivist"], "secret")
    account(context, "checker", ["archivist"], "secret")
    folder = root / "box-3"
    render(folder, "letter-1.png", "Letter one. Harbour dues for the spring season. " + ENGLISH_TEXT, "eng", seed=81)
    source = render(
        root / "src", "notice-2.png", "Notice two. Customs tariff for tea and silk. " + ENGLISH_TEXT, "eng", seed=82
    )
    low_resolution(source, folder / "notice-2.png")
    pier = "Letter three. Repairs to the east pier. "
    dropped = render(root / "drop", "letter-3.png", pier + ENGLISH_TEXT, "eng", seed=83)
    rescan = render(
        root / "rescan",
        "notice-2-rescan.png",
        "Notice two. Customs tariff for tea and silk. " + ENGLISH_TEXT,
        "eng",
        seed=84,
    )
    manifest = root / "manifest.csv"
    manifest.write_text(
        "item,title,pages,file\n1,Letter one,1,letter-1.png\n2,Notice two,1,notice-2.png\n"
        "3,Letter three,1,letter-3.png\n",
        encoding="utf-8",
    )
    held, held_page, sampling = prepared_batches(context, root)
    with served(context) as (url, browser):
        yield Site(url, browser, folder, dropped, rescan, manifest, held, held_page, sampling)


def checked(page: Page, name: str) -> None:
    """axe-core finds nothing serious or critical; screenshots at 1280 and 375 px; nothing wider than 375 px."""
    assert serious_violations(page) == [], name
    shots(page, name)
    before = page.viewport_size or {"width": 1280, "height": 900}
    page.set_viewport_size({"width": 375, "height": before["height"]})
    width, wide = page.evaluate(
        """() => [document.documentElement.scrollWidth, [...document.querySelectorAll("#main *")]
            .filter((e) => e.getBoundingClientRect().right > 376).slice(-3).map((e) => e.outerHTML.slice(0, 80))]"""
    )
    page.set_viewport_size(before)
    assert width <= 375, f"{name}: the page is {width} px wide at 375 px: {wide}"


def drop_file(page: Page, path: Path) -> None:
    """Drop a file on the upload zone: a DataTransfer built in the page, carried by a real drop event."""
    page.evaluate(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            const zone = document.getElementById("drop-zone");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [path.name, base64.b64encode(path.read_bytes()).decode()],
    )


def create_batch(page: Page, site: Site) -> int:
    page.get_by_role("link", name="Batches").click()
    expect(page.locator("#create-form")).to_be_visible()
    checked(page, "archivist-batches-en")
    page.locator("#batch-fonds").fill("W7")
    page.locator("#batch-series").fill("WS")
    page.locator("#batch-box").fill("3")
    page.locator("#batch-year").fill("2024")
    page.locator("#batch-label").fill("Harbour box 3")
    page.locator("#batch-languages").select_option("eng")
    page.locator("#batch-engine").select_option("tesseract")
    page.locator("#batch-manifest").set_input_files(site.manifest)
    page.locator("#create-batch").click()
    expect(page.locator("#batch-heading")).to_contain_text(": Harbour box 3")
    batch = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#batch-heading")).to_have_text(f"Batch {batch}: Harbour box 3")
    return batch


def upload_box(page: Page, site: Site) -> None:
    page.locator("#upload-folder").set_input_files(site.folder)  # the folder picker (webkitdirectory)
    drop_file(page, site.dropped)
    rows = page.locator("#upload-list .upload-row")
    expect(rows).to_have_count(4)  # two scans, the sidecar of one, the dropped scan
    expect(page.locator("#upload-list .upload-done")).to_have_count(3)
    refused = page.locator("#upload-list .upload-refused")
    expect(refused).to_have_count(1)
    expect(refused.first).to_contain_text("letter-1.txt")
    expect(page.locator("#upload-summary")).to_have_text("Upload finished: 3 of 4 files received.")
    expect(refused.first).to_contain_text("letter-1.txt: Files ending “.txt” are not taken; use")
    expect(page.locator("#progress-line")).to_have_text("Finished: 3 of 3 items processed.", timeout=JOURNEY_MS)
    expect(page.locator("#progress-line")).to_have_attribute("data-moving", "0")
    expect(page.locator("#reconciliation-line")).to_have_text("Matches the manifest.")


def find_and_replace_held_page(page: Page, site: Site) -> None:
    expect(page.locator("#held-list li")).to_have_count(1)
    page.locator("#findings-filter").select_option("held")
    cards = page.locator("#finding-pages .finding-page")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Resolution")
    expect(cards.first.locator(".page-thumbnail img")).to_be_visible()
    expect(page.locator("#findings-filter")).to_be_focused()
    checked(page, "archivist-batch-en")
    cards.first.locator(".review-link").click()
    expect(page.locator("#review-heading")).to_contain_text("page 1")
    expect(page.locator(".review-image img")).to_be_visible()
    expect(page.locator("#review-findings")).to_contain_text("Resolution")
    expect(page.locator("#review-text .page-text")).to_contain_text("Customs")
    checked(page, "archivist-review-en")
    page.locator("#rescan-file").set_input_files(site.rescan)
    page.locator("#replace").click()
    expect(page.locator("#review-message")).to_have_text("Replaced: version 2, checked: passed.", timeout=JOURNEY_MS)
    expect(page.locator("#review-state")).to_have_text("passed")
    page.locator("#done-to-batch").click()
    expect(page.locator("#held-none")).to_be_visible()


def sample_and_decide(page: Page, site: Site, batch: int) -> None:
    goto(page, site.url, f"#/batches/{batch}/sample")
    page.locator("#sample-percent").fill("100")
    page.locator("#sample-minimum").fill("1")
    page.locator("#draw-sample").click()
    rows = page.locator("#sample-pages .sample-page")
    expect(rows).to_have_count(3)
    for n in range(3):
        rows.nth(n).scroll_into_view_if_needed()  # the images load lazily: one below the fold has no size yet
        image = rows.nth(n).locator(".page-image img")
        expect(image).to_be_visible()
        expect(image).not_to_have_js_property("naturalWidth", 0)  # the image itself arrived, not just its box
        expect(rows.nth(n).locator(".page-text")).to_contain_text("Municipal Records Office")
    checked(page, "archivist-sample-en")
    expect(page.locator("#decide")).to_be_disabled()
    for n in range(3):
        rows.nth(n).locator("button.pass").click()
        expect(rows.nth(n).locator(".verdict")).to_have_text("Passed (checker)")
    expect(page.locator("#sample-tally")).to_have_text("3 of 3 pages reviewed, 3 passed.")
    page.locator("#decide").click()
    expect(page.locator("#decision-line")).to_have_text("Decision: accepted (pass rate 100%, 0 critical defects).")
    page.locator("#to-filing").click()


def report_and_file(page: Page, batch: int) -> None:
    with page.expect_download() as download:
        page.locator("#report-html").click()
    assert download.value.suggested_filename == f"batch-{batch}-report.html"
    assert "Decision: accepted" in Path(download.value.path()).read_text(encoding="utf-8")
    page.locator("#file-batch").click()
    expect(page.locator("#filing-message")).to_have_text("Filed: 3 items.")
    expect(page.locator("#filed-line")).to_be_visible()
    checked(page, "archivist-batch-filed-en")


def test_the_archivists_journey_from_a_new_batch_to_filing(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="en-GB")
    sign_in(page, "clerk", PASSWORD)
    batch = create_batch(page, site)
    upload_box(page, site)
    find_and_replace_held_page(page, site)
    page.locator("#signout").click()  # four eyes: another archivist samples what the clerk uploaded
    sign_in(page, "checker", PASSWORD)
    sample_and_decide(page, site, batch)
    expect(page.locator("#batch-heading")).to_have_text(f"Batch {batch}: Harbour box 3")
    report_and_file(page, batch)
    assert page_errors(page) == []
    page.context.close()


def test_every_archivist_screen_in_chinese(site: Site) -> None:
    page = open_page(site.browser, site.url, locale="zh-CN")
    sign_in(page, "clerk", PASSWORD)
    goto(page, site.url, "#/batches")
    expect(page.locator("#batches-heading")).to_have_text("数字化批次")
    expect(page.locator("#create-heading")).to_have_text("新建批次")
    checked(page, "archivist-batches-zh-CN")
    goto(page, site.url, f"#/batches/{site.held_batch}")
    expect(page.locator("#held-list li")).to_have_count(1)
    expect(page.locator("#held-list")).to_contain_text("已暂扣")
    expect(page.locator("#progress-line")).to_have_text("处理完毕：2 件中已完成 2 件。")
    expect(page.locator("#digitisation-heading")).to_have_text("数字化过程信息")
    expect(page.locator("#batch-process")).to_contain_text("SCN-01 · Fujitsu fi-7160")
    expect(page.locator("#batch-process")).to_contain_text("王芳")
    expect(page.locator("#batch-process-warnings")).to_contain_text("扫描设备 SCN-01 尚无校准记录。")
    checked(page, "archivist-batch-zh-CN")
    page.locator("#upload-files").set_input_files(site.folder / "letter-1.txt")  # refused, the reason translated
    expect(page.locator("#upload-list .upload-refused")).to_contain_text("letter-1.txt: 不接收扩展名为“.txt”的文件")
    page.locator("#held-list a").click()
    expect(page.locator("#review-heading")).to_contain_text("第 1 页")
    expect(page.locator("#review-findings")).to_contain_text("分辨率")
    checked(page, "archivist-review-zh-CN")
    page.locator("#reject").click()  # no reason: refused in the page, nothing sent
    expect(page.locator("#review-message")).to_have_text("请说明退回的原因。")
    goto(page, site.url, f"#/batches/{site.sampling_batch}/sample")
    expect(page.locator("#sample-pages .sample-page")).to_have_count(2)
    expect(page.locator("#sample-tally")).to_have_text("已判定 0/2 页，合格 0 页。")
    checked(page, "archivist-sample-zh-CN")
    first = page.locator("#sample-pages .sample-page").first
    first.locator("button.pass").click()
    expect(first.locator(".verdict")).to_have_text("合格（clerk）")
    expect(page.locator("#sample-tally")).to_have_text("已判定 1/2 页，合格 1 页。")
    assert page_errors(page) == []
    page.context.close()
