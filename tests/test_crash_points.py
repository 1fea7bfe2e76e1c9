"""Crash at every failpoint in the source in turn (SIGKILL of the process that reached it), restart, and the
archive holds: every acknowledged item filed exactly once, no object without a row and no row without an
object, the index complete, the audit log verifying, no job in hand, no half-written file (tests/crashpoints.py).
A point no scenario reaches, or one with no scenario, fails: a crash point nobody reaches is a defect."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.ingest.rescan import intents_dir, recover_rescans, rescan_intent
from api.ingest.service import IngestService
from api.wiring import Context
from archive.hashing import sha256_bytes
from archive.keys import content_key
from archive.scratch import owned_name
from tests.crashpoints import Case, Scenario, Tally, crash_at, failpoint_names, scenario_for

POINTS = failpoint_names()
_templates: dict[str, tuple[Path, dict[str, str]]] = {}


def test_the_source_has_crash_points_at_every_step() -> None:
    """The steps issue 12 names: ingest, filing, rescan, indexing, backup, restore (a point removed is noticed)."""
    for prefix in ("ingest.", "filing.", "rescan.", "index.", "backup.", "drill."):
        assert any(point.startswith(prefix) for point in POINTS), prefix


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash-points")


def _case(workspace: Path, scenario: Scenario) -> Case:
    """A fresh copy of the scenario's prepared state, at the path it was prepared at (built on first use)."""
    root = workspace / scenario.name / "case"
    template = workspace / scenario.name / "template"
    if scenario.name not in _templates:
        case = Case(root)
        scenario.prepare(case)
        root.rename(template)
        _templates[scenario.name] = (template, dict(case.facts))
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(template, root, symlinks=True)
    return Case(root, dict(_templates[scenario.name][1]))


def _run_scenario(workspace: Path, scenario: Scenario, points: list[str]) -> dict[str, Tally | BaseException]:
    """The scenario's points one after another (each case lives at the scenario's one path)."""
    outcomes: dict[str, Tally | BaseException] = {}
    for point in points:
        case = _case(workspace, scenario)
        try:
            outcomes[point] = crash_at(point, case, scenario)
        except Exception as exc:  # reported by the point's own test
            outcomes[point] = exc
        finally:
            shutil.rmtree(case.root, ignore_errors=True)
    return outcomes


@pytest.fixture(scope="module")
def crashed(workspace: Path, request: pytest.FixtureRequest) -> dict[str, Tally | BaseException]:
    """Every selected point crashed and checked, two scenarios at a time (each case is a few processes in a
    row, mostly waiting on each other; the machine has two cores); the results, per point."""
    selected = _selected(request)
    groups: dict[str, list[str]] = {}
    for point in sorted(selected):
        scenario = scenario_for(point)
        if scenario is not None:
            groups.setdefault(scenario.name, []).append(point)
    scenarios = {point: scenario_for(point) for point in selected}
    by_name = {s.name: s for s in scenarios.values() if s is not None}
    ordered = sorted(groups, key=lambda name: -len(groups[name]))  # the longest first, so the two threads even out
    results: dict[str, Tally | BaseException] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for outcome in pool.map(lambda name: _run_scenario(workspace, by_name[name], groups[name]), ordered):
            results.update(outcome)
    return results


def _selected(request: pytest.FixtureRequest) -> set[str]:
    points = set()
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and item.originalname == "test_crash_at_point_then_restart_loses_nothing":
            points.add(str(callspec.params["point"]))
    return points


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_crash_at_point_then_restart_loses_nothing(point: str, crashed: dict[str, Tally | BaseException]) -> None:
    scenario = scenario_for(point)
    assert scenario is not None, f"failpoint {point!r} has no crash scenario: add its prefix to PREFIXES"
    outcome = crashed[point]
    if isinstance(outcome, BaseException):
        raise outcome
    print(f"{point}: {outcome}")
    assert outcome.filed == outcome.acknowledged and outcome.duplicates == 0 and outcome.stuck == 0


def test_recovery_leaves_a_live_rescan_and_its_objects_alone(context: Context) -> None:
    """An intent whose rescan still runs (its lock held, here by this very process) is not recovered; when the
    rescan fails before its commit, its objects go at once, and so does the intent."""
    data = b"bytes of a rescan that has not been committed yet"
    key = content_key(sha256_bytes(data))
    with pytest.raises(RuntimeError, match="dies here"), rescan_intent(context, [key]):
        context.store.put_bytes(key, data)
        assert len(list(intents_dir(context).iterdir())) == 1
        assert recover_rescans(context) == 0, "a live rescan's objects are not orphans"
        assert context.store.stat(key) is not None and len(list(intents_dir(context).iterdir())) == 1
        raise RuntimeError("the rescan dies here")
    assert context.store.stat(key) is None, "an error before the commit removes the rescan's objects"
    assert list(intents_dir(context).iterdir()) == []


def test_the_sweep_keeps_what_a_live_process_or_an_unfinished_job_needs(context: Context) -> None:
    spool = context.settings.spool_dir
    mine = spool / owned_name("item")
    dead = spool / "item-999999999-0123abcd.part"
    drill = spool / "drill-999999999-x1y2"
    for folder in (mine, dead, drill):
        folder.mkdir(parents=True)
    assert sorted(IngestService(context).remove_stray_files()) == sorted([dead.name, drill.name])
    assert mine.is_dir() and not dead.exists() and not drill.exists()
