"""The lines the web page says in its own language (archive/coded.py), made by real use cases: the status
screen's warnings, an acceptance decision's reasons; and a manifest's refusals, which name their first problem with
the count of all; each carries its code and exactly the
params its catalogue texts name (tests/test_i18n_catalogues.py checks the texts against the vocabularies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.preservation.status import StatusService
from api.wiring import build_context
from archive.catalogue.manifest import parse_manifest
from archive.catalogue.sampling import decide
from archive.coded import ACCEPTANCE_REASONS, STATUS_WARNINGS, Vocabulary
from archive.errors import InvalidInput
from archive.finding_codes import FindingCode
from archive.reports import Finding, Severity
from storage_config.settings import FaultOptions, Settings
from tests import actors
from tests.conftest import make_context


def assert_carries_its_params(vocabulary: Vocabulary, code: str, params: dict[str, object]) -> None:
    assert code in vocabulary.codes and set(params) == set(vocabulary.codes[code]), (code, params)


def test_a_vocabulary_refuses_an_unknown_code_or_other_params() -> None:
    with pytest.raises(ValueError, match="not one of its codes"):
        STATUS_WARNINGS.line("disk_gone", "the disk is gone")
    with pytest.raises(ValueError, match="carries"):
        STATUS_WARNINGS.line("index_unavailable", "the index is gone", problem="x", extra=1)


def test_status_below_the_free_space_reserve_warns_with_a_coded_line(tmp_path: Path) -> None:
    make_context(tmp_path / "var").close()
    huge = FaultOptions(free_space_reserve_mb=100_000_000)  # every disk is below this reserve
    context = build_context(Settings(home=tmp_path / "var", workers=1, ocr_engine="null", faults=huge))
    try:
        view = StatusService(context).status(actors.principal("sysadmin"), show_paths=False)
    finally:
        context.close()
    assert view.state == "refusing" and len(view.warning_codes) == len(view.warnings) >= 1
    warning, english = view.warning_codes[0], view.warnings[0]
    assert warning.code == "disk_refusing" and "new items are refused" in english
    assert_carries_its_params(STATUS_WARNINGS, warning.code, warning.params)
    assert "spool" in str(warning.params["places"]).split(", ")
    assert warning.params["reserve_bytes"] == 100_000_000 * 1024 * 1024
    assert isinstance(warning.params["free_bytes"], int) and str(tmp_path) not in english


def test_a_sample_that_fails_returns_the_batch_with_coded_reasons() -> None:
    verdicts = [(True, None)] * 17 + [(False, "illegible"), (False, "missing_page"), (False, "wrong_reference_code")]
    decision = decide(sampled=20, verdicts=verdicts)
    assert not decision.accepted and [reason.code for reason in decision.reasons] == [
        "pass_rate_low",
        "critical_defects",
    ]
    low, critical = decision.reasons
    assert low.params == {"pass_rate": 0.85, "required": 0.95} and "85.0% is below 95%" in low.message
    assert critical.params == {"count": 2} and critical.message.startswith("2 critical defect(s)")
    for reason in decision.reasons:
        assert_carries_its_params(ACCEPTANCE_REASONS, reason.code, dict(reason.params))
    assert decide(sampled=2, verdicts=[(True, None), (True, None)]).reasons == ()


def test_a_finding_about_an_event_run_or_document_is_made_from_its_kind_and_id() -> None:
    finding = Finding(
        Severity.WARNING, FindingCode.INTERRUPTED, subject_kind="backup_run", subject_id=3, params={"run_id": 3}
    )
    assert finding.subject == "backup run 3" and finding.as_dict()["subject_kind"] == "backup_run"
    with pytest.raises(ValueError, match="not its kind's"):
        Finding(
            Severity.WARNING,
            FindingCode.INTERRUPTED,
            "run 3",
            subject_kind="backup_run",
            subject_id=3,
            params={"run_id": 3},
        )
    with pytest.raises(ValueError, match="SUBJECTS"):
        Finding(Severity.WARNING, FindingCode.INTERRUPTED, subject_kind="tape", subject_id=3, params={"run_id": 3})
    with pytest.raises(ValueError, match="come together"):
        Finding(Severity.WARNING, FindingCode.INTERRUPTED, subject_kind="backup_run", params={"run_id": 3})


@pytest.mark.parametrize(
    ("manifest", "reason", "params"),
    [
        ("", "manifest_empty", {"columns": "item, reference_code, title, date, pages, file"}),
        ("title,pages\na,1\n", "manifest_no_key_column", {"found": "title, pages"}),
        ("item,title\n", "manifest_no_rows", {}),
        ("item,pages\n,2\n", "manifest_row_no_key", {"count": 1, "row": 2}),
        ("item,pages\n1,0\n", "manifest_row_pages", {"count": 1, "row": 2, "value": "0", "maximum": 100_000}),
        (
            "item,date,file\n1,1987-13,a\n2,,b\n2,,b\n",  # a bad date, then an item and a file that repeat
            "manifest_row_date",
            {"count": 3, "row": 2, "date": "1987-13"},
        ),
        (
            "item,file\n1,a\n1,b\n",
            "manifest_row_repeats",
            {"count": 1, "row": 3, "column": "item", "value": "1", "first_row": 2},
        ),
    ],
)
def test_a_manifest_is_refused_with_a_reason_and_its_params(
    manifest: str, reason: str, params: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_manifest(manifest, name="m.csv")
    assert refused.value.reason is not None and refused.value.reason.name == reason
    assert refused.value.params == params and refused.value.message.startswith("m.csv: ")
