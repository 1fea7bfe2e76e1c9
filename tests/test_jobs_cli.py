"""`dangan jobs`: the jobs needing attention with their reasons, retrying them (one, or every failed one), and
running the queue here. Failed, retrying and stuck jobs are made for real (tests/job_faults.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from api.access.users import UserService
from api.wiring import Context
from archive.access import Principal
from archive.events import AuditAction
from archive.models import AuditEvent, Document, IngestJob
from tests.actors import account
from tests.conftest import Cli, make_context
from tests.job_faults import failed_jobs, keep_spooled_copy, lose_spooled_copy, retrying_job, stuck_job, submit
from tests.pages import render


@dataclass
class Site:
    cli: Cli
    context: Context
    actor: Principal
    batch: int
    pages: list[Path]
    failed: list[int]
    folder: Path

    def job(self, job_id: int) -> IngestJob:
        with self.context.db.read() as session:
            job = session.get(IngestJob, job_id)
            assert job is not None
            return job

    def page(self, name: str, seed: int) -> Path:
        return render(self.folder, name, f"Harbour ledger {name} of ships and cargo", "eng", seed=seed)


def make_batch(cli: Cli, level: str = "internal", user: str = "archivist") -> int:
    made = cli("--user", user, "batch", "create", "--fonds", "J1", "--lang", "eng", "--level", level, "--json")
    assert made.exit_code == 0, made.stderr
    return int(made.json["id"])


@pytest.fixture
def site(cli: Cli, tmp_path: Path) -> Iterator[Site]:
    """A batch with two items whose jobs failed (their OCR worker killed every time)."""
    batch = make_batch(cli)
    context = make_context(cli.home)
    actor = UserService(context).principal("archivist")
    folder = tmp_path / "in"
    pages = [render(folder, f"letter-{n}.png", f"Letter number {n} of the harbour", "eng", seed=60 + n) for n in (0, 1)]
    failed = failed_jobs(context, actor, batch, pages)
    yield Site(cli, context, actor, batch, pages, failed, folder)
    context.close()


def test_jobs_lists_the_failed_jobs_with_their_reasons_and_counts(site: Site) -> None:
    listed = site.cli("jobs")
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["job", "batch", "state", "tries", "age", "next", "try", "item", "reason"]
    for job_id, page in zip(site.failed, site.pages, strict=True):
        [row] = [line for line in lines if line.startswith(f"{job_id} ")]
        assert " failed " in row and page.name in row
        assert f"the OCR worker process died twice on {page.name} (killed" in row
    assert "1-2 of 2 stuck, retrying, failed job(s)" in listed.stdout
    assert lines[-1] == "jobs you may see: 2 failed"
    body = site.cli("jobs", "--json").json
    assert body["total"] == 2 and body["counts"] == {"failed": 2}
    assert body["states"] == ["stuck", "retrying", "failed"]
    row = body["jobs"][0]
    assert row["id"] == site.failed[0] and row["item"] == "letter-0.png" and row["batch_id"] == site.batch
    assert (
        row["state"] == "failed" and row["attempts"] == 1 and row["lease_expires_at"] is None
    )  # (owner: who ended it)
    assert row["reason"].startswith("the OCR worker process died twice on") and row["age_seconds"] >= 0


def test_the_filters_all_state_batch_and_their_refusals(site: Site) -> None:
    [queued] = submit(site.context, site.actor, site.batch, [site.page("queued.png", 70)])
    assert queued not in {row["id"] for row in site.cli("jobs", "--json").json["jobs"]}  # queued needs no one
    everything = site.cli("jobs", "--all", "--json").json
    assert [row["id"] for row in everything["jobs"]] == [*site.failed, queued]
    assert everything["counts"] == {"queued": 1, "failed": 2}
    only = site.cli("jobs", "--state", "queued", "--json").json
    assert [row["id"] for row in only["jobs"]] == [queued] and only["total"] == 1
    paged = site.cli("jobs", "--all", "--limit", "1", "--offset", "1")
    assert paged.exit_code == 0 and "2-2 of 3 all job(s); more with --offset 2" in paged.stdout
    assert site.cli("jobs", "--state", "done").stdout.startswith("no done jobs\n")
    assert site.cli("jobs", "--batch", str(site.batch), "--json").json["total"] == 2
    wrong = site.cli("jobs", "--state", "broken")
    assert wrong.exit_code == 2 and "unknown job state 'broken'; use one of: queued, processing, stuck" in wrong.stderr
    missing = site.cli("jobs", "--batch", "999")
    assert missing.exit_code == 4 and "batch 999 does not exist" in missing.stderr
    both = site.cli("jobs", "--all", "--state", "failed")
    assert both.exit_code == 2 and "--all and --state contradict each other" in both.stderr


def test_retrying_one_failed_job_queues_it_and_jobs_run_files_it(site: Site) -> None:
    job_id = site.failed[0]
    keep_spooled_copy(site.context, job_id, site.pages[0])
    retried = site.cli("jobs", "retry", str(job_id))
    assert retried.exit_code == 0, retried.stderr
    assert f"queued job {job_id}: letter-0.png, batch {site.batch}, 1 earlier attempt(s)" in retried.stdout
    assert "a running `dangan serve` picks them up; or run `dangan jobs run`" in retried.stdout
    job = site.job(job_id)
    assert job.state == "queued" and job.error is None and job.attempts == 1 and job.not_before is None
    assert job.claim_sha256 == job.options["sha256"]  # the file is claimed again: no second upload of it
    assert str(job.options["previous_error"]).startswith("the OCR worker process died twice")
    with site.context.db.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.INGEST_RETRY)))
    assert [(e.actor, e.target, e.details["was"]) for e in events] == [("archivist", f"job:{job_id}", "failed")]
    ran = site.cli("jobs", "run")
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert "ran 1 job(s) in" in ran.stdout and ran.stdout.rstrip().endswith(": 1 done")
    job = site.job(job_id)
    assert job.state == "done" and job.attempts == 2 and job.document_id is not None
    assert site.cli("jobs", "--json").json["counts"] == {"failed": 1, "done": 1}
    assert site.cli("jobs", "run").stdout == "nothing to run: no job is queued or due\n"


def test_retry_failed_queues_the_ones_with_their_file_and_names_the_others(site: Site) -> None:
    kept, lost = site.failed
    keep_spooled_copy(site.context, kept, site.pages[0])
    lose_spooled_copy(site.context, lost)
    retried = site.cli("jobs", "retry", "--failed", "--batch", str(site.batch))
    assert retried.exit_code == 5, retried.stdout
    assert f"queued job {kept}: letter-0.png" in retried.stdout
    assert f"not queued: job {lost} (letter-1.png): the file of job {lost} is gone; submit it again" in retried.stdout
    assert site.job(lost).state == "failed"
    ran = site.cli("jobs", "run", "--json")
    assert ran.exit_code == 0 and [(j["id"], j["state"]) for j in ran.json["jobs"]] == [(kept, "done")]
    assert site.cli("jobs", "retry", "--failed").exit_code == 5  # the lost one is refused again, and says so
    nothing_failed = site.cli("jobs", "retry", "--failed", "--batch", str(make_batch(site.cli)))
    assert nothing_failed.exit_code == 0 and nothing_failed.stdout == "no failed jobs to retry\n"


def test_a_failed_job_whose_file_is_gone_says_to_submit_it_again(site: Site) -> None:
    job_id = site.failed[1]
    lose_spooled_copy(site.context, job_id)
    retried = site.cli("jobs", "retry", str(job_id))
    assert retried.exit_code == 5
    assert retried.stderr.strip() == f"error: the file of job {job_id} is gone; submit it again"
    assert site.job(job_id).state == "failed"
    as_json = site.cli("jobs", "retry", str(job_id), "--json")
    assert as_json.json == {"error": "conflict", "message": f"the file of job {job_id} is gone; submit it again"}


def test_a_failed_job_whose_file_was_archived_since_is_a_conflict_naming_the_document(site: Site) -> None:
    job_id = site.failed[0]
    keep_spooled_copy(site.context, job_id, site.pages[0])
    again = site.cli("ingest", str(site.pages[0]), "--batch", str(site.batch), "--json")
    assert again.exit_code == 0 and again.json["summary"]["done"] == 1, again.stdout
    reference, document = again.json["jobs"][0]["reference_code"], again.json["jobs"][0]["document_id"]
    retried = site.cli("jobs", "retry", str(job_id))
    assert retried.exit_code == 5
    assert f"job {job_id} cannot run again: letter-0.png is already archived as {reference} (document {document})" in (
        retried.stderr
    )
    job = site.job(job_id)
    assert job.state == "failed" and job.claim_sha256 is None
    with site.context.db.read() as session:
        assert len(list(session.scalars(select(Document)))) == 1


def test_a_retried_job_whose_number_was_given_out_since_takes_the_next_free_one(site: Site) -> None:
    job_id = site.failed[0]
    given_out = site.job(job_id).reference_code
    keep_spooled_copy(site.context, job_id, site.pages[0])
    other = site.cli("ingest", str(site.page("other.png", 76)), "--batch", str(site.batch), "--json")
    assert other.exit_code == 0 and other.json["jobs"][0]["reference_code"] == given_out  # a failed job's number
    assert site.cli("jobs", "retry", str(job_id)).exit_code == 0
    renumbered = site.job(job_id).reference_code
    assert renumbered not in (None, given_out)
    ran = site.cli("jobs", "run", "--json")
    assert ran.exit_code == 0 and [(j["id"], j["state"]) for j in ran.json["jobs"]] == [(job_id, "done")]
    with site.context.db.read() as session:
        codes = sorted(str(code) for code in session.scalars(select(Document.reference_code)))
    assert codes == sorted([str(given_out), str(renumbered)])


def test_a_retrying_job_is_made_due_now_and_runs_once_space_is_back(site: Site) -> None:
    job_id = retrying_job(site.cli.home, site.actor, site.batch, site.page("ledger.png", 71))
    listed = site.cli("jobs")
    [row] = [line for line in listed.stdout.splitlines() if line.startswith(f"{job_id} ")]
    assert " retrying " in row and any(f" in {n} min " in row for n in (2, 3, 4)), row
    assert "the object store at … is full" in row and "ledger.png" in row
    assert site.cli("jobs", "run").stdout == "nothing to run: no job is queued or due\n"  # its wait is not over
    [later] = submit(site.context, site.actor, site.batch, [site.page("later.png", 77)])
    assert site.job(later).reference_code != site.job(job_id).reference_code  # a retrying job keeps its number
    retried = site.cli("jobs", "retry", str(job_id), "--json")
    assert retried.exit_code == 0 and retried.json["queued"][0]["wait_seconds"] == 0
    assert " due now " in next(line for line in site.cli("jobs").stdout.splitlines() if line.startswith(f"{job_id} "))
    ran = site.cli("jobs", "run", "--json")
    assert ran.exit_code == 0
    ended = [(j["id"], j["state"], j["reason"]) for j in ran.json["jobs"]]
    assert ended == [(job_id, "done", None), (later, "done", None)]
    assert "is full" in str(ran.json["jobs"][0]["previous_error"])  # what it met, now past


def test_a_job_whose_process_was_killed_shows_as_stuck_and_retry_runs_it(site: Site) -> None:
    [job_id] = submit(site.context, site.actor, site.batch, [site.page("killed.png", 72)])
    stuck_job(site.cli.home, job_id)
    listed = site.cli("jobs", "--state", "stuck", "--json").json
    [row] = listed["jobs"]
    assert row["id"] == job_id and row["state"] == "stuck" and listed["counts"]["stuck"] == 1
    assert "no worker holds it" in row["reason"] or "stopped renewing the lease" in row["reason"]
    assert site.cli("jobs", "--state", "processing", "--json").json["jobs"] == []  # no live worker holds it
    status = site.cli("--user", "sysadmin", "status", "--json").json  # the operator sees counts, not names
    assert status["jobs"] == {"queued": 0, "processing": 0, "retrying": 0, "stuck": 1, "failed": 2}
    assert any("1 ingest job(s) stuck" in line and "`dangan jobs`" in line for line in status["warnings"])
    assert {"code": "jobs_need_attention", "params": {"stuck": 1, "failed": 2}} in status["warning_codes"]
    retried = site.cli("jobs", "retry", str(job_id))
    assert retried.exit_code == 0 and f"queued job {job_id}: killed.png" in retried.stdout
    ran = site.cli("jobs", "run", "--json")
    assert ran.exit_code == 0 and [(j["id"], j["state"]) for j in ran.json["jobs"]] == [(job_id, "done")]
    done = site.cli("jobs", "retry", str(job_id))
    assert done.exit_code == 5 and f"job {job_id} is done: only failed, retrying or stuck jobs" in done.stderr


def test_the_auditor_and_staff_may_neither_list_nor_retry(site: Site) -> None:
    account(site.context, "clerk", ["staff"])
    for user in ("auditor", "clerk"):
        for args in (("jobs",), ("jobs", "retry", str(site.failed[0])), ("jobs", "retry", "--failed"), ("jobs", "run")):
            refused = site.cli("--user", user, *args)
            assert refused.exit_code == 6, (user, args, refused.stdout)
            assert "needs the archivist or system administrator role" in refused.stderr
    assert site.job(site.failed[0]).state == "failed"


def test_an_archivist_sees_and_retries_only_jobs_within_their_clearance_and_departments(site: Site) -> None:
    account(site.context, "li", ["archivist"], clearance="internal", departments=["finance"])
    secret = make_batch(site.cli, level="secret")
    hidden = failed_jobs(site.context, site.actor, secret, [site.page("secret.png", 73)], departments=["hr"])
    other = failed_jobs(site.context, site.actor, site.batch, [site.page("hr.png", 74)], departments=["hr"])
    own = failed_jobs(site.context, site.actor, site.batch, [site.page("fin.png", 75)], departments=["finance"])
    listed = site.cli("--user", "li", "jobs", "--all", "--json").json
    assert [row["id"] for row in listed["jobs"]] == [*site.failed, *own]
    assert listed["counts"] == {"failed": 3} and listed["total"] == 3
    assert site.cli("--user", "sysadmin", "jobs", "--json").json["total"] == 5  # the system administrator: all
    assert site.cli("jobs", "--json").json["total"] == 2  # an archivist of no department: no department's items
    for job_id in (*hidden, *other):
        refused = site.cli("--user", "li", "jobs", "retry", str(job_id))
        assert refused.exit_code == 4 and refused.stderr.strip() == f"error: job {job_id} does not exist"
    missing = site.cli("--user", "li", "jobs", "retry", "999999")
    assert missing.stderr.strip() == "error: job 999999 does not exist"
    hidden_batch = site.cli("--user", "li", "jobs", "--batch", str(secret))
    assert hidden_batch.exit_code == 4 and "batch" in hidden_batch.stderr and str(secret) in hidden_batch.stderr
    for job_id in (*site.failed, *own, *hidden, *other):
        lose_spooled_copy(site.context, job_id)
    everything = site.cli("--user", "li", "jobs", "retry", "--failed", "--json").json
    assert sorted(refusal["job"] for refusal in everything["refused"]) == sorted([*site.failed, *own])
