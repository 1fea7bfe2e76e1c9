"""Graded verification of the primary store (structure, sample, full): exact counts for injected faults.

Faults go in through the real seam, the files of the local store: flipped bits, deleted and truncated objects,
two objects' files exchanged, and stray files under ``sha256/`` that no catalogue row names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from api.preservation.verification import VerificationService
from api.wiring import Context
from archive.errors import NotFound
from archive.models import AuditEvent, Document, StoredObject, VerificationRun
from archive.preservation.fixity import CATEGORIES, choose_sample
from tests.actors import SYSADMIN, bearer
from tests.conftest import Cli, make_context
from tests.ingested import copy_home, ingested_home

TEXTS = (
    "Harbour Board minutes. The dredging contract was approved for the northern channel.",
    "Water Works ledger. Pump station repairs were paid from the capital reserve fund.",
    "School Council letter. New desks and lamps are requested for the evening classes.",
    "Land Registry notice. Boundary stones on the eastern road were surveyed again.",
)
ROLES = ("original", "pdfa", "text")


@dataclass(frozen=True)
class Obj:
    document_id: int
    key: str
    path: Path


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four small English pages ingested once (null OCR engine); each test works on its own copy."""
    return ingested_home(tmp_path_factory.mktemp("graded"), TEXTS)


@pytest.fixture
def home(template_home: Path, tmp_path: Path) -> Path:
    return copy_home(template_home, tmp_path)


@pytest.fixture
def context(home: Path) -> Iterator[Context]:
    ctx = make_context(home)
    yield ctx
    ctx.close()


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Verification is the system administrator's: the CLI acts as the `sysadmin` account."""
    return Cli(home, capsys, user="sysadmin")


def objects(context: Context) -> dict[tuple[int, str], Obj]:
    """(item number, role) → the object; every object has a key of its own."""
    root = context.settings.resolved_storage_path
    with context.db.session() as session:
        rows = session.query(StoredObject, Document.original_filename).join(Document).all()
    found = {
        (int(name.removeprefix("item-").removesuffix(".png")), row.role): Obj(row.document_id, row.key, root / row.key)
        for row, name in rows
    }
    assert len(found) == len({o.key for o in found.values()}) == len(TEXTS) * len(ROLES)
    return found


def flip(obj: Obj) -> None:
    data = bytearray(obj.path.read_bytes())
    data[len(data) // 2] ^= 0x04
    obj.path.write_bytes(bytes(data))


def truncate(obj: Obj) -> None:
    obj.path.write_bytes(obj.path.read_bytes()[:-3])


def swap(a: Obj, b: Obj) -> None:
    first, second = a.path.read_bytes(), b.path.read_bytes()
    a.path.write_bytes(second)
    b.path.write_bytes(first)


def add_untracked(context: Context, label: str) -> str:
    digest = hashlib.sha256(label.encode()).hexdigest()
    key = f"sha256/{digest[:2]}/{digest}"
    path = context.settings.resolved_storage_path / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f"stray object {label}".encode())
    return key


def zero_counts(**found: int) -> dict[str, int]:
    return {category: found.get(category, 0) for category in CATEGORIES}


def test_full_level_finds_every_injected_fault_and_nothing_else(cli: Cli, context: Context) -> None:
    objs = objects(context)
    flipped = [objs[0, "original"], objs[1, "original"], objs[0, "pdfa"], objs[0, "text"]]
    for obj in flipped:
        flip(obj)
    objs[1, "pdfa"].path.unlink()
    truncate(objs[1, "text"])
    swap(objs[2, "original"], objs[3, "original"])
    stray = {add_untracked(context, "one"), add_untracked(context, "two")}

    result = cli("verify", "--json")
    assert result.exit_code == 9
    report = result.json
    assert report["status"] == "errors" and report["exit_code"] == 9 and report["level"] == "full"
    assert report["counts"] == zero_counts(missing=1, size_changed=1, content_changed=4, swapped=1, untracked=2)
    assert report["objects_checked"] == 12 and report["objects_hashed"] == 11
    by_category: dict[str, set[str]] = {}
    for finding in report["findings"]:
        by_category.setdefault(finding["category"], set()).add(finding["key"])
    assert by_category["content_changed"] == {o.key for o in flipped}
    assert by_category["missing"] == {objs[1, "pdfa"].key}
    assert by_category["size_changed"] == {objs[1, "text"].key}
    assert by_category["untracked"] == stray
    (pair,) = [f for f in report["findings"] if f["category"] == "swapped"]
    assert {pair["key"], pair["partner_key"]} == {objs[2, "original"].key, objs[3, "original"].key}
    assert {pair["document_id"], pair["partner_document_id"]} == {
        objs[2, "original"].document_id,
        objs[3, "original"].document_id,
    }
    assert pair["role"] == pair["partner_role"] == "original"
    text = cli("verify").stdout
    assert "SWAPPED" in text and "UNTRACKED" in text and "ERRORS" in text


def test_structure_level_checks_existence_and_size_and_hashes_nothing(context: Context) -> None:
    objs = objects(context)
    objs[0, "pdfa"].path.unlink()
    truncate(objs[1, "text"])
    flip(objs[2, "original"])  # same size: invisible without hashing
    stray = add_untracked(context, "stray")

    report = VerificationService(context).verify(SYSADMIN, level="structure")
    assert report.counts == zero_counts(missing=1, size_changed=1, untracked=1)
    assert report.bytes_read == 0 and report.objects_hashed == 0 and report.objects_checked == 12
    assert {(f.category, f.key) for f in report.findings} == {
        ("missing", objs[0, "pdfa"].key),
        ("size_changed", objs[1, "text"].key),
        ("untracked", stray),
    }
    assert any("swapped" in note and "not detectable" in note for note in report.notes)
    assert report.status == "errors" and report.exit_code == 9


def test_sample_level_is_reproducible_and_records_its_seed(context: Context) -> None:
    objs = objects(context)
    for obj in objs.values():
        flip(obj)  # every object changed: the findings are exactly the sampled keys
    service = VerificationService(context)
    first = service.verify(SYSADMIN, level="sample", percent=25, seed=42)
    again = service.verify(SYSADMIN, level="sample", percent=25, seed=42)
    drawn = choose_sample([o.key for o in objs.values()], percent=25, seed=42)
    assert len(drawn) == 3
    for report in (first, again):
        assert report.seed == 42 and report.percent == 25 and report.level == "sample"
        assert report.counts == zero_counts(content_changed=3)
        assert {f.key for f in report.findings} == drawn
        assert report.objects_hashed == 3 and report.objects_checked == 12
        assert report.bytes_read == sum(o.path.stat().st_size for o in objs.values() if o.key in drawn)

    unseeded = service.verify(SYSADMIN, level="sample", percent=1)
    assert isinstance(unseeded.seed, int) and unseeded.objects_hashed == 1  # at least one object
    replay = service.verify(SYSADMIN, level="sample", percent=1, seed=unseeded.seed)
    assert replay.findings == unseeded.findings


def test_sample_hashes_the_partner_of_a_swapped_object(context: Context) -> None:
    objs = objects(context)
    a, b = objs[2, "text"], objs[3, "text"]
    swap(a, b)
    keys = [o.key for o in objs.values()]
    seed = next(
        s for s in range(1000) if (drawn := choose_sample(keys, percent=5, seed=s)) == {a.key} or drawn == {b.key}
    )
    report = VerificationService(context).verify(SYSADMIN, level="sample", percent=5, seed=seed)
    assert report.counts == zero_counts(swapped=1)
    assert report.objects_hashed == 2


def test_exit_codes_clean_warnings_errors(cli: Cli, context: Context) -> None:
    clean = cli("verify", "--level", "structure", "--json")
    assert clean.exit_code == 0 and clean.json["status"] == "clean"
    context.store.put_bytes("audit/checkpoints/0001.json", b"{}")  # not a catalogue object: ignored
    add_untracked(context, "warning")
    warned = cli("verify", "--json")
    assert warned.exit_code == 10 and warned.json["status"] == "warnings"
    assert warned.json["counts"] == zero_counts(untracked=1)
    assert "WARNINGS" in cli("verify", "--level", "sample", "--seed", "3").stdout
    objects(context)[0, "text"].path.unlink()
    assert cli("verify", "--level", "sample", "--percent", "10").exit_code == 9
    assert cli("verify", "--level", "thorough").exit_code == 2
    assert cli("verify", "--level", "sample", "--percent", "0").exit_code == 2


def test_runs_are_stored_audited_and_listed_through_the_api(cli: Cli, context: Context) -> None:
    objects(context)[1, "original"].path.unlink()
    assert cli("verify", "--level", "structure").exit_code == 9
    admin = bearer(context, "ops", ["sysadmin"])  # a second system administrator, over HTTP
    compliance = bearer(context, "inspector", ["compliance"], clearance="public")
    client = TestClient(create_app(context))

    posted = client.post("/api/v1/verify", json={"level": "sample", "percent": 50, "seed": 7}, headers=admin)
    assert posted.status_code == 200, posted.text
    assert posted.json()["seed"] == 7 and posted.json()["counts"]["missing"] == 1
    assert client.post("/api/v1/verify", json={"level": "full", "store": "x"}, headers=admin).status_code == 400
    assert client.post("/api/v1/verify", json={"level": "deep"}, headers=admin).status_code == 400
    assert client.post("/api/v1/verify", json={}, headers=compliance).status_code == 403

    listed = client.get("/api/v1/verify/runs", headers=compliance).json()["runs"]
    assert [(r["level"], r["status"], r["actor"]) for r in listed] == [
        ("sample", "errors", "ops"),
        ("structure", "errors", "sysadmin"),  # the CLI acts as a named account
    ]
    assert listed[0]["id"] == posted.json()["run_id"] and listed[0]["seed"] == 7
    detail = client.get(f"/api/v1/verify/runs/{listed[1]['id']}", headers=admin).json()
    assert detail["report"]["counts"]["missing"] == 1 and detail["report"]["findings"][0]["role"] == "original"
    assert client.get("/api/v1/verify/runs/999", headers=admin).status_code == 404
    with pytest.raises(NotFound):
        VerificationService(context).run(SYSADMIN, 999)

    with context.db.session() as session:
        events = session.query(AuditEvent).filter_by(action="verify.run").order_by(AuditEvent.id).all()
        runs = session.query(VerificationRun).order_by(VerificationRun.id).all()
    assert [(e.outcome, e.target) for e in events] == [("errors", f"verification:{r.id}") for r in runs]
    assert events[1].actor == "ops" and events[1].details["seed"] == 7
    assert [r["id"] for r in cli("verify", "--list", "--json").json["runs"]] == [r.id for r in reversed(runs)]
    assert "structure" in cli("verify", "--list").stdout
