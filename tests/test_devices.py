"""Digitisation process metadata and the scanning-devices register: devices registered, calibrated and retired
(CLI and HTTP), overdue calibrations warned of in the list and in `dangan status`, a batch's declared device and
settings, each page's EXIF/TIFF capture tags, a declared-vs-image mismatch as a page finding, and the record's
PREMIS imaging event at filing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from api.http.app import create_app
from api.ingest.batches import BatchService
from api.ingest.devices import DeviceService
from api.ingest.process import ProcessService, ScanProcess
from api.preservation.status import StatusService
from api.records.history import document_history
from api.wiring import Context
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.models import AuditEvent, DeviceMaintenance, Page, QualityFinding
from tests.actors import ARCHIVIST, STAFF, SYSADMIN, bearer
from tests.conftest import Cli
from tests.intake import ingest_paths
from tests.pages import render

TEXT = "Harbour Board minutes. The dredging contract was approved for the northern channel."


def scan(folder: Path, name: str, *, dpi: int, make: str = "Fujitsu", model: str = "fi-7160", seed: int = 3) -> Path:
    """A rendered page saved as a TIFF carrying the scanner's EXIF/TIFF tags (Make, Model, Software, DateTime, dpi),
    with the null engine's sidecar text beside it."""
    png = render(folder / "raw", f"{Path(name).stem}.png", TEXT, "eng", seed=seed)
    tags = Image.Exif()
    tags[271], tags[272], tags[305], tags[306] = make, model, "PaperStream 3.1", "2026:12:01 09:30:00"
    target = folder / name
    with Image.open(png) as image:
        image.convert("L").save(target, dpi=(dpi, dpi), exif=tags)
    target.with_suffix(".txt").write_text(TEXT, encoding="utf-8")
    return target


def register(context: Context, code: str = "SCN-01", *, next_due: dt.date | None = None) -> None:
    devices = DeviceService(context)
    devices.add(
        SYSADMIN, code=code, name="Fujitsu fi-7160, room 203", make="Fujitsu", model="fi-7160", serial_number="A1"
    )
    devices.log_maintenance(
        ARCHIVIST, code, result="pass", next_due=next_due or dt.date.today() + dt.timedelta(days=180)
    )


def test_register_calibrate_and_list_shows_the_next_due_day(context: Context) -> None:
    register(context, next_due=dt.date(2099, 6, 1))
    listed = DeviceService(context).all(ARCHIVIST)
    assert [(d.code, d.status, d.next_due, d.calibration_overdue) for d in listed.devices] == [
        ("SCN-01", "active", "2099-06-01", False)
    ]
    assert listed.warnings == []
    shown = DeviceService(context).show(SYSADMIN, "SCN-01")
    assert [(m.kind, m.result, m.done_by) for m in shown.maintenance] == [("calibration", "pass", ARCHIVIST.username)]
    with context.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "device.add" in actions and "device.maintenance" in actions


def test_an_overdue_calibration_is_warned_of_in_the_list_and_in_status(context: Context) -> None:
    register(context)
    with context.db.write() as session:  # the calibration was done long ago and its due day has passed
        entry = session.scalars(select(DeviceMaintenance)).one()
        entry.done_at = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
        entry.next_due = dt.date(2025, 7, 1)
    listed = DeviceService(context).all(ARCHIVIST)
    assert listed.devices[0].calibration_overdue is True
    assert listed.warnings and "overdue" in listed.warnings[0] and "2025-07-01" in listed.warnings[0]
    status = StatusService(context).status(SYSADMIN, show_paths=False)
    assert any(
        w.code == "calibration_overdue" and w.params == {"count": 1, "devices": "SCN-01"} for w in status.warning_codes
    )
    # a batch may still name it: a warning, not a refusal
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(device="SCN-01", dpi=300))
    assert batch.process is not None and any("overdue" in w for w in batch.process.warnings)


def test_bad_device_input_is_refused_and_changes_nothing(context: Context) -> None:
    devices = DeviceService(context)
    with pytest.raises(InvalidInput):
        devices.add(ARCHIVIST, code="no spaces!", name="x")
    register(context)
    with pytest.raises(Conflict):
        devices.add(ARCHIVIST, code="SCN-01", name="again")
    with pytest.raises(InvalidInput):
        devices.log_maintenance(ARCHIVIST, "SCN-01", result="maybe")
    with pytest.raises(InvalidInput):
        devices.log_maintenance(ARCHIVIST, "SCN-01", next_due=dt.date(2000, 1, 1))
    with pytest.raises(NotFound):
        devices.show(ARCHIVIST, "SCN-99")
    assert len(devices.show(ARCHIVIST, "SCN-01").maintenance) == 1
    with pytest.raises(InvalidInput):
        BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(dpi=10))
    with pytest.raises(InvalidInput):
        BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(colour_mode="sepia"))
    with pytest.raises(InvalidInput) as bad_time:
        BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(scan_started="yesterday"))
    assert bad_time.value.params == {"setting": "scan_started", "value": "yesterday"}
    with pytest.raises(InvalidInput):
        BatchService(context).create(
            actor=ARCHIVIST, fonds="F1", process=ScanProcess(scan_started="2026-12-02T10:00", scan_ended="2026-12-01")
        )
    assert BatchService(context).all(ARCHIVIST).batches == []


def test_staff_may_not_see_or_manage_devices(context: Context) -> None:
    register(context)
    devices = DeviceService(context)
    for call in (
        lambda: devices.all(STAFF),
        lambda: devices.show(STAFF, "SCN-01"),
        lambda: devices.add(STAFF, code="SCN-02", name="x"),
        lambda: devices.log_maintenance(STAFF, "SCN-01"),
        lambda: devices.retire(STAFF, "SCN-01"),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_retired_device_is_refused_for_a_batch(context: Context, tmp_path: Path) -> None:
    register(context)
    named = BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(device="SCN-01")).id
    DeviceService(context).retire(SYSADMIN, "SCN-01", notes="lamp failed")
    # a batch that named it before takes no more scans until it names the device in use
    run = ingest_paths(context, [scan(tmp_path / "in", "late.tif", dpi=300)], actor=ARCHIVIST, batch_id=named)
    assert run.summary.skipped == 1 and run.summary.done == 0 and "retired" in repr(run), run
    assert BatchService(context).status(ARCHIVIST, named).process.warning_codes[0].code == "retired"  # type: ignore[union-attr]
    with pytest.raises(Conflict) as refused:
        BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(device="SCN-01"))
    assert refused.value.reason == Conflict.DEVICE_RETIRED and "retired" in refused.value.message
    assert [b.id for b in BatchService(context).all(ARCHIVIST).batches] == [named]
    with pytest.raises(Conflict):
        DeviceService(context).log_maintenance(ARCHIVIST, "SCN-01")


def test_pages_carry_their_capture_tags_and_a_dpi_mismatch_is_a_finding(context: Context, tmp_path: Path) -> None:
    register(context)
    process = ScanProcess(device="SCN-01", dpi=300, colour_mode="grey", bit_depth=8, file_format="TIFF")
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", languages="eng", process=process)
    assert batch.process is not None and batch.process.operator == ARCHIVIST.username
    assert batch.process.calibration is not None and batch.process.calibration.result == "pass"
    right = scan(tmp_path / "in", "right.tif", dpi=300)
    wrong = scan(tmp_path / "in", "wrong.tif", dpi=200, make="Canon", model="DR-G2140", seed=4)
    run = ingest_paths(context, [right, wrong], actor=ARCHIVIST, batch_id=batch.id)
    assert run.exit_code() in (0, 10), run
    with context.db.read() as session:
        pages = {p.document.original_filename: p for p in session.scalars(select(Page))}
        good, bad = pages["right.tif"], pages["wrong.tif"]
        assert good.process is not None and bad.process is not None
        assert good.process["image"]["make"] == "Fujitsu" and good.process["image"]["model"] == "fi-7160"
        assert good.process["image"]["x_dpi"] == 300 and good.process["image"]["taken_at"] == "2026:12:01 09:30:00"
        assert good.process["device"] == "SCN-01" and good.process["uploaded_by"] == ARCHIVIST.username
        assert good.process["declared"]["dpi"] == 300 and good.process["received_at"]
        checks = {f.check: f for f in session.scalars(select(QualityFinding)) if f.check.startswith("capture_")}
        assert {f.page_id for f in checks.values()} == {bad.id}
        assert checks["capture_dpi"].severity == "warn" and checks["capture_dpi"].measured == 200
        assert checks["capture_dpi"].threshold == 300 and "capture_device" in checks
    status = BatchService(context).status(ARCHIVIST, batch.id, check="capture_dpi")
    assert [(f.file, f.severity) for f in status.page_findings] == [("wrong.tif", "warn")]
    # the history: an imaging event first, with the device, settings, operator and the image's own tags
    events = document_history(context, ARCHIVIST, good.document_id).events
    assert events[0].event_type == "imaging" and events[1].event_type == "ingestion"
    detail = events[0].detail
    assert detail["device"]["code"] == "SCN-01" and detail["settings"]["dpi"] == 300
    assert detail["operator"] == ARCHIVIST.username and detail["image_devices"] == ["Fujitsu fi-7160"]
    assert detail["calibration"]["result"] == "pass"


def test_a_later_calibration_does_not_rewrite_the_batch_and_the_batch_changes_while_open(context: Context) -> None:
    register(context, next_due=dt.date(2099, 1, 1))
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=ScanProcess(device="SCN-01"))
    DeviceService(context).log_maintenance(ARCHIVIST, "SCN-01", result="adjusted", next_due=dt.date(2099, 12, 1))
    changed = ProcessService(context).change(ARCHIVIST, batch.id, ScanProcess(dpi=400, operator="王芳"))
    assert changed.process is not None
    assert changed.process.calibration is not None and changed.process.calibration.next_due == "2099-01-01"
    assert changed.process.settings.dpi == 400 and changed.process.operator == "王芳"
    with pytest.raises(NotFound):
        ProcessService(context).change(ARCHIVIST, 999_999, ScanProcess(dpi=300))
    with pytest.raises(PermissionDenied):
        ProcessService(context).change(STAFF, batch.id, ScanProcess(dpi=300))


def test_the_command_line(cli: Cli, tmp_path: Path) -> None:
    added = cli("--user", "sysadmin", "device", "add", "SCN-01", "--name", "Fujitsu fi-7160", "--make", "Fujitsu")
    assert added.exit_code == 0, added.stderr
    calibrated = cli("device", "calibrate", "SCN-01", "--result", "pass", "--next-due", "2099-06-01", "--notes", "ok")
    assert calibrated.exit_code == 0, calibrated.stderr
    listed = cli("device", "list")
    assert listed.exit_code == 0 and "SCN-01" in listed.stdout and "2099-06-01" in listed.stdout
    assert cli("device", "show", "SCN-01", "--json").json["maintenance"][0]["notes"] == "ok"
    made = cli(
        "batch", "create", "--fonds", "F1", "--device", "SCN-01", "--scan-dpi", "300", "--colour-mode", "grey", "--json"
    )
    assert made.exit_code == 0, made.stderr
    batch_id = str(made.json["id"])
    assert made.json["process"]["device"] == "SCN-01" and made.json["process"]["settings"]["colour_mode"] == "grey"
    status = cli("batch", "status", batch_id)
    assert status.exit_code == 0 and "device SCN-01  300 dpi, grey" in status.stdout
    changed = cli("batch", "process", batch_id, "--scan-dpi", "600", "--operator", "李明", "--json")
    assert changed.exit_code == 0 and changed.json["process"]["settings"]["dpi"] == 600
    assert cli("--user", "staff-none", "device", "list").exit_code != 0
    assert cli("device", "calibrate", "SCN-01", "--next-due", "someday").exit_code == 2
    assert cli("device", "show", "SCN-99").exit_code == 4  # not found
    assert cli("device", "retire", "SCN-01").exit_code == 0
    refused = cli("batch", "create", "--fonds", "F1", "--device", "SCN-01")
    assert refused.exit_code != 0 and "retired" in refused.stderr


def test_the_http_api(context: Context) -> None:
    with TestClient(create_app(context)) as client:
        archivist = bearer(context, "archivist", ["archivist"])
        staff = bearer(context, "reader", ["staff"])
        body = {"code": "SCN-01", "name": "Fujitsu fi-7160", "make": "Fujitsu", "model": "fi-7160"}
        assert client.post("/api/v1/devices", json=body, headers=staff).status_code == 403
        created = client.post("/api/v1/devices", json=body, headers=archivist)
        assert created.status_code == 201, created.text
        assert client.post("/api/v1/devices", json=body, headers=archivist).status_code == 409
        logged = client.post(
            "/api/v1/devices/SCN-01/maintenance", json={"result": "pass", "next_due": "2099-06-01"}, headers=archivist
        )
        assert logged.status_code == 201 and logged.json()["next_due"] == "2099-06-01"
        assert client.get("/api/v1/devices/SCN-99", headers=archivist).status_code == 404
        assert client.get("/api/v1/devices", headers=staff).status_code == 403
        assert client.get("/api/v1/devices", headers=archivist).json()["devices"][0]["code"] == "SCN-01"
        made = client.post(
            "/api/v1/batches",
            json={"fonds": "F1", "process": {"device": "SCN-01", "scan_dpi": 300, "colour_mode": "grey"}},
            headers=archivist,
        )
        assert made.status_code == 201, made.text
        assert made.json()["process"]["device_model"] == "fi-7160"
        batch_id = made.json()["id"]
        changed = client.put(f"/api/v1/batches/{batch_id}/process", json={"scan_dpi": 400}, headers=archivist)
        assert changed.status_code == 200 and changed.json()["process"]["settings"]["dpi"] == 400
        assert client.get(f"/api/v1/batches/{batch_id}", headers=archivist).json()["process"]["settings"]["dpi"] == 400
        assert client.put("/api/v1/batches/999999/process", json={}, headers=archivist).status_code == 404
        assert client.post("/api/v1/devices/SCN-01/retire", headers=archivist).status_code == 200
        refused = client.post(
            "/api/v1/batches", json={"fonds": "F1", "process": {"device": "SCN-01"}}, headers=archivist
        )
        assert refused.status_code == 409 and refused.json()["reason"] == "device_retired"


def test_the_page_view_and_the_bags_premis_carry_the_process(context: Context, tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    from api.records.bagit_export import export_bag
    from api.records.page_images import PageImageService
    from tests.workflow_helpers import file_batch

    register(context)
    process = ScanProcess(device="SCN-01", dpi=300, colour_mode="grey")
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", languages="eng", process=process)
    page = scan(tmp_path / "in", "one.tif", dpi=300)
    document_id = ingest_paths(context, [page], actor=ARCHIVIST, batch_id=batch.id).jobs[0].document_id
    assert document_id is not None
    file_batch(context, batch.id)
    shown = PageImageService(context).pages(ARCHIVIST, document_id).pages[0]
    assert shown.process is not None and shown.process.image is not None and shown.process.image.model == "fi-7160"
    assert shown.process.declared.dpi == 300 and shown.process.device == "SCN-01"
    with TestClient(create_app(context)) as client:
        record = client.get(f"/api/v1/documents/{document_id}", headers=bearer(context, "archivist", ["archivist"]))
        assert record.status_code == 200 and record.json()["digitisation"]["device"] == "SCN-01"
        assert record.json()["digitisation"]["settings"] == {
            "dpi": 300,
            "colour_mode": "grey",
            "bit_depth": None,
            "file_format": None,
        }
    export_bag(context, fonds=None, batch_id=batch.id, target=tmp_path / "bag", actor=ARCHIVIST)
    premis = "{http://www.loc.gov/premis/v3}"
    root = ET.parse(tmp_path / "bag" / "data" / "metadata" / "premis.xml").getroot()
    hardware = [a for a in root.findall(f"{premis}agent") if a.findtext(f"{premis}agentType") == "hardware"]
    assert [a.findtext(f"{premis}agentIdentifier/{premis}agentIdentifierValue") for a in hardware] == ["SCN-01"]
    assert "serial number A1" in (hardware[0].findtext(f"{premis}agentNote") or "")
    imaging = [e for e in root.findall(f"{premis}event") if e.findtext(f"{premis}eventType") == "imaging"]
    assert len(imaging) == 1
    linked = [
        x.findtext(f"{premis}linkingAgentIdentifierValue")
        for x in imaging[0].findall(f"{premis}linkingAgentIdentifier")
    ]
    assert linked == [ARCHIVIST.username, "SCN-01"]


def test_the_batch_report_names_the_device_and_its_calibration(context: Context) -> None:
    from api.ingest.acceptance import AcceptanceService
    from api.views.report_html import render_report

    register(context, next_due=dt.date(2099, 3, 1))
    process = ScanProcess(device="SCN-01", dpi=300, colour_mode="bitonal", operator="王芳")
    batch = BatchService(context).create(actor=ARCHIVIST, fonds="F1", process=process)
    report = AcceptanceService(context).report(ARCHIVIST, batch.id)
    assert report["process"]["device"] == "SCN-01" and report["process"]["settings"]["colour_mode"] == "bitonal"
    page = render_report(report)
    assert "Digitisation process" in page and "SCN-01 Fujitsu fi-7160" in page and "王芳" in page
    assert "next due 2099-03-01" in page and "dpi 300" in page


def test_an_upload_to_a_batch_with_a_never_calibrated_device_is_taken_with_a_warning(
    context: Context, tmp_path: Path
) -> None:
    DeviceService(context).add(SYSADMIN, code="SCN-02", name="Canon DR-G2140", make="Canon", model="DR-G2140")
    with TestClient(create_app(context)) as client:
        archivist = bearer(context, "archivist", ["archivist"])
        made = client.post(
            "/api/v1/batches",
            json={"fonds": "F1", "languages": "eng", "process": {"device": "SCN-02"}},
            headers=archivist,
        )
        assert made.status_code == 201 and made.json()["process"]["warning_codes"][0]["code"] == "never_calibrated"
        page = scan(tmp_path / "in", "one.tif", dpi=300, make="Canon", model="DR-G2140")
        with page.open("rb") as stream:
            accepted = client.post(
                f"/api/v1/batches/{made.json()['id']}/files",
                headers=archivist,
                files=[("files", ("one.tif", stream, "image/tiff"))],
            )
        assert accepted.status_code == 202, accepted.text
        assert len(accepted.json()["jobs"]) == 1
        assert accepted.json()["warning_codes"] == [{"code": "never_calibrated", "params": {"device": "SCN-02"}}]
        DeviceService(context).retire(SYSADMIN, "SCN-02")
        with page.open("rb") as stream:
            refused = client.post(
                f"/api/v1/batches/{made.json()['id']}/files",
                headers=archivist,
                files=[("files", ("two.tif", stream, "image/tiff"))],
            )
        assert refused.status_code == 409 and refused.json()["reason"] == "device_retired"
