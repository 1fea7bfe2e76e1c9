"""The local job runner: a killed OCR worker is replaced; the job is retried once, then fails with a reason."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from api.ingest.batches import BatchService
from api.ingest.service import IngestService
from api.runners.local import LocalJobRunner
from api.views.ingest import JobView
from api.wiring import Context
from archive.models import Document
from ingest.grouping import PlannedItem
from tests import crashing_engine
from tests.actors import ARCHIVIST
from tests.pages import english_page


def new_batch(context: Context) -> int:
    return int(BatchService(context).create(actor=ARCHIVIST, fonds="F001", languages="eng").id)


def run_one(context: Context, path: Path, engine: object) -> JobView:
    service = IngestService(context)
    job = service.submit_item(new_batch(context), PlannedItem(path.name, (path,)), actor=ARCHIVIST)
    runner = LocalJobRunner(service, workers=1, ocr_function=engine)  # type: ignore[arg-type]
    try:
        runner.submit(job.id).result(timeout=120)
    finally:
        runner.shutdown()
    return service.job(ARCHIVIST, job.id)


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes(context: Context, tmp_path: Path) -> None:
    page = english_page(tmp_path / "in")
    job = run_one(context, page.path, crashing_engine.killed_once)
    assert job.state == "done", job
    with context.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_a_worker_that_dies_every_time_fails_the_job_with_a_reason(context: Context, tmp_path: Path) -> None:
    page = english_page(tmp_path / "in")
    job = run_one(context, page.path, crashing_engine.killed_always)
    assert job.state == "failed"
    assert "the OCR worker process died twice" in str(job.error)
    assert list(context.store.iter_keys()) == []


def test_jobs_left_processing_by_a_crash_are_resumed(context: Context, tmp_path: Path) -> None:
    from sqlalchemy import update

    from archive.models import IngestJob

    service = IngestService(context)
    page = english_page(tmp_path / "in")
    job = service.submit_item(new_batch(context), PlannedItem(page.path.name, (page.path,)), actor=ARCHIVIST)
    with context.db.write() as session:  # as if the process died while OCR was running
        session.execute(update(IngestJob).where(IngestJob.id == job.id).values(state="processing"))
    assert service.pending_job_ids() == [job.id]
    runner = LocalJobRunner(service, workers=1)
    try:
        runner.submit(job.id).result(timeout=120)
    finally:
        runner.shutdown()
    assert service.job(ARCHIVIST, job.id).state == "done"
    assert service.pending_job_ids() == []
