"""The DA/T 70 report as a readable HTML page, in Chinese or English: each check's code, property, result and
detail, then each finding's sentence. The words come from the web application's catalogues (dat70.json for
the checks, findings.json for the findings' sentences), so the page and the web application say the same."""

from __future__ import annotations

import json
import string
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from api.views.dat70 import Dat70FindingView, Dat70ReportView

I18N = Path(__file__).resolve().parent.parent / "http" / "static" / "i18n"
LANGUAGES = ("zh-CN", "en")
STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:2rem;color:#222;max-width:75rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.passed{color:#176b2c}.failed{color:#a61b1b;font-weight:bold}.warning,.not_run{color:#8a5a00}code{font-size:.9em}
"""


@cache
def catalogue(lang: str, names: tuple[str, ...] = ("dat70", "findings")) -> dict[str, str]:
    """The words of the named catalogues (api/http/static/i18n/<lang>/<name>.json), their string entries."""
    words: dict[str, str] = {}
    for name in names:
        loaded = json.loads((I18N / lang / f"{name}.json").read_text(encoding="utf-8"))
        words.update({key: value for key, value in loaded.items() if isinstance(value, str)})
    return words


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: dict[str, Any]) -> str:
    return string.Formatter().vformat(template, (), _Blank(values))


def finding_sentence(finding: Dat70FindingView, words: dict[str, str]) -> str:
    """The finding's sentence in the page's language, filled from its values (its role said in that language)."""
    key = f"findings.{finding.code}" + (f".{finding.variant}" if finding.variant else "")
    values: dict[str, Any] = {"subject": finding.subject, **finding.params}
    if isinstance(values.get("role"), str):
        values["role"] = words.get(f"findings.role.{values['role']}", values["role"])
    return fill(words.get(key, finding.message), values)


def render_dat70(report: Dat70ReportView, *, lang: str = "zh-CN") -> str:
    words = catalogue(lang if lang in LANGUAGES else "zh-CN")

    def say(key: str, **values: Any) -> str:
        return escape(fill(words[f"dat70.{key}"], values))

    scope = say(f"scope.{report.scope}", id=report.subject_id)
    rows = []
    for check in report.checks:
        mine = [f for f in report.findings if f.code == check.code]
        if check.result == "not_run":
            detail = say("detail.not_run", reason=check.not_run_reason or "")
        elif mine:
            more = say("detail.more", count=len(mine) - 1) if len(mine) > 1 else ""
            detail = say("detail.found", checked=check.checked) + " " + escape(finding_sentence(mine[0], words)) + more
        else:
            detail = say("detail.clean", checked=check.checked)
        rows.append(
            f"<tr><td><code>{escape(check.code)}</code></td><td>{say('check.' + check.code)}</td>"
            f"<td>{say('property.' + check.property)}</td>"
            f'<td class="{check.result}">{say("result." + check.result)}</td><td>{detail}</td></tr>'
        )
    findings = "".join(
        f"<tr><td>{say('severity.' + f.severity.value)}</td><td><code>{escape(f.code)}</code></td>"
        f"<td>{escape(f.subject or '')}</td><td>{escape(finding_sentence(f, words))}</td></tr>"
        for f in report.findings
    )
    properties = "".join(
        f'<tr><td>{say("property." + name)}</td><td class="{result}">{say("result." + result)}</td></tr>'
        for name, result in report.properties.items()
    )
    grade = words.get(f"dat70.grade.{report.grade.value}", report.grade.value)
    summary = say(
        "summary",
        grade=grade,
        run=report.run_id,
        actor=report.actor,
        at=report.started_at[:19],
        documents=report.documents,
        objects=report.objects,
        seconds=report.seconds,
    )
    head = [say("head.code"), say("head.check"), say("head.property"), say("head.result"), say("head.detail")]
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{say("title")} — {scope}'
        f"</title><style>{STYLE}</style></head><body>"
        f"<h1>{say('title')} — {scope}</h1>"
        f"<p>{summary}</p>"
        f"<h2>{say('properties')}</h2><table>{properties}</table>"
        f"<h2>{say('checks')}</h2><table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows)}</table>"
        f"<h2>{say('findings')}</h2>"
        + (f"<table>{findings}</table>" if findings else f"<p>{say('no_findings')}</p>")
        + f"<h2>{say('limits')}</h2><p>{say('pdfa_limits')}</p></body></html>"
    )
