"""OCR engines by name: `ENGINES[name]()` builds one (house rule 10: a Protocol, a name→factory dict, one contract
test, tests/test_ocr_engine_contract.py). Factories import their engine lazily, so naming engines (settings
validation, `dangan --help`) loads no OCR library."""

from __future__ import annotations

from collections.abc import Callable

from archive.errors import ConfigurationError
from ingest.engines.base import OcrEngine


def _tesseract() -> OcrEngine:
    from ingest.engines.tesseract import TesseractEngine

    return TesseractEngine()


def _null() -> OcrEngine:
    from ingest.engines.null import NullEngine

    return NullEngine()


ENGINES: dict[str, Callable[[], OcrEngine]] = {"tesseract": _tesseract, "null": _null}


def get_engine(name: str) -> OcrEngine:
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ConfigurationError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINES)}") from None
    return factory()
