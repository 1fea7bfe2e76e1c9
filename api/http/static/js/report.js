// Pieces the officers' screens share: a graded report's verdict (clean / warnings / errors, archive/reports.py),
// its findings as a table, sizes in bytes and durations for the language, and saving a downloaded file.
import { filled, formatDate, formatNumber, language, t } from "./i18n.js";
import { h, table } from "./ui.js";

/**
 * A graded report's finding: its code (archive/finding_codes.py), the variant of its sentence, the server's
 * English sentence, and the values the sentence is filled from (its own fields and `params`).
 * @typedef {{ severity: string, code: string, subject: string | null, message: string, variant?: string | null,
 *   subject_kind?: string | null, subject_id?: number | null,
 *   params?: Record<string, string | number | null> } & Record<string, unknown>} Finding
 */

/**
 * What the finding is about in the page's language: findings.subject.<kind> with its id (an event, a backup run,
 * a document), else the server's subject (an object key), else "—".
 * @param {Finding} f
 */
function subjectText(f) {
  const said = f.subject_kind && typeof f.subject_id === "number"
    ? filled(`findings.subject.${f.subject_kind}`, { id: String(f.subject_id) }) : null;
  return said ?? (f.subject || "—");
}

/** The finding's values a sentence may name: its text and number fields, then its params. @param {Finding} f */
function findingValues(f) {
  /** @type {import("./i18n.js").Params} */
  const values = {};
  for (const [name, value] of [...Object.entries(f), ...Object.entries(f.params || {})]) {
    if (typeof value === "string" || typeof value === "number") values[name] = value;
  }
  const role = typeof values.role === "string" ? filled(`findings.role.${values.role}`, {}) : null;
  if (role !== null) values.role = role;
  return values;
}

/**
 * The finding in the page's language: findings.<code>[.<variant>] filled from its values (framed by
 * findings.in_document when it is about a catalogued document); the server's sentence when the catalogue lacks
 * the sentence or the finding lacks a value it names (e.g. a report stored before findings carried them).
 * @param {Finding} f
 */
export function findingText(f) {
  const values = findingValues(f);
  const sentence = filled(f.variant ? `findings.${f.code}.${f.variant}` : `findings.${f.code}`, values);
  if (sentence === null) return f.message;
  if (values.document_id === undefined) return sentence;
  return filled("findings.in_document", { ...values, sentence }) ?? f.message;
}

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
 * A report's findings: severity, code, subject, and what was found in the page's language.
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
      { key: "subject", label: t("common.finding.subject"), cell: (f) => subjectText(f) },
      { key: "message", label: t("common.finding.message"), cell: (f) => findingText(f) },
    ],
  });
  if (id) view.id = id;
  return view;
}

/**
 * A verification's notes in the page's language: findings.note.<code> filled from its values, else the server's.
 * @param {string[]} notes the server's sentences
 * @param {{ code: string, params: Record<string, string | number | null> }[] | undefined} codes the same notes
 * @returns {string[]}
 */
export function noteTexts(notes, codes) {
  return notes.map((note, i) => {
    const coded = codes && codes.length === notes.length ? codes[i] : null;
    if (!coded) return note;
    /** @type {import("./i18n.js").Params} */
    const values = {};
    for (const [name, value] of Object.entries(coded.params)) if (value !== null) values[name] = value;
    return filled(`findings.note.${coded.code}`, values) ?? note;
  });
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
