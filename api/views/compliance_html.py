"""The compliance report as a readable HTML page in Chinese or English, for the auditor's file: the period and
grade, what needs a person's attention (each coded finding's sentence from the compliance.json catalogue), then
the figures — access log, alerts, verifications, DA/T 70 checks, backups per target, drills, scheduled duties,
records past their retention period."""

from __future__ import annotations

from html import escape
from typing import Any

from api.views.dat70_html import LANGUAGES, STYLE, catalogue, fill
from api.views.preservation import ComplianceReportView


def render_compliance(report: ComplianceReportView, *, lang: str = "zh-CN") -> str:
    lang = lang if lang in LANGUAGES else "zh-CN"
    words = catalogue(lang, ("compliance", "alerts"))

    def say(entry: str, /, **values: Any) -> str:
        return escape(fill(words.get(f"compliance.{entry}", entry), values))

    def counts(values: dict[str, int], group: str) -> str:
        """ "complete 3, failed 1", each value's name in the page's language (an unknown one as it is)."""
        prefix = group if group.startswith("alerts.") else f"compliance.{group}"
        named = (f"{escape(words.get(f'{prefix}.{k}', k))} {v}" for k, v in sorted(values.items()))
        return ("，" if lang == "zh-CN" else ", ").join(named) or say("none")

    findings = "".join(
        f'<tr><td class="{f.severity}">{say("severity." + f.severity)}</td><td><code>{escape(f.code)}</code></td>'
        f"<td>{escape(fill(words.get('compliance.finding.' + f.code, f.message), dict(f.params)))}</td></tr>"
        for f in report.items
    )
    log = report.audit_log
    rows = [
        (
            say("row.audit_log"),
            say(
                "log.ok" if log.get("ok") else "log.not_ok",
                grade=words.get(f"compliance.grade.{log.get('grade', '')}", str(log.get("grade", ""))),
                events=log.get("events_checked", 0),
            ),
        ),
        (say("row.alerts"), counts(report.alerts, "alerts.kind")),
        (say("row.verifications"), counts(report.verifications, "grade")),
        (say("row.dat70"), counts(report.dat70, "grade")),
        (say("row.drills"), counts(report.drills, "drill")),
        (say("row.scheduled"), counts(report.scheduled, "outcome")),
        (
            say("row.retention"),
            say("retention", **{k: report.retention.get(k, 0) for k in ("due", "held", "in_disposition")}),
        ),
    ]
    backups = "".join(
        f"<tr><td>{escape(target)}</td><td>{counts(statuses, 'backup')}</td></tr>"
        for target, statuses in sorted(report.backups.items())
    )
    period = say("period", since=report.since.isoformat()[:19], until=report.until.isoformat()[:19])
    grade = say("grade." + report.grade.value)
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{say("title")}</title>'
        f"<style>{STYLE}.error,.errors{{color:#a61b1b;font-weight:bold}}.warnings{{color:#8a5a00}}</style></head><body><h1>{say('title')}</h1>"
        f'<p>{period} — <strong class="{report.grade.value}">{grade}</strong></p>'
        f"<h2>{say('attention')}</h2>"
        + (f"<table>{findings}</table>" if findings else f"<p>{say('nothing')}</p>")
        + f"<h2>{say('figures')}</h2><table>"
        + "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
        + f"</table><h2>{say('backups')}</h2>"
        + (f"<table>{backups}</table>" if backups else f"<p>{say('none')}</p>")
        + f"<p><small>{say('kept', key=report.key)}</small></p></body></html>"
    )
