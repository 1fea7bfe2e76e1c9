"""Known-item recall on rendered, really OCR'd Chinese and English pages, for both search engines: phrases
drawn from each page's known text find that page in the top 10, and both engines find and miss alike. The
pages are read once with tesseract and once with the auto OCR engine (Chinese pages by PP-OCR, English pages by
tesseract), so recall is checked on text from both OCR engines."""

from __future__ import annotations

import itertools
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.cli import main as cli_main
from api.preservation.maintenance import MaintenanceService
from api.wiring import Context, build_context
from archive.access import search_scope
from archive.models import Document
from ingest.samples import SamplePage, render_page_with_text
from storage_config.settings import Settings
from tests.actors import SYSADMIN, account
from tests.conftest import make_context
from tests.pages import render

pytestmark = pytest.mark.ocr  # recall of really recognised text

ENGINES = ("whoosh", "tantivy")
LANGUAGES = {"zh": "chi_sim", "en": "eng"}
MIN_RECALL = 0.9  # OCR is real and may misread a character; a broken analyzer falls far below this
CHINESE = (
    "关于开展年度档案移交工作的通知。各单位应于十二月底前将本年度形成的文书档案整理完毕，填写移交清单，"
    "经部门负责人签字后送交档案室统一保管。",
    "档案室借阅管理规定。查阅涉密档案须经分管领导批准，借阅期限一般不超过三十天。借出的案卷不得转借他人，"
    "归还时由管理人员当面清点。",
    "会议纪要：三月十五日下午，办公室召开基建档案专项检查工作会议，通报了工程图纸缺失问题，"
    "要求施工单位限期补齐竣工资料并重新组卷。",
    "人事档案审核工作方案。对在职职工的出生日期、参加工作时间和学历证明进行逐卷核对，"
    "发现涂改或材料不全的，及时登记并通知本人补充。",
    "声像档案征集公告。本馆面向社会征集反映城市建设变迁的老照片、录音和录像资料，"
    "捐赠者将获颁收藏证书，珍贵资料可按规定给予奖励。",
    "关于做好防汛期间库房安全工作的紧急通知。各库房要检查门窗和排水设施，配备除湿机和灭火器，"
    "值班人员每日巡查两次并填写温湿度记录。",
)
ENGLISH = (
    "Records Office notice. Council minutes for the year go to the archive in December. Each department "
    "boxes its closed files and attaches a transfer list signed by the section head.",
    "Reading room rules. Restricted files may be consulted only with written approval from the county "
    "archivist. Researchers handle original documents with clean hands and use pencils only.",
    "Building committee minutes. The surveyor reported missing drainage plans for the harbour warehouse. "
    "Contractors must supply certified copies to the records office within six weeks.",
    "Personnel office circular. Staff records will be audited against payroll ledgers this spring. "
    "Employees whose diplomas are absent from their files should send copies to the registry.",
    "Appeal for photographs. The city archive is collecting old photographs, sound recordings and home "
    "movies of the railway station and market square. Donors receive a certificate of deposit.",
    "Flood precautions for the storage vaults. Wardens inspect windows and drains weekly, keep dehumidifiers "
    "running, and record temperature and humidity in the vault logbook every morning.",
)
# One phrase per page that occurs on that page only, although the pages share words like 档案, records, office.
UNIQUE = {
    "zh-01": "移交清单",
    "zh-02": "借阅期限",
    "zh-03": "基建档案",
    "zh-04": "人事档案",
    "zh-05": "声像档案",
    "zh-06": "防汛期间",  # not 温湿度记录: OCR reads 温 as 寓
    "en-01": '"council minutes"',
    "en-02": '"reading room"',
    "en-03": '"drainage plans"',
    "en-04": '"payroll ledgers"',
    "en-05": '"railway station"',
    "en-06": '"vault logbook"',
}


@dataclass(frozen=True)
class Page:
    name: str  # zh-01 … en-06; also the scan's file stem
    language: str
    source: str  # the text rendered on the page
    document_id: int
    ocr_text: str  # what the real pipeline read and indexed
    ocr_engine: str  # the OCR engine that read it


@dataclass
class Corpus:
    pages: list[Page]
    contexts: dict[str, Context]
    outcomes: dict[tuple[str, str], dict[tuple[str, str], bool]] = field(default_factory=dict)


OCR_ENGINES = {"tesseract": {"zh": "tesseract", "en": "tesseract"}, "auto": {"zh": "ppocr", "en": "tesseract"}}


@pytest.fixture(scope="module", params=sorted(OCR_ENGINES))
def corpus(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Corpus]:
    """Twelve pages rendered, ingested once per OCR engine through the real CLI (OCR, catalogue, Whoosh index),
    then reindexed from the catalogue into a Tantivy index beside it by the maintenance service."""
    ocr_engine = str(request.param)
    root = tmp_path_factory.mktemp("recall")
    scans, home = root / "scans", root / "var"
    sources = {f"zh-{n:02}": t for n, t in enumerate(CHINESE, 1)} | {f"en-{n:02}": t for n, t in enumerate(ENGLISH, 1)}
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("DANGAN_"):
                patch.delenv(name)  # the autouse guard in conftest is function-scoped
        patch.setenv("DANGAN_OCR_ENGINE", ocr_engine)
        for seed, (name, text) in enumerate(sources.items()):
            language = LANGUAGES[name[:2]]
            fitted = render_page_with_text(SamplePage(text, language), height_mm=70, font_pt=14)[1]
            assert fitted.replace("\n", "" if name.startswith("zh") else " ") == text, f"{name} overflows its strip"
            render(scans, f"{name}.png", text, language, seed=seed)
        assert cli_main(["--home", str(home), "init"]) == 0
        setup = make_context(home)
        try:
            account(setup, "archivist", ["archivist"])  # the command line acts as a named account
        finally:
            setup.close()
        ingest = ["--home", str(home), "--user", "archivist", "ingest", str(scans), "--lang", "chi_sim+eng", "--json"]
        assert cli_main(ingest) == 0
        contexts = {
            "whoosh": build_context(Settings(home=home, search_engine="whoosh")),
            "tantivy": build_context(Settings(home=home, search_engine="tantivy", index_dir=home / "index-tantivy")),
        }
    try:
        assert MaintenanceService(contexts["tantivy"]).reindex(SYSADMIN).documents == len(sources)
        with contexts["whoosh"].db.session() as session:
            documents = session.scalars(select(Document).options(selectinload(Document.pages))).all()
            stems = {d.id: Path(d.original_filename).stem for d in documents}
            pages = [
                Page(
                    stems[d.id],
                    stems[d.id][:2],
                    sources[stems[d.id]],
                    d.id,
                    "\n".join(p.text for p in d.pages),
                    ",".join(sorted({str(p.measurements.get("ocr_engine")) for p in d.pages})),
                )
                for d in documents
            ]
        assert sorted(p.name for p in pages) == sorted(sources)
        assert {p.name: p.ocr_engine for p in pages} == {p.name: OCR_ENGINES[ocr_engine][p.language] for p in pages}
        yield Corpus(sorted(pages, key=lambda p: p.name), contexts)
    finally:
        for context in contexts.values():
            context.close()


def drawn_queries(page: Page) -> list[str]:
    """Phrases drawn from the page's known text, the same on every run."""
    rng = random.Random(page.name)
    text = page.source
    if page.language == "zh":
        picked: list[str] = []
        while len(picked) < 5:
            size = rng.randint(2, 6)
            start = rng.randrange(len(text) - size + 1)
            piece = text[start : start + size]
            if all("\u4e00" <= c <= "\u9fff" for c in piece) and piece not in picked:
                picked.append(piece)
        return picked
    words = [(word.rstrip(".,"), word[-1] in ".,") for word in text.split()]  # (word, ends a clause)
    pairs = sorted({f'"{a} {b}"' for (a, stop), (b, _) in itertools.pairwise(words) if not stop})  # in one clause
    singles = sorted({word for word, _ in words if len(word) >= 5})
    return rng.sample(pairs, 5) + rng.sample(singles, 3)


def in_ocr_text(query: str, page: Page) -> bool:
    """Whether the OCR'd text holds the query, so that missing it is the search's fault."""
    if page.language == "zh":
        return query in re.sub(r"\s+", "", page.ocr_text)
    words = " ".join(re.findall(r"[a-z0-9]+", page.ocr_text.lower()))
    wanted = query.strip('"').lower()
    return f" {wanted} " in f" {words} "


def top_ids(corpus: Corpus, engine: str, query: str) -> list[int]:
    results = corpus.contexts[engine].index.search(query, scope=search_scope(SYSADMIN), limit=10)
    return [hit.document_id for hit in results.hits]


def outcomes(corpus: Corpus, engine: str, language: str) -> dict[tuple[str, str], bool]:
    """(page, query) -> whether the page is in the top 10 for the query; computed once per engine and language."""
    key = (engine, language)
    if key not in corpus.outcomes:
        corpus.outcomes[key] = {
            (page.name, query): page.document_id in top_ids(corpus, engine, query)
            for page in corpus.pages
            if page.language == language
            for query in drawn_queries(page)
        }
    return corpus.outcomes[key]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("engine", ENGINES)
def test_phrases_drawn_from_a_page_find_it_in_the_top_10(corpus: Corpus, engine: str, language: str) -> None:
    found = outcomes(corpus, engine, language)
    by_name = {page.name: page for page in corpus.pages}
    missed = [(name, query) for (name, query), hit in found.items() if not hit]
    report = "\n".join(
        f"{name} missed {query} (in OCR text: {in_ocr_text(query, by_name[name])}); OCR text:\n{by_name[name].ocr_text}"
        for name, query in missed
    )
    search_faults = [(name, query) for name, query in missed if in_ocr_text(query, by_name[name])]
    assert not search_faults, f"{engine} missed queries the OCR text holds: {search_faults}\n{report}"
    recall = 1 - len(missed) / len(found)
    assert recall >= MIN_RECALL, f"{engine} {language} recall {recall:.2f} < {MIN_RECALL}\n{report}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_both_engines_find_and_miss_the_same_queries(corpus: Corpus, language: str) -> None:
    whoosh, tantivy = (outcomes(corpus, engine, language) for engine in ENGINES)
    differing = sorted(key for key in whoosh if whoosh[key] != tantivy.get(key))
    assert whoosh == tantivy, f"the engines disagree on (page, query): {differing}"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_phrase_found_on_one_page_only_ranks_that_page_first(corpus: Corpus, engine: str) -> None:
    for page in corpus.pages:
        phrase = UNIQUE[page.name]
        elsewhere = [other.name for other in corpus.pages if phrase.strip('"').lower() in other.source.lower()]
        assert elsewhere == [page.name], (phrase, elsewhere)  # the premise: only this page holds the phrase
        ranked = top_ids(corpus, engine, phrase)
        assert ranked[:1] == [page.document_id], f"{engine}: {phrase} ranked {ranked}, wanted {page.name} first"
