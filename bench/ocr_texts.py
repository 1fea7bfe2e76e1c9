"""Ground-truth texts for the OCR benchmark's rendered pages: the shared Chinese corpus (cleaned of its web copy's
pinyin glosses and page furniture) and public-domain English prose."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ingest.samples import ENGLISH_PAGES


def _corpus() -> Path:
    """The shared corpus beside the checkout (../shared/corpus); DANGAN_CORPUS names another place, and a clone
    made elsewhere (e.g. a temp dir) falls back to the workplace's /work/shared/corpus."""
    places = [Path(os.environ["DANGAN_CORPUS"])] if os.environ.get("DANGAN_CORPUS") else []
    places += [Path(__file__).resolve().parents[2] / "shared" / "corpus", Path("/work/shared/corpus")]
    return next((place for place in places if place.is_dir()), places[0])


CORPUS = _corpus()
SIMPLIFIED = ("000_2ebbdd8a37d2c2b1.txt", "002_e0e0318c9fcd8fd5.txt")
TRADITIONAL = ("001_48af82fd42838405.txt", "003_67992392e2250a32.txt")

_GLOSS = re.compile(r"\([a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")  # the web copy's "數(shù)": a pinyin gloss
_LOST = re.compile(r"\?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*\)?")  # a character the web copy lost, with its gloss
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SPACES = re.compile(r"\s+")
_FURNITURE = ("版權說明", "版权说明", "下載本文檔", "下载本文档")

# Public domain (US federal documents, 1776 and 1863; Project Gutenberg texts of the same wording).
DECLARATION = (
    "When in the Course of human events, it becomes necessary for one people to dissolve the political bands "
    "which have connected them with another, and to assume among the powers of the earth, the separate and equal "
    "station to which the Laws of Nature and of Nature's God entitle them, a decent respect to the opinions of "
    "mankind requires that they should declare the causes which impel them to the separation. We hold these "
    "truths to be self-evident, that all men are created equal, that they are endowed by their Creator with "
    "certain unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness. That to secure "
    "these rights, Governments are instituted among Men, deriving their just powers from the consent of the "
    "governed. Prudence, indeed, will dictate that Governments long established should not be changed for light "
    "and transient causes; and accordingly all experience hath shewn, that mankind are more disposed to suffer, "
    "while evils are sufferable, than to right themselves by abolishing the forms to which they are accustomed. "
    "He has refused his Assent to Laws, the most wholesome and necessary for the public good. He has forbidden "
    "his Governors to pass Laws of immediate and pressing importance, unless suspended in their operation till "
    "his Assent should be obtained. He has called together legislative bodies at places unusual, uncomfortable, "
    "and distant from the depository of their public Records, for the sole purpose of fatiguing them into "
    "compliance with his measures."
)
GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
    "Liberty, and dedicated to the proposition that all men are created equal. Now we are engaged in a great "
    "civil war, testing whether that nation, or any nation so conceived and so dedicated, can long endure. We are "
    "met on a great battle-field of that war. We have come to dedicate a portion of that field, as a final "
    "resting place for those who here gave their lives that that nation might live. It is altogether fitting and "
    "proper that we should do this. But, in a larger sense, we can not dedicate, we can not consecrate, we can "
    "not hallow this ground. The brave men, living and dead, who struggled here, have consecrated it, far above "
    "our poor power to add or detract. The world will little note, nor long remember what we say here, but it "
    "can never forget what they did here."
)
ENGLISH = " ".join((*ENGLISH_PAGES, DECLARATION, GETTYSBURG, *ENGLISH_PAGES))


def clean_chinese(raw: str) -> str:
    """One running text: glosses removed, lines with little Han text (titles of web pages, buttons) dropped."""
    kept = []
    for raw_line in _LOST.sub("", _GLOSS.sub("", raw)).splitlines():
        line = _SPACES.sub("", raw_line)
        if len(_HAN.findall(line)) >= 20 and not any(mark in line for mark in _FURNITURE):
            kept.append(line)
    return "".join(kept)


def chinese(traditional: bool) -> str:
    names = TRADITIONAL if traditional else SIMPLIFIED
    return "".join(clean_chinese((CORPUS / name).read_text(encoding="utf-8")) for name in names)
