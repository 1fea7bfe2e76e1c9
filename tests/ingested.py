"""A data directory with a few English pages ingested once per test module, and a fresh copy of it per test.

Ingesting (real OCR unless the engine says otherwise) is the slow part of the preservation tests; the tests
themselves damage, back up, restore or repair their own copy, so the template stays untouched.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from tests.actors import ARCHIVIST
from tests.conftest import make_context
from tests.intake import ingest_paths
from tests.pages import render


def ingested_home(root: Path, texts: Sequence[str], *, ocr_engine: str = "null") -> Path:
    """`root/var` with one single-page English item per text, ingested by the archivist."""
    scans = [render(root / "scans", f"item-{n}.png", text, "eng", seed=n) for n, text in enumerate(texts)]
    context = make_context(root / "var", ocr_engine=ocr_engine)
    try:
        assert ingest_paths(context, scans, actor=ARCHIVIST, languages="eng").exit_code() == 0
    finally:
        context.close()
    return root / "var"


def copy_home(template: Path, tmp_path: Path) -> Path:
    """The test's own copy of a template data directory, at tmp_path/var."""
    shutil.copytree(template, tmp_path / "var")
    return tmp_path / "var"
