"""Open the configured search engine. Both engines implement `SearchIndex` (search/engine.py) and pass the
same contract tests (tests/test_search_contract.py).

An engine's module (and its library) is imported only when that engine is opened: a whoosh installation never
loads tantivy, and `dangan --help` loads neither engine's storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from search.engine import VERSION_FILE, SearchIndex


def _whoosh(directory: Path) -> SearchIndex:
    from search.whoosh_index import WhooshIndex

    return WhooshIndex(directory)


def _tantivy(directory: Path) -> SearchIndex:
    from search.tantivy_index import TantivyIndex

    return TantivyIndex(directory)


ENGINES: dict[str, Callable[[Path], SearchIndex]] = {"whoosh": _whoosh, "tantivy": _tantivy}
DEFAULT_ENGINE = "whoosh"

__all__ = ["DEFAULT_ENGINE", "ENGINES", "VERSION_FILE", "SearchIndex", "open_index"]


def open_index(directory: Path, engine: str = DEFAULT_ENGINE) -> SearchIndex:
    return ENGINES[engine](directory)
