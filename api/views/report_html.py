"""A readable HTML page for a batch report: the same facts as the JSON, for people and for the paper file."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:2rem;color:#222;max-width:70rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.accepted,.filed{color:#176b2c;font-weight:bold}.returned{color:#a61b1b;font-weight:bold}.muted{color:#666}
"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(report: dict[str, Any]) -> str:
    rec = report["reconciliation"]
    decision = report.get("decision") or "not decided"
    parts = [
        f"<h1>Batch {report['id']}: {escape(report['label'])}</h1>",
        _table(
            ["fonds", "series", "box", "status", "decision", "decided by", "decided at", "profile"],
            [
                [
                    report["fonds"],
                    report["series"] or "",
                    report["box"] or "",
                    report["status"],
                    decision,
                    report.get("decided_by") or "",
                    report.get("decided_at") or "",
                    report["profile"],
                ]
            ],
        ),
        "<h2>Digitisation process</h2>",
        _process(report.get("process")),
        "<h2>Counts</h2>",
        _table(
            ["items", "pages", "jobs by state", "pages by review"],
            [[report["items"], report["pages"], _pairs(report["jobs"]), _pairs(report["pages_by_review"])]],
        ),
        "<h2>Quality findings</h2>",
        _table(["check:severity", "pages"], [[k, v] for k, v in report["findings"].items()]),
        "<h2>Findings by page</h2>",
        _table(
            ["file", "page", "check", "severity", "finding"],
            [[f["file"], f["page"], f["check"], f["severity"], f["message"]] for f in report["page_findings"]],
        ),
        "<h2>Held pages</h2>",
        _table(
            ["page id", "reference code", "page", "findings"],
            [[p["page_id"], p["reference_code"], p["page"], "; ".join(p["findings"])] for p in report["held_pages"]],
        ),
        "<h2>Reconciliation with the manifest</h2>",
        f"<p>{'clean' if rec['clean'] else 'problems found'}; numbering gaps: "
        f"{escape(', '.join(map(str, rec['numbering_gaps'])) or 'none')}</p>",
        _table(
            ["missing item (row)", "item", "title"],
            [[m["row_number"], m["item_number"] or m["reference_code"], m["title"]] for m in rec["missing_items"]],
        ),
        _table(["extra item", "reference code"], [[e["source_name"], e["reference_code"]] for e in rec["extra_items"]]),
        _table(
            ["page-count mismatch", "expected", "received"],
            [[m["reference_code"], m["expected_pages"], m["received_pages"]] for m in rec["page_count_mismatches"]],
        ),
        _table(
            ["duplicate page", "of", "kind"], [[d["second"], d["first"], d["kind"]] for d in rec["duplicate_pages"]]
        ),
    ]
    for sample in report.get("samples", []):
        parts.append(
            f"<h2>Acceptance sample {sample['sample_id']}</h2><p>{len(sample['pages'])} of "
            f"{sample['population']} pages ({sample['percent']:g}%, minimum {sample['minimum']}), seed "
            f"{sample['seed']}, drawn by {escape(sample['drawn_by'])} at {escape(sample['drawn_at'])}; "
            f"{sample['passed']} of {sample['reviewed']} reviewed pages passed.</p>"
        )
        parts.append(
            _table(
                ["page id", "reference code", "page", "verdict", "defect", "reviewer"],
                [
                    [
                        p["page_id"],
                        p["reference_code"],
                        p["page"],
                        p["verdict"] or "—",
                        p["defect"] or "",
                        p["reviewer"] or "",
                    ]
                    for p in sample["pages"]
                ],
            )
        )
    parts.append(f'<p class="{escape(decision)}">Decision: {escape(decision)}</p>')
    body = "\n".join(parts)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Batch {report["id"]} report</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _pairs(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in mapping.items()) or "none"


def _process(process: dict[str, Any] | None) -> str:
    """What the batch declares of its digitisation (DA/T 31): device, settings, operator, times, calibration."""
    if not process:
        return '<p class="muted">none declared</p>'
    settings, calibration = process.get("settings") or {}, process.get("calibration") or {}
    device = " ".join(str(process[k]) for k in ("device", "device_make", "device_model") if process.get(k))
    said = ", ".join(f"{k} {v}" for k, v in settings.items() if v is not None) or "none"
    calibrated = (
        f"{calibration.get('done_at', '')[:10]} {calibration.get('result', '')}, next due {calibration.get('next_due')}"
        if calibration
        else "none logged"
    )
    times = " – ".join(str(process[k]) for k in ("scan_started", "scan_ended") if process.get(k)) or ""
    table = _table(
        ["device", "serial number", "settings", "operator", "scanned", "last calibration (at the time)"],
        [[device, process.get("device_serial_number") or "", said, process.get("operator") or "", times, calibrated]],
    )
    warnings = "".join(f'<p class="returned">{escape(str(w))}</p>' for w in process.get("warnings") or [])
    return table + warnings
