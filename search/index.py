"""Open the configured search engine. Both engines implement `SearchIndex` (search/engine.py) and pass the
same contract tests (tests/test_search_contract.py)."""

from __future__ import annotations

from pathlib import Path

from search.engine import VERSION_FILE, SearchIndex
from search.tantivy_index import TantivyIndex
from search.whoosh_index import WhooshIndex

ENGINES: dict[str, type[SearchIndex]] = {"whoosh": WhooshIndex, "tantivy": TantivyIndex}
DEFAULT_ENGINE = "whoosh"

__all__ = ["DEFAULT_ENGINE", "ENGINES", "VERSION_FILE", "SearchIndex", "open_index"]


def open_index(directory: Path, engine: str = DEFAULT_ENGINE) -> SearchIndex:
    return ENGINES[engine](directory)
