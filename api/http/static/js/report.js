// Pieces the officers' screens share: a graded report's verdict (clean / warnings / errors, archive/reports.py),
// its findings as a table, sizes in bytes and durations for the language, and saving a downloaded file.
import { formatDate, formatNumber, language, t } from "./i18n.js";
import { h, table } from "./ui.js";

/** @typedef {{ severity: string, code: string, subject: string | null, message: string }} Finding */

/** The grade as a badge (text, not colour alone). @param {string | null | undefined} grade */
export function gradeBadge(grade) {
  if (!grade) return h("span", { class: "grade grade-none" }, t("common.grade.none"));
  return h("span", { class: `grade grade-${grade}` }, t(`common.grade.${grade}`));
}

/** "2 errors, 1 warning" from a report's severity_counts. @param {Record<string, number> | null | undefined} counts */
export function severitySummary(counts) {
  const errors = (counts && counts.error) || 0;
  const warnings = (counts && counts.warning) || 0;
  return t("common.severity_summary", { errors, warnings });
}

/**
 * A report's findings: severity, code, subject, message (the server's own words for a person).
 * @param {Finding[]} findings
 * @param {string} caption
 * @param {string} [id]
 */
export function findingsTable(findings, caption, id) {
  const view = table({
    caption,
    rows: findings,
    empty: t("common.no_findings"),
    columns: [
      { key: "severity", label: t("common.finding.severity"),
        cell: (f) => h("span", { class: `severity severity-${f.severity}` }, t(`common.severity.${f.severity}`)) },
      { key: "code", label: t("common.finding.code"), cell: (f) => h("code", {}, f.code) },
      { key: "subject", label: t("common.finding.subject"), cell: (f) => f.subject || "—" },
      { key: "message", label: t("common.finding.message"), cell: (f) => f.message },
    ],
  });
  if (id) view.id = id;
  return view;
}

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];

/** A size in bytes as the language writes it (1024-based steps). @param {number | null | undefined} bytes */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(language(), { style: "unit", unit: UNITS[unit], unitDisplay: "short",
    maximumFractionDigits: unit ? 1 : 0 }).format(value);
}

/** Seconds as the language writes them. @param {number | null | undefined} seconds */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return new Intl.NumberFormat(language(), { style: "unit", unit: "second", unitDisplay: "short",
    maximumFractionDigits: 1 }).format(seconds);
}

/** A moment or "—". @param {string | null | undefined} iso */
export function when(iso) {
  return iso ? formatDate(iso) : "—";
}

/** A count or "—". @param {number | null | undefined} n */
export function count(n) {
  return n === null || n === undefined ? "—" : formatNumber(n);
}

/**
 * A definition list of facts: [label, value] pairs.
 * @param {[string, import("./ui.js").Child | import("./ui.js").Child[]][]} pairs
 * @param {string} [id]
 */
export function facts(pairs, id) {
  return h("dl", { class: "facts", id }, pairs.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

/**
 * Save a response's body as a file named by its Content-Disposition (or `fallback`).
 * @param {Response} response
 * @param {string} fallback
 */
export async function saveFile(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename="?([^";]+)"?/.exec(disposition);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: named ? named[1] : fallback, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
