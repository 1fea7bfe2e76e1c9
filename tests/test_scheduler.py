"""`dangan scheduler`: the duties on their intervals with a real archive (null OCR engine), a real local backup
target and the real services: the first pass runs every duty, the next finds nothing due, a failing duty is
recorded as failed and the others still run, every run is logged and the log still verifies; the compliance
report is kept in the store and graded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access.auditing import AuditService
from api.http.app import create_app
from api.ingest.batches import BatchService
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.verification import VerificationService
from api.records.holds import HoldService
from api.runners.compliance import compliance_report
from api.runners.scheduler import Scheduler
from api.wiring import Context, build_context
from archive.errors import PermissionDenied
from archive.models import AuditEvent, Document, ScheduleRun
from archive.preservation.fixity import UNTRACKED
from archive.schedule import Duty
from storage_config.settings import ScheduleOptions, Settings
from tests.actors import ARCHIVIST, AUDITOR, STAFF, SYSADMIN, bearer
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render
from tests.workflow_helpers import file_batch


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Context]:
    scans = [
        render(tmp_path / "scans", f"letter-{n}.png", f"Letter {n} of the records office.", "eng", seed=n)
        for n in range(2)
    ]
    context = make_context(tmp_path / "var")
    assert ingest_paths(context, scans, actor=ARCHIVIST, languages="eng").exit_code() == 0
    BackupTargets(context).add(SYSADMIN, TargetSpec(name="vault", kind="local", path=str(tmp_path / "vault")))
    yield context
    context.close()


def test_the_first_pass_runs_every_duty_and_the_next_finds_nothing_due(archive: Context) -> None:
    runs = Scheduler(archive).run_due(SYSADMIN)
    outcomes = {run.duty: run.outcome for run in runs}
    assert list(outcomes) == ["backup", "verify_sample", "drill", "checkpoint", "compliance", "retention_due"]
    assert all(outcomes[d] == "success" for d in ("backup", "verify_sample", "drill", "checkpoint")), runs
    assert outcomes["retention_due"] == "success"  # nothing filed, so nothing due
    assert outcomes["compliance"] in ("success", "warnings")
    backup = next(run for run in runs if run.duty == "backup")
    assert backup.summary["statuses"] == {"vault": "complete"}
    assert Scheduler(archive).run_due(SYSADMIN) == []  # nothing is due again yet
    with archive.db.session() as session:
        logged = session.query(AuditEvent).filter_by(action="schedule.run").all()
        assert sorted(e.target or "" for e in logged) == sorted(f"schedule:{run.duty}" for run in runs)
        assert {e.actor for e in logged} == {"system"}
        assert session.query(ScheduleRun).filter(ScheduleRun.finished_at.is_(None)).count() == 0
    assert AuditService(archive).verify(AUDITOR).ok
    plans = {plan.duty: plan for plan in Scheduler(archive).view(SYSADMIN).plans}
    assert plans["checkpoint"].next_due is not None and plans["checkpoint"].last_started is not None
    # the report it kept is the one it graded, and it is not an untracked object to the fixity check
    report = next(run for run in runs if run.duty == "compliance")
    with archive.store.open_read(report.summary["report_key"]) as stream:
        kept = json.loads(stream.read())
    assert kept["grade"] == report.summary["grade"] and kept["drills"] == {"passed": 1}
    verification = VerificationService(archive).verify(SYSADMIN, level="structure")
    assert not [f for f in verification.findings if f.category == UNTRACKED]


def test_a_failing_duty_is_recorded_and_the_others_still_run(archive: Context, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    if vault.is_dir():
        vault.rmdir()
    vault.write_bytes(b"not a directory")  # the target's disk is gone and a file stands in its place
    runs = {run.duty: run for run in Scheduler(archive).run_due(SYSADMIN)}
    assert runs["backup"].outcome == "failed" and runs["backup"].summary["message"], runs["backup"]
    assert runs["verify_sample"].outcome == "success" and runs["checkpoint"].outcome == "success"
    assert runs["drill"].outcome == "warnings"  # no complete backup to drill from
    report = compliance_report(archive, AUDITOR, days=1)
    assert report.grade.value in ("warnings", "errors") and report.findings


def test_switched_off_duties_and_one_duty_on_demand(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "var", workers=1, ocr_engine="null")
    settings.schedule = ScheduleOptions(
        backup_hours=0, verify_sample_hours=0, drill_days=0, compliance_days=0, retention_due_days=0
    )
    context = build_context(settings)
    try:
        from api.preservation.maintenance import MaintenanceService

        MaintenanceService(context).initialise()
        assert [run.duty for run in Scheduler(context).run_due(SYSADMIN)] == ["checkpoint"]
        again = Scheduler(context).run_due(SYSADMIN, only=Scheduler(context).plans()[1].duty)
        assert [run.duty for run in again] == ["verify_sample"] and again[0].outcome == "success"
    finally:
        context.close()


def test_the_loop_stops_when_asked(archive: Context) -> None:
    archive.settings.schedule = ScheduleOptions(tick_seconds=0.05)
    stop, seen = threading.Event(), []

    def on_run(run: object) -> None:
        seen.append(run)
        if len(seen) == len(Duty):
            stop.set()

    worker = threading.Thread(target=Scheduler(archive).loop, args=(SYSADMIN, stop), kwargs={"on_run": on_run})
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive() and len(seen) == len(Duty)  # the first pass runs every duty, then it stops


def test_who_may_run_the_scheduler_and_read_the_report(archive: Context) -> None:
    for who in (STAFF, ARCHIVIST, AUDITOR):
        with pytest.raises(PermissionDenied):
            Scheduler(archive).run_due(who)
    for who in (STAFF, SYSADMIN):
        with pytest.raises(PermissionDenied):
            compliance_report(archive, who)


def test_cli(archive: Context, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(archive.settings.home, capsys, user="sysadmin")
    once = cli("scheduler", "--once")
    assert once.exit_code == 0, once.stderr + once.stdout
    assert "backup: success" in once.stdout and "checkpoint: success" in once.stdout
    assert "nothing is due" in cli("scheduler", "--once").stdout
    shown = cli("scheduler", "status")
    assert shown.exit_code == 0 and "verify_sample" in shown.stdout and "never" not in shown.stdout
    assert cli("--user", "staff", "scheduler", "--once").exit_code != 0
    report = cli("--user", "auditor", "scheduler", "report", "--days", "1", "--json")
    assert report.exit_code == report.json["exit_code"] and report.json["key"].startswith("reports/compliance/")


def _overdue_record(context: Context, tmp_path: Path) -> int:
    """A filed Y10 record of 2000: due since 1 January 2011."""
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="OLD", languages="eng", year=2000, retention="Y10")
    page = render(tmp_path / "old", "ledger.png", "Ledger of the harbour dues, 2000.", "eng", seed=41)
    document_id = int(ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch.id).jobs[0].document_id or 0)
    file_batch(context, batch.id)
    return document_id


def test_the_retention_due_list_duty_counts_what_waits_for_a_disposition(archive: Context, tmp_path: Path) -> None:
    document_id = _overdue_record(archive, tmp_path)
    [run] = Scheduler(archive).run_due(SYSADMIN, only=Duty.RETENTION_DUE)
    assert run.outcome == "warnings", run.summary
    assert run.summary["due"] == 1 and run.summary["held"] == 0 and run.summary["not_appraised"] == 1
    assert run.summary["within_days"] == 90 and "dangan retention due" in run.summary["next"]
    with archive.db.session() as session:
        reference = session.get(Document, document_id).reference_code  # type: ignore[union-attr]
    assert reference not in json.dumps(run.summary)  # counts only: the list is the archivist's to read
    HoldService(archive).hold(ARCHIVIST, document_id, reason="litigation about the harbour dues")
    [held] = Scheduler(archive).run_due(SYSADMIN, only=Duty.RETENTION_DUE)
    assert held.outcome == "success" and held.summary["held"] == 1, held.summary
    report = compliance_report(archive, AUDITOR, days=1)
    assert report.retention == {"due": 1, "held": 1, "in_disposition": 0}
    assert "retention_overdue" not in [item.code for item in report.items]


def test_the_compliance_report_is_coded_kept_and_read_again_in_chinese_and_english(
    archive: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _overdue_record(archive, tmp_path)
    cli = Cli(archive.settings.home, capsys, user="auditor")
    made = cli("scheduler", "report", "--days", "1", "--json", "--html", str(tmp_path / "report.html"))
    assert made.exit_code == 10, made.stdout + made.stderr  # warnings: no backup, no drill, a record overdue
    codes = {item["code"]: item for item in made.json["items"]}
    assert {"no_backup", "no_drill", "retention_overdue"} <= set(codes)
    assert codes["retention_overdue"]["params"] == {"count": 1} and codes["retention_overdue"]["severity"] == "warning"
    assert made.json["findings"] == [item["message"] for item in made.json["items"]]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "合规检查报告" in page and "1 件档案已过保管期限且尚未进入处置" in page and "本期没有备份运行" in page
    stamp = made.json["key"].removeprefix("reports/compliance/").removesuffix(".json")
    listed = cli("scheduler", "reports", "--json")
    assert listed.exit_code == 0 and listed.json["reports"] == [stamp]
    again = cli("scheduler", "report", "--kept", stamp, "--json", "--html", str(tmp_path / "en.html"), "--lang", "en")
    assert again.json == made.json
    assert "1 record(s) are past their retention period" in (tmp_path / "en.html").read_text(encoding="utf-8")
    assert cli("scheduler", "report", "--kept", "20000101T000000Z").exit_code == 4  # not found
    officer, staff = bearer(archive, "officer", ["compliance"]), bearer(archive, "reader", ["staff"])
    with TestClient(create_app(archive)) as client:
        assert client.get("/api/v1/audit/compliance-reports", headers=officer).json() == {"reports": [stamp]}
        kept = client.get(f"/api/v1/audit/compliance-reports/{stamp}", headers=officer)
        assert kept.status_code == 200 and kept.json()["items"] == made.json["items"]
        html = client.get(f"/api/v1/audit/compliance-reports/{stamp}/html?lang=en", headers=officer)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "Compliance report" in html.text and "No backup run in the period." in html.text
        assert client.get("/api/v1/audit/compliance-reports/nonsense", headers=officer).status_code == 400
        assert client.get("/api/v1/audit/compliance-reports/20000101T000000Z", headers=officer).status_code == 404
        assert client.get("/api/v1/audit/compliance-reports", headers=staff).status_code == 403
