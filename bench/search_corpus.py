"""A generated search corpus: archive-like documents of several pages, mixed Chinese and English, ~2 KB of
text per page, with levels, departments, fonds, series, types, languages, dates and a filed flag (90% filed).
Deterministic per seed.

Words follow a Zipf distribution (like real text: a few very common words, a long tail), Chinese "words"
are 2-3 characters drawn from 3,500 characters with Zipf frequencies (as in real Chinese, where the 1,000
commonest characters make up about 90% of text), English words are pronounceable synthetic words (the
stemmer treats them like real ones). Written once to a JSON-lines file that the benchmark streams.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

from search.types import IndexedDocument, PageText

PAGES_PER_DOCUMENT = (1, 9)  # uniform: 5 on average
PAGE_BYTES = 2000
LEVELS = (0, 0, 1, 1, 1, 2, 2, 3, 4)  # more public and internal records than secret ones
DEPARTMENTS = ("finance", "personnel", "planning", "legal", "works")
FONDS = ("F001", "F002", "F003", "J014", "Z100")
SERIES = ("WS", "KJ", "JJ", "SB", "DQ")
TYPES = ("tiff", "jpeg", "png", "pdf")


class Vocabulary:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        han = [chr(c) for c in range(0x4E00, 0x4E00 + 20000, 5)][:3500]
        rng.shuffle(han)
        han_weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(han))))  # few common ones
        self.zh = list(  # distinct, in the order drawn (a set's order would change with PYTHONHASHSEED)
            dict.fromkeys(
                "".join(rng.choices(han, cum_weights=han_weights, k=rng.choice((2, 2, 3)))) for _ in range(40000)
            )
        )
        onsets: tuple[str, ...] = ("b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v")
        onsets += ("w", "z", "br", "ch", "cl", "dr", "gr", "pl", "st", "tr")
        vowels, codas = "aeiou", "nrsltmdk"
        words: set[str] = set()
        while len(words) < 30000:
            syllables = rng.choice((1, 2, 2, 3, 3, 4))
            word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables)) + rng.choice(codas)
            words.add(word)
        self.en = sorted(words)
        rng.shuffle(self.en)
        self.zh_weights = list(itertools.accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(self.zh))))
        self.en_weights = list(itertools.accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(self.en))))

    def chinese_page(self, rng: random.Random) -> str:
        parts: list[str] = []
        size = 0
        while size < PAGE_BYTES:
            sentence = "".join(rng.choices(self.zh, cum_weights=self.zh_weights, k=rng.randint(6, 14)))
            if rng.random() < 0.15:  # mixed Chinese/English text, as in real records
                sentence += " " + " ".join(rng.choices(self.en, cum_weights=self.en_weights, k=2)) + " "
            parts.append(sentence + "。")
            size += len(sentence.encode())
        return "".join(parts)

    def english_page(self, rng: random.Random) -> str:
        parts: list[str] = []
        size = 0
        while size < PAGE_BYTES:
            sentence = " ".join(rng.choices(self.en, cum_weights=self.en_weights, k=rng.randint(8, 18)))
            parts.append(sentence.capitalize() + ".")
            size += len(sentence) + 2
        return " ".join(parts)


def generate(pages: int, seed: int = 2026) -> Iterator[IndexedDocument]:
    vocabulary = Vocabulary(seed)
    rng = random.Random(seed + 1)
    made = 0
    document_id = 0
    while made < pages:
        document_id += 1
        count = min(rng.randint(*PAGES_PER_DOCUMENT), pages - made)
        chinese = rng.random() < 0.6
        page_texts = tuple(
            PageText(n, vocabulary.chinese_page(rng) if chinese else vocabulary.english_page(rng))
            for n in range(1, count + 1)
        )
        made += count
        title_words = vocabulary.zh if chinese else vocabulary.en
        yield IndexedDocument(
            document_id=document_id,
            reference_code=f"{rng.choice(FONDS)}-{2000 + document_id % 26}-Y30-{document_id:06d}",
            title=("" if chinese else " ").join(rng.choices(title_words, k=4)),
            fonds=rng.choice(FONDS),
            level=rng.choice(LEVELS),
            departments=tuple(sorted(rng.sample(DEPARTMENTS, rng.choice((0, 0, 1, 2))))),
            pages=page_texts,
            series=rng.choice(SERIES),
            batch_id=1 + document_id // 200,
            date=dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(36 * 365)),
            doc_type=rng.choice(TYPES),
            language="chi_sim+eng" if chinese else "eng",
            filed=document_id % 10 != 0,  # 90% filed (not drawn from rng: the rest of the corpus is unchanged)
        )


def write(path: Path, pages: int) -> None:
    temporary = path.with_suffix(".tmp")
    with gzip.open(temporary, "wt", encoding="utf-8", compresslevel=1) as out:
        for document in generate(pages):
            record = {
                "id": document.document_id,
                "ref": document.reference_code,
                "title": document.title,
                "fonds": document.fonds,
                "level": document.level,
                "departments": document.departments,
                "pages": [page.text for page in document.pages],
                "series": document.series,
                "batch": document.batch_id,
                "date": document.date.isoformat() if document.date else None,
                "type": document.doc_type,
                "language": document.language,
                "filed": document.filed,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    temporary.rename(path)


def read(path: Path) -> Iterator[IndexedDocument]:
    with gzip.open(path, "rt", encoding="utf-8") as source:
        for line in source:
            record = json.loads(line)
            yield IndexedDocument(
                document_id=record["id"],
                reference_code=record["ref"],
                title=record["title"],
                fonds=record["fonds"],
                level=record["level"],
                departments=tuple(record["departments"]),
                pages=tuple(PageText(n, text) for n, text in enumerate(record["pages"], start=1)),
                series=record["series"],
                batch_id=record["batch"],
                date=dt.date.fromisoformat(record["date"]) if record["date"] else None,
                doc_type=record["type"],
                language=record["language"],
                filed=record.get("filed", record["id"] % 10 != 0),  # corpora cached before the flag
            )
