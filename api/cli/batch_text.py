"""`dangan batch status` as text: counts, then every finding by file and page, held pages, failed jobs, and the
reconciliation naming each item it is about. Words, never reprs; an empty list says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.views.ingest import BatchStatus, PageFinding

SEVERITY_WORDS = {"fail": "failure", "warn": "warning"}


def status_lines(result: BatchStatus, *, check: str | None = None, severity: str | None = None) -> list[str]:
    lines = [
        f"batch {result.id} ({result.label}): {result.status}; {result.items} item(s), {result.pages} page(s)",
        "jobs: " + (", ".join(f"{k} {v}" for k, v in result.jobs.items()) or "none"),
        "findings: " + (", ".join(f"{k} {v}" for k, v in result.findings.items()) or "none"),
    ]
    lines += finding_lines(result.page_findings, check=check, severity=severity)
    if result.held_pages:
        lines.append("held pages (review with `dangan page accept|reject|replace PAGE_ID`):")
    lines += [
        f"  page id {p.page_id}: {p.reference_code} page {p.page}: {'; '.join(p.findings)}" for p in result.held_pages
    ]
    lines += [f"  failed {j.item}: {j.error}" for j in result.failed_jobs]
    return lines + reconciliation_lines(result.reconciliation.as_json())


def finding_lines(findings: list[PageFinding], *, check: str | None, severity: str | None) -> list[str]:
    """`scan_003.tif page 2: blank (warning): the page is blank...` — one line per finding."""
    if not findings:
        which = " ".join(part for part in (check, severity) if part)
        return [f"  no {which} findings" if which else "  no page has a finding"]
    return [
        f"  {f.file} page {f.page}: {f.check} ({SEVERITY_WORDS.get(f.severity, f.severity)}): {f.message}"
        for f in findings
    ]


def reconciliation_lines(rec: dict[str, Any]) -> list[str]:
    if not rec["has_manifest"] and rec["clean"]:
        return ["reconciliation: no manifest; nothing to reconcile"]
    if rec["clean"]:
        return ["reconciliation: clean (every manifest item received with its page count)"]
    lines = [
        f"reconciliation: {len(rec['missing_items'])} missing, {len(rec['extra_items'])} extra, "
        f"{len(rec['page_count_mismatches'])} page-count mismatch(es), gaps {rec['numbering_gaps']}, "
        f"{len(rec['duplicate_pages'])} duplicate page pair(s)"
    ]
    lines += [
        f"  missing: row {m['row_number']}, item {_item(m)}" + (f" ({m['title']})" if m["title"] else "")
        for m in rec["missing_items"]
    ]
    lines += [
        f"  unexpected: {e['source_name']} (as {e['reference_code'] or 'no reference code'}), not in the manifest"
        for e in rec["extra_items"]
    ]
    lines += [
        f"  page count: {m['source_name']} ({m['reference_code']}, item {_item(m)}) has {m['received_pages']} "
        f"page(s), the manifest says {m['expected_pages']}"
        for m in rec["page_count_mismatches"]
    ]
    if rec["numbering_gaps"]:
        lines.append("  numbering gaps: item(s) " + ", ".join(str(n) for n in rec["numbering_gaps"]))
    lines += [
        f"  duplicate page: {d['second']} is {'the same scan as' if d['kind'] == 'identical' else 'nearly'} "
        f"{d['first']}" + ("" if d["kind"] == "identical" else f" (distance {d['distance']})")
        for d in rec["duplicate_pages"]
    ]
    return lines


def _item(row: dict[str, Any]) -> str:
    number = row.get("item_number")
    return str(number) if number is not None else str(row.get("reference_code") or "unnumbered")
