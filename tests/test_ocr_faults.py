"""Faults in OCR end the job with a reason and leave no objects or document rows behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.wiring import build_context
from archive.errors import InvalidInput
from archive.models import Document, IngestJob
from storage_config.settings import Settings
from tests.actors import ARCHIVIST
from tests.intake import ingest_paths
from tests.pages import english_page

pytestmark = pytest.mark.ocr  # tesseract's own timeout and language list


def test_a_page_over_the_timeout_fails_its_job_cleanly(tmp_path: Path) -> None:
    context = build_context(Settings(home=tmp_path / "var", workers=1, ocr_page_timeout_seconds=0.05))
    try:
        page = english_page(tmp_path / "in")
        outcome = ingest_paths(context, [page.path], actor=ARCHIVIST)
        assert outcome.exit_code() == 7
        [job] = outcome.jobs
        assert job.state == "failed"
        assert "page 1: tesseract did not finish within 0 s" in str(job.error)
        with context.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Document)) == 0
            assert session.scalar(select(IngestJob.state)) == "failed"
            kept_copy = Path(str(session.scalar(select(IngestJob.spool_path))))
        assert list(context.store.iter_keys()) == []
        left = [p for p in context.settings.spool_dir.rglob("*") if p.is_file()]
        assert left and all(p.is_relative_to(kept_copy) for p in left)  # only the failed job's copy, for a retry
        assert not any((context.settings.home_dir / "work").rglob("*.pdf"))
    finally:
        context.close()


def test_a_language_that_is_not_installed_is_refused_before_queueing(tmp_path: Path) -> None:
    context = build_context(Settings(home=tmp_path / "var", workers=1))
    try:
        page = english_page(tmp_path / "in")
        with pytest.raises(
            InvalidInput, match=r"^OCR language\(s\) klingon not installed; installed: chi_sim, chi_tra, eng"
        ):
            ingest_paths(context, [page.path], actor=ARCHIVIST, languages="klingon")
        with context.db.session() as session:
            assert session.scalar(select(func.count()).select_from(IngestJob)) == 0
    finally:
        context.close()
