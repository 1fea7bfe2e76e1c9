"""OCR engines by name: `ENGINES[name](options)` builds one (house rule 10: a Protocol, a name→factory dict, one
contract test, tests/test_ocr_engine_contract.py). Factories import their engine lazily, so naming engines
(settings validation, `dangan --help`) loads no OCR library.

"auto" reads each page with the engine for its script: PP-OCR for Chinese, tesseract for Latin text."""

from __future__ import annotations

from collections.abc import Callable

from archive.errors import ConfigurationError
from ingest.engines.base import EngineOptions, OcrEngine


def _tesseract(options: EngineOptions) -> OcrEngine:
    from ingest.engines.tesseract import TesseractEngine

    return TesseractEngine()


def _ppocr(options: EngineOptions) -> OcrEngine:
    from ingest.engines.ppocr import PpocrEngine

    return PpocrEngine(options)


def _auto(options: EngineOptions) -> OcrEngine:
    from ingest.engines.auto import AutoEngine

    return AutoEngine(options)


def _null(options: EngineOptions) -> OcrEngine:
    from ingest.engines.null import NullEngine

    return NullEngine()


ENGINES: dict[str, Callable[[EngineOptions], OcrEngine]] = {
    "tesseract": _tesseract,
    "ppocr": _ppocr,
    "auto": _auto,
    "null": _null,
}


def get_engine(name: str, options: EngineOptions | None = None) -> OcrEngine:
    try:
        factory = ENGINES[name]
    except KeyError:
        raise ConfigurationError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINES)}") from None
    return factory(options or EngineOptions())
