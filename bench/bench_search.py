"""Search speed of both engines, side by side, on one generated corpus (bench/search_corpus.py).

For each engine, in its own process (so peak RSS is its own): build the index from the corpus (pages/s), then
run the same queries with the access filter on (a staff member cleared for `confidential`, two departments,
filed items only): 1-, 2- and 3-term, phrase and Chinese-substring queries, each drawn from a page of the
corpus, and print p50
and p95 latency of the whole `SearchIndex.search` call (parse, filter, match, group pages into documents,
facets). References measured in the same run: the other engine, and our Python analyzer alone (the ceiling
for any engine fed through it).
Usage: python -m bench.bench_search [PAGES] [QUERIES_PER_KIND]   (defaults: 100000 pages, 100 queries per kind)
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from archive.access import Principal, search_scope
from archive.text import HAN_RUN
from archive.values import AccessLevel, Role
from bench import plain_whoosh, search_corpus
from search.analysis import archive_analyzer, han_char_analyzer
from search.engine import MAX_PAGE_HITS
from search.index import ENGINES, open_index
from search.query import parse, restriction

CACHE = Path("var/bench")
KINDS = ("1 term", "2 terms", "3 terms", "phrase", "zh substring")
WARM_UP = 10
GOALS = {"whoosh": {"p95_ms": 50.0, "pages_per_s": 200.0}, "tantivy": {"p95_ms": 5.0}}
READER = Principal(
    "bench", frozenset({Role.STAFF}), AccessLevel.CONFIDENTIAL, departments=frozenset({"finance", "legal"})
)


def corpus(pages: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"search-corpus-{pages}.jsonl.gz"
    if not path.exists():
        print(f"generating {pages} pages into {path} (once) ...", flush=True)
        search_corpus.write(path, pages)
    return path


def queries(path: Path, per_kind: int, seed: int = 7) -> dict[str, list[str]]:
    """Queries drawn from random pages: known items, as staff search for them."""
    rng = random.Random(seed)
    english: list[list[str]] = []
    chinese: list[str] = []
    for share in (0.02, 1.0):  # a small corpus may have no page of a language in a 2% sample: take them all
        for document in search_corpus.read(path):
            if rng.random() < share:
                for page in document.pages:
                    if HAN_RUN.search(page.text):
                        chinese.extend(run for run in re.split(r"[^\u4e00-\u9fff]+", page.text) if len(run) >= 6)
                    else:
                        english.append(re.findall(r"[a-z]+", page.text.lower()))
        if english and chinese:
            break
    made: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for _ in range(per_kind):
        words = rng.choice(english)
        for n, kind in ((1, "1 term"), (2, "2 terms"), (3, "3 terms")):
            made[kind].append(" ".join(rng.sample(sorted(set(words)), n)))
        start = rng.randrange(len(words) - 3)
        made["phrase"].append('"' + " ".join(words[start : start + rng.choice((2, 3))]) + '"')
        run = rng.choice(chinese)
        length = rng.randint(2, 6)
        start = rng.randrange(len(run) - length)
        made["zh substring"].append(run[start : start + length])
    return made


def analyzer_pages_per_second(path: Path, pages: int = 2000) -> float:
    """Our analyzer alone (text, title and the one-character field): what every engine is fed through."""
    text, chars = archive_analyzer(), han_char_analyzer()
    done, started = 0, time.perf_counter()
    for document in search_corpus.read(path):
        title = [t.text for t in text(document.title)]
        for page in document.pages:
            _ = [t.text for t in text(page.text)], [t.text for t in chars(f"{document.title}\n{page.text}")], title
            done += 1
        if done >= pages:
            break
    return done / (time.perf_counter() - started)


def run_reference(path: Path, asked: dict[str, list[str]]) -> dict[str, object]:
    """In a child process: plain Whoosh on the same pages and queries (bench/plain_whoosh.py)."""
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="index-plain-") as scratch:
        pages, seconds = plain_whoosh.build(Path(scratch) / "index", search_corpus.read(path))
        every = [q for kind in KINDS for q in asked[kind]]
        times = plain_whoosh.query_times(Path(scratch) / "index", every, every[:WARM_UP])
        size = sum(f.stat().st_size for f in (Path(scratch) / "index").iterdir())
    latency, start = {}, 0
    for kind in KINDS:
        latency[kind] = times[start : start + len(asked[kind])]
        start += len(asked[kind])
    return {
        "engine": "plain whoosh",
        "pages": pages,
        "build_seconds": seconds,
        "pages_per_s": pages / seconds,
        "index_mb": size / 1e6,
        "latency_ms": latency,
        "matching_ms": times,
        "capped": "-",
        "median_documents": {kind: float("nan") for kind in KINDS},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_engine(engine: str, path: Path, asked: dict[str, list[str]]) -> dict[str, object]:
    """In a child process: build, then query; returns the figures."""
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=f"index-{engine}-") as scratch:
        index = open_index(Path(scratch) / "index", engine)
        pages = 0

        def counting() -> object:
            nonlocal pages
            for document in search_corpus.read(path):
                pages += len(document.pages)
                yield document

        started = time.perf_counter()
        index.rebuild(counting())  # type: ignore[arg-type]
        build_seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in (Path(scratch) / "index").iterdir())
        scope = dataclasses.replace(search_scope(READER), filed_only=True)  # staff: filed items only
        for query in [q for kind in KINDS for q in asked[kind]][:WARM_UP]:
            index.search(query, scope=scope)
        latency: dict[str, list[float]] = {}
        matching: list[float] = []
        capped = 0
        documents: dict[str, list[int]] = {}
        for kind in KINDS:
            for query in asked[kind]:
                began = time.perf_counter()
                result = index.search(query, scope=scope)
                latency.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
                documents.setdefault(kind, []).append(result.total_documents)
                capped += not result.complete
                # The engine's share: matching pages with their columns, without grouping into documents and
                # counting facets (a private call, on purpose: it explains where the time goes).
                began = time.perf_counter()
                index._guarded_match(parse(query), restriction(scope, None), MAX_PAGE_HITS)
                matching.append((time.perf_counter() - began) * 1000)
        index.close()
    return {
        "engine": engine,
        "pages": pages,
        "build_seconds": build_seconds,
        "pages_per_s": pages / build_seconds,
        "index_mb": size / 1e6,
        "latency_ms": latency,
        "matching_ms": matching,
        "capped": capped,
        "median_documents": {kind: statistics.median(found) for kind, found in documents.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(label: str, cells: list[str]) -> None:
    print(f"{label:28}" + "".join(f"{cell:>24}" for cell in cells))


def verdict(what: str, value: float, goal: float, *, at_most: bool) -> str:
    met = value <= goal if at_most else value >= goal
    return f"{what} {value:.1f} (goal {'<=' if at_most else '>='} {goal:.0f}): {'met' if met else 'NOT met'}"


def report(results: list[dict[str, Any]], analyzer_rate: float) -> None:
    row("", [str(r["engine"]) for r in results])
    row("pages indexed / s", [f"{r['pages_per_s']:.0f}" for r in results])
    row("  vs analyzer alone", [f"{r['pages_per_s'] / analyzer_rate:.2f}x" for r in results])
    row("index size MB", [f"{r['index_mb']:.0f}" for r in results])
    row("peak RSS MB", [f"{r['peak_rss_mb']:.0f}" for r in results])
    every: dict[str, list[float]] = {str(r["engine"]): [] for r in results}
    for kind in KINDS:
        cells = []
        for r in results:
            values = r["latency_ms"][kind]
            every[str(r["engine"])].extend(values)
            cells.append(f"{percentile(values, 0.5):6.2f} /{percentile(values, 0.95):7.2f} ms")
        row(f"{kind} p50/p95", cells)
    row("  documents found (median)", [f"{r['median_documents']['1 term']:.0f}" for r in results])
    p50 = {name: percentile(values, 0.5) for name, values in every.items()}
    p95 = {name: percentile(values, 0.95) for name, values in every.items()}
    row("all queries p50/p95", [f"{p50[n]:6.2f} /{p95[n]:7.2f} ms" for n in every])
    row(
        "  engine matching only",
        [f"{percentile(r['matching_ms'], 0.5):6.2f} /{percentile(r['matching_ms'], 0.95):7.2f} ms" for r in results],
    )
    row("  queries hitting the cap", [f"{r['capped']}/{len(r['matching_ms'])}" for r in results])
    print(f"\nanalyzer alone: {analyzer_rate:.0f} pages/s (one core)")
    rates = {str(r["engine"]): float(r["pages_per_s"]) for r in results}
    for name, reference in (("tantivy", "whoosh"), ("whoosh", "plain whoosh")):
        print(
            f"{name} vs {reference}: {rates[name] / rates[reference]:.2f}x pages/s; latency "
            f"p50 {p50[name] / p50[reference]:.2f}x, p95 {p95[name] / p95[reference]:.2f}x (below 1: faster)"
        )
    for name, goal in GOALS.items():
        verdicts = [verdict("p95 ms", p95[name], goal["p95_ms"], at_most=True)]
        if "pages_per_s" in goal:
            verdicts.append(verdict("pages/s", rates[name], goal["pages_per_s"], at_most=False))
        print(f"{name}: " + "; ".join(verdicts))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        engine, path, asked = sys.argv[2], Path(sys.argv[3]), json.loads(Path(sys.argv[4]).read_text())
        run = run_reference if engine == "plain whoosh" else functools.partial(run_engine, engine)
        print(json.dumps(run(path, asked)))
        return
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    per_kind = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    path = corpus(pages)
    asked = queries(path, per_kind)
    asked_file = CACHE / "search-queries.json"
    asked_file.write_text(json.dumps(asked, ensure_ascii=False))
    analyzer_rate = analyzer_pages_per_second(path)
    results = []
    for engine in [*sorted(ENGINES, reverse=True), "plain whoosh"]:  # whoosh (the default) first
        print(f"{engine}: indexing {pages} pages, then {per_kind * len(KINDS)} queries ...", flush=True)
        child = subprocess.run(
            [sys.executable, "-m", "bench.bench_search", "--child", engine, str(path), str(asked_file)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(
        f"\n{pages} generated pages (~2 KB each, 60% Chinese documents), {per_kind} queries per kind, access filter on"
    )
    report(results, analyzer_rate)


if __name__ == "__main__":
    main()
