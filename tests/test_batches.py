"""Batches from the archivist's side: manifests and reconciliation, grouping, reference codes, the quality gate
holding pages, review, acceptance sampling, reports and filing. The null OCR engine throughout (the quality gate
is real; page text comes from sidecars)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.catalogue import sampling
from archive.models import Document, Page
from tests.conftest import Cli, CliResult, make_context
from tests.pages import ENGLISH_TEXT, chinese_page, english_page, render


def make_batch(cli: Cli, *extra: str) -> int:
    result = cli(
        "batch",
        "create",
        "--fonds",
        "A12",
        "--series",
        "WS",
        "--box",
        "7",
        "--year",
        "2023",
        "--retention",
        "Y30",
        "--lang",
        "chi_sim+eng",
        "--json",
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return int(result.json["id"])


def test_manifest_reconciliation_reports_missing_extra_mismatch_and_gaps(cli: Cli, tmp_path: Path) -> None:
    box = tmp_path / "box"
    chinese_page(box, "notice.png")
    english_page(box, "schedule.jpg")
    render(box / "minutes", "page-1.png", ENGLISH_TEXT, "eng", seed=21)
    render(box, "stray.png", ENGLISH_TEXT, "eng", seed=22)  # not a second match for the Chinese search below
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "item,title,date,pages,file\n1,Digitisation notice,2023-03-01,1,notice.png\n"
        "2,Retention schedule,2023,1,schedule.jpg\n3,Minutes,2023-05,2,minutes\n"
        "5,Lost letter,2023-06-01,1,letter.tif\n",
        encoding="utf-8",
    )
    batch = make_batch(cli, "--manifest", str(manifest))
    ingested = cli("ingest", str(box), "--batch", str(batch), "--json")
    assert ingested.exit_code == 0, ingested.stdout
    codes = sorted(job["reference_code"] for job in ingested.json["jobs"])
    assert codes == ["A12-2023-Y30-0001", "A12-2023-Y30-0002", "A12-2023-Y30-0003", "A12-2023-Y30-0006"]

    status = cli("batch", "status", str(batch), "--json").json
    rec = status["reconciliation"]
    assert [m["item_number"] for m in rec["missing_items"]] == [5]
    assert [e["source_name"] for e in rec["extra_items"]] == ["stray.png"]
    assert rec["page_count_mismatches"] == [
        {
            "row_number": 4,
            "item_number": 3,
            "reference_code": "A12-2023-Y30-0003",
            "source_name": "minutes",
            "expected_pages": 2,
            "received_pages": 1,
        }
    ]
    assert rec["numbering_gaps"] == [4]
    assert rec["clean"] is False
    text = cli("batch", "status", str(batch))
    assert "1 missing, 1 extra, 1 page-count mismatch(es), gaps [4]" in text.stdout
    # the text names each item it is about, not only how many there are
    assert "missing: row 5, item 5 (Lost letter)" in text.stdout
    assert "unexpected: stray.png (as A12-2023-Y30-0006), not in the manifest" in text.stdout
    assert "page count: minutes (A12-2023-Y30-0003, item 3) has 1 page(s), the manifest says 2" in text.stdout
    assert "numbering gaps: item(s) 4" in text.stdout

    found = cli("search", "档案数字化", "--json").json
    assert found["hits"][0]["reference_code"] == "A12-2023-Y30-0001"
    assert found["hits"][0]["title"] == "Digitisation notice"


def test_subfolder_of_page_images_is_one_item_in_natural_order(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "box" / "file-001"
    render(folder, "p10.png", "Page ten of the letter book.", "eng", seed=1)
    render(folder, "p2.png", "Page two of the letter book.", "eng", seed=2)
    result = cli("ingest", str(tmp_path / "box"), "--lang", "eng", "--json")
    assert result.exit_code == 0, result.stdout
    [job] = result.json["jobs"]
    assert job["source_name"] == "file-001" and job["pages"] == 2
    hits = cli("search", '"page two"', "--json").json["hits"]
    assert hits[0]["pages"] == [1]
    assert cli("search", '"page ten"', "--json").json["hits"][0]["pages"] == [2]


def test_low_resolution_page_is_held_then_accepted(cli: Cli, tmp_path: Path) -> None:
    low = low_resolution_copy(english_page(tmp_path / "src").path, tmp_path / "box" / "faint.png")
    batch = make_batch(cli)
    result = cli("ingest", str(low.parent), "--batch", str(batch), "--json")
    assert result.exit_code == 0
    assert result.json["summary"]["needs_review"] == 1
    status = cli("batch", "status", str(batch), "--json").json
    assert status["jobs"] == {"needs_review": 1}
    assert status["findings"].get("resolution:fail") == 1
    [held] = status["held_pages"]
    refused = cli("batch", "sample", str(batch), "--json")
    assert refused.exit_code == 5 and "held by the quality gate" in refused.stderr
    accepted = cli("page", "accept", str(held["page_id"]), "--note", "only copy we have", "--json")
    assert accepted.json["review"] == "accepted"
    assert cli("batch", "status", str(batch), "--json").json["jobs"] == {"done": 1}


def low_resolution_copy(clean: Path, target: Path) -> Path:
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(clean) as image:
        image.resize((image.width // 2, image.height // 2)).save(target, dpi=(150, 150))
    return target


def test_rescan_replaces_a_page_and_keeps_the_old_version(cli: Cli, tmp_path: Path) -> None:
    low = low_resolution_copy(chinese_page(tmp_path / "src").path, tmp_path / "box" / "faint.png")
    batch = make_batch(cli)
    assert cli("ingest", str(low.parent), "--batch", str(batch)).exit_code == 0
    [held] = cli("batch", "status", str(batch), "--json").json["held_pages"]
    assert cli("page", "reject", str(held["page_id"]), "--reason", "150 dpi: rescan at 300").exit_code == 0
    rescan = english_page(tmp_path / "rescan").path
    replaced = cli("page", "replace", str(held["page_id"]), str(rescan), "--json")
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.json["version"] == 2 and replaced.json["review"] == "ok"
    hits = cli("search", '"payroll registers"', "--json").json["hits"]
    assert [h["reference_code"] for h in hits] == [held["reference_code"]]
    again = cli("page", "accept", str(held["page_id"]))
    assert again.exit_code == 5 and "replaced by a rescan" in again.stderr
    assert cli("--user", "sysadmin", "verify", "--json").json["clean"] is True  # verification is the sysadmin's


@pytest.fixture
def sampled_batch(cli: Cli, tmp_path: Path) -> tuple[int, list[int]]:
    box = tmp_path / "box"
    for n in range(4):
        render(box, f"sheet-{n}.png", f"Sheet {n}. " + ENGLISH_TEXT, "eng", seed=30 + n)
    batch = make_batch(cli)
    assert cli("ingest", str(box), "--batch", str(batch)).exit_code == 0
    args = ("batch", "sample", str(batch), "--percent", "50", "--minimum", "2", "--seed", "7", "--json")
    sample = reviewer(cli, *args).json
    assert sample["seed"] == 7 and len(sample["pages"]) == 2 and sample["population"] == 4
    again = reviewer(cli, *args)  # a batch that is being sampled cannot be sampled again...
    assert again.exit_code == 5 and "is sampling" in again.stderr
    context = make_context(cli.home)
    try:
        with context.db.session() as session:
            population = list(
                session.scalars(
                    select(Page.id).join(Document, Page.document_id == Document.id).where(Document.batch_id == batch)
                )
            )
    finally:
        context.close()
    redrawn = sampling.draw(population, percent=50, minimum=2, seed=7)  # ...but its recorded seed reproduces it
    assert redrawn == [p["page_id"] for p in sample["pages"]]
    return batch, redrawn


def reviewer(cli: Cli, *args: str) -> CliResult:
    """Acceptance is done by a second archivist, never the one who scanned the batch (four eyes)."""
    return cli("--user", "reviewer", *args)


def test_acceptance_passes_and_the_batch_is_filed(
    cli: Cli, sampled_batch: tuple[int, list[int]], tmp_path: Path
) -> None:
    batch, pages = sampled_batch
    assert cli("batch", "file", str(batch)).exit_code == 5  # not accepted yet
    for page in pages:
        assert reviewer(cli, "batch", "verdict", str(batch), str(page), "pass").exit_code == 0
    decision = reviewer(cli, "batch", "decide", str(batch), "--json").json
    assert decision["decision"] == "accepted" and decision["pass_rate"] == 1.0
    html = tmp_path / "report.html"
    report = cli("batch", "report", str(batch), "--html", str(html), "--json").json
    assert report["decision"] == "accepted" and report["decided_by"] == "reviewer"
    assert report["samples"][-1]["passed"] == 2
    page = html.read_text(encoding="utf-8")
    assert "Decision: accepted" in page and "seed 7" in page
    filed = cli("batch", "file", str(batch), "--json").json
    dat70 = filed.pop("dat70")  # the filing's DA/T 70 run (tests/test_dat70.py checks its findings)
    assert filed == {"batch_id": batch, "status": "filed", "documents": 4} and dat70["run_id"] >= 1


def test_a_critical_defect_returns_the_batch(cli: Cli, sampled_batch: tuple[int, list[int]]) -> None:
    batch, pages = sampled_batch
    missing_defect = reviewer(cli, "batch", "verdict", str(batch), str(pages[0]), "fail")
    assert missing_defect.exit_code == 2 and "needs a defect type" in missing_defect.stderr
    reviewer(cli, "batch", "verdict", str(batch), str(pages[0]), "fail", "--defect", "missing_page")
    undecided = reviewer(cli, "batch", "decide", str(batch))
    assert undecided.exit_code == 2 and "1 of 2 sampled pages have no verdict" in undecided.stderr
    reviewer(cli, "batch", "verdict", str(batch), str(pages[1]), "pass")
    decision = reviewer(cli, "batch", "decide", str(batch), "--json").json
    assert decision["decision"] == "returned"
    assert any("critical" in reason for reason in decision["reasons"])
    assert decision["reason_codes"] == [  # the same reasons, for the page to say in its language
        {"code": "pass_rate_low", "params": {"pass_rate": 0.5, "required": 0.95}},
        {"code": "critical_defects", "params": {"count": 1}},
    ]
    refused = cli("batch", "file", str(batch))
    assert refused.exit_code == 5 and "only an accepted batch can be filed" in refused.stderr


def test_manifest_errors_name_their_rows(cli: Cli, tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("item,title,pages\n1,a,2\n1,b,x\n", encoding="utf-8")
    result = cli("batch", "create", "--fonds", "A12", "--manifest", str(manifest))
    assert result.exit_code == 2
    assert "row 3: pages 'x' is not a positive whole number" in result.stderr


def test_hot_folder_takes_complete_files_once(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "hot"
    english_page(folder)
    (folder / "incoming.png.part").write_bytes(b"half a file")
    batch = make_batch(cli)
    result = cli(
        "ingest", str(folder), "--batch", str(batch), "--watch", "--interval", "0.3", "--watch-cycles", "4", "--json"
    )
    assert json.loads(result.stdout) == {"submitted": 0, "skipped": 0, "rejected": 0}  # a partial file blocks
    (folder / "incoming.png.part").unlink()
    result = cli(
        "ingest", str(folder), "--batch", str(batch), "--watch", "--interval", "0.3", "--watch-cycles", "4", "--json"
    )
    assert json.loads(result.stdout) == {"submitted": 1, "skipped": 0, "rejected": 0}
    assert cli("batch", "status", str(batch), "--json").json["jobs"] == {"done": 1}
