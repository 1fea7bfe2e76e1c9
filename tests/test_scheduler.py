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

from api.access.auditing import AuditService
from api.access.compliance_report import compliance_report
from api.preservation.backup_targets import BackupTargets, TargetSpec
from api.preservation.verification import VerificationService
from api.runners.scheduler import Scheduler
from api.wiring import Context, build_context
from archive.errors import PermissionDenied
from archive.models import AuditEvent, ScheduleRun
from archive.preservation.fixity import UNTRACKED
from storage_config.settings import ScheduleOptions, Settings
from tests.actors import ARCHIVIST, AUDITOR, STAFF, SYSADMIN
from tests.conftest import Cli, make_context
from tests.intake import ingest_paths
from tests.pages import render


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
    assert list(outcomes) == ["backup", "verify_sample", "drill", "checkpoint", "compliance"]
    assert all(outcomes[d] == "success" for d in ("backup", "verify_sample", "drill", "checkpoint")), runs
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
    settings.schedule = ScheduleOptions(backup_hours=0, verify_sample_hours=0, drill_days=0, compliance_days=0)
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
        if len(seen) == 5:
            stop.set()

    worker = threading.Thread(target=Scheduler(archive).loop, args=(SYSADMIN, stop), kwargs={"on_run": on_run})
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive() and len(seen) == 5


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
