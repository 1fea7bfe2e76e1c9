// Parts of the batch screen drawn from its status: the jobs' progress per item, the per-page findings with
// thumbnails (filterable: held pages, blank pages, one check, one severity) and the reconciliation with the
// manifest's named items. A job that failed with a refusal's reason says it in the page's words (errors.json).
import { describe, errorOf } from "../api.js";
import { formatNumber, t } from "../i18n.js";
import { emptyState, h, table } from "../ui.js";
import { CHECKS, MOVING, label, pageImage } from "./batch_common.js";

/** @typedef {import("./batch_common.js").BatchStatus} BatchStatus */
/** @typedef {import("./batch_common.js").Finding} Finding */
/**
 * @typedef {{ id: number, item: string, state: string, attempts: number, reason: string | null,
 *   failure?: { error: string, message: string, reason: string, params: Record<string, unknown> } | null,
 *   document_id: number | null }} JobRow
 * @typedef {{ show: string, severity: string }} Filter
 */

const MAX_SHOWN = 60;

/** @param {Finding} f */
function measured(f) {
  return t("batch.measured", { measured: formatNumber(Math.round(f.measured * 100) / 100),
    threshold: formatNumber(Math.round(f.threshold * 100) / 100) });
}

/**
 * Progress: a bar over every item, counts per state, and each item's job (from GET /api/v1/jobs?batch_id=N&all).
 * @param {BatchStatus} status @param {JobRow[]} jobs
 */
export function progressView(status, jobs) {
  const finished = ["done", "needs_review", "failed"].reduce((n, s) => n + (status.jobs[s] || 0), 0);
  const moving = MOVING.reduce((n, s) => n + (status.jobs[s] || 0), 0);
  const counts = Object.entries(status.jobs).map(([state, n]) =>
    h("li", { class: `state state-${state}` }, `${label("job", state)}: ${formatNumber(n)}`));
  const line = status.items
    ? t(moving ? "batch.progress_running" : "batch.progress_finished", { done: finished, count: status.items })
    : t("batch.progress_none");
  return h("div", {},
    h("p", { id: "progress-line", role: "status", "aria-live": "polite", "data-moving": moving }, line),
    status.items ? h("progress", { id: "progress-bar", max: status.items, value: finished, "aria-labelledby": "progress-line" }) : null,
    counts.length ? h("ul", { class: "state-counts" }, counts) : null,
    jobs.length ? table({
      caption: t("batch.jobs_caption"),
      rows: jobs,
      columns: [
        { key: "item", label: t("batch.col_item"), cell: (j) => j.item },
        { key: "state", label: t("batch.col_state"), cell: (j) => h("span", { class: `state state-${j.state}` }, label("job", j.state)) },
        { key: "attempts", label: t("batch.col_attempts"), numeric: true, cell: (j) => formatNumber(j.attempts) },
        { key: "reason", label: t("batch.col_reason"), cell: (j) => j.failure ? describe(errorOf(0, j.failure)) : j.reason || "" },
      ],
    }) : null);
}

/** The pages with findings, one entry per page (its findings together). @param {Finding[]} findings */
function byPage(findings) {
  /** @type {Map<number, Finding[]>} */
  const pages = new Map();
  for (const f of findings) pages.set(f.page_id, [...(pages.get(f.page_id) || []), f]);
  return [...pages.values()];
}

/** @param {Finding[]} page @param {Filter} filter */
function shown(page, filter) {
  const severity = (/** @type {Finding} */ f) => !filter.severity || f.severity === filter.severity;
  if (filter.show === "held") return page.some((f) => f.review === "held" || f.review === "rejected");
  if (filter.show.startsWith("check:")) return page.some((f) => f.check === filter.show.slice(6) && severity(f));
  return page.some(severity);
}

/**
 * The findings, filterable; the filter is the screen's (kept across refreshes).
 * @param {BatchStatus} status @param {Filter} filter @param {(focus: string) => void} changed
 */
export function findingsView(status, filter, changed) {
  const present = new Set(status.page_findings.map((f) => f.check));
  const options = [["", t("batch.filter_all")], ["held", t("batch.filter_held")],
    ...CHECKS.filter((c) => present.has(c)).map((c) => [`check:${c}`, label("check", c)])];
  const show = h("select", { id: "findings-filter" },
    options.map(([value, text]) => h("option", { value, selected: value === filter.show }, text)));
  const severity = h("select", { id: "severity-filter" },
    [["", t("batch.severity_any")], ["fail", label("severity", "fail")], ["warn", label("severity", "warn")]]
      .map(([value, text]) => h("option", { value, selected: value === filter.severity }, text)));
  show.addEventListener("change", () => { filter.show = show.value; changed("findings-filter"); });
  severity.addEventListener("change", () => { filter.severity = severity.value; changed("severity-filter"); });
  const pages = byPage(status.page_findings).filter((p) => shown(p, filter));
  const list = h("ul", { class: "finding-pages", id: "finding-pages" }, pages.slice(0, MAX_SHOWN).map((p) => findingCard(status.id, p)));
  return h("div", {},
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "findings-filter" }, t("batch.filter_show")), show),
      h("div", { class: "field" }, h("label", { for: "severity-filter" }, t("batch.filter_severity")), severity)),
    h("p", { id: "findings-count", role: "status" },
      t("batch.findings_count", { count: pages.length, shown: Math.min(pages.length, MAX_SHOWN) })),
    pages.length ? list : emptyState(t("batch.no_findings")));
}

/** @param {number} batchId @param {Finding[]} findings */
function findingCard(batchId, findings) {
  const first = findings[0];
  const review = first.review || "ok";
  const alt = t("batch.thumbnail_alt", { code: first.reference_code, page: first.page });
  const canReview = review === "held" || review === "rejected";
  return h("li", { class: `finding-page review-${review}`, "data-page-id": first.page_id },
    pageImage(first.document_id, first.page, "thumbnail", alt),
    h("div", { class: "finding-body" },
      h("h3", {}, h("span", { class: "ref" }, first.reference_code), " ",
        t("batch.page_n", { page: first.page })),
      h("p", { class: "finding-file" }, first.file, " · ", h("span", { class: `state state-${review}` }, label("review", review))),
      h("ul", { class: "finding-list" }, findings.map((f) =>
        h("li", { class: `severity-${f.severity}` },
          h("strong", {}, label("check", f.check)), " ", h("span", { class: "severity" }, label("severity", f.severity)),
          " ", measured(f)))),
      canReview ? h("a", { class: "button-link review-link", href: `#/batches/${batchId}/pages/${first.page_id}` },
        t("batch.review_page")) : null));
}

/** The reconciliation with the manifest. @param {BatchStatus} status */
export function reconciliationView(status) {
  const rec = status.reconciliation;
  /** @type {HTMLElement[]} */
  const parts = [rec.has_manifest
    ? h("p", { id: "reconciliation-line", class: rec.clean ? "notice" : "error" },
      t(rec.clean ? "batch.reconciled_clean" : "batch.reconciled_gaps",
        { missing: rec.missing_items.length, extra: rec.extra_items.length, mismatches: rec.page_count_mismatches.length }))
    : h("p", { id: "reconciliation-line", class: "help" }, t("batch.no_manifest"))];
  if (rec.missing_items.length) parts.push(table({
    caption: t("batch.missing_caption"), rows: rec.missing_items,
    columns: [
      { key: "row", label: t("batch.col_row"), numeric: true, cell: (m) => formatNumber(m.row_number) },
      { key: "code", label: t("batch.col_code"), cell: (m) => m.reference_code || (m.item_number ? String(m.item_number) : "—") },
      { key: "title", label: t("batch.col_title"), cell: (m) => m.title },
      { key: "pages", label: t("batch.col_expected"), numeric: true, cell: (m) => m.expected_pages === null ? "—" : formatNumber(m.expected_pages) },
    ],
  }));
  if (rec.extra_items.length) parts.push(table({
    caption: t("batch.extra_caption"), rows: rec.extra_items,
    columns: [
      { key: "item", label: t("batch.col_item"), cell: (e) => e.source_name },
      { key: "code", label: t("batch.col_code"), cell: (e) => e.reference_code || "—" },
      { key: "state", label: t("batch.col_state"), cell: (e) => label("job", e.state) },
    ],
  }));
  if (rec.page_count_mismatches.length) parts.push(table({
    caption: t("batch.mismatch_caption"), rows: rec.page_count_mismatches,
    columns: [
      { key: "item", label: t("batch.col_item"), cell: (m) => m.source_name },
      { key: "expected", label: t("batch.col_expected"), numeric: true, cell: (m) => m.expected_pages === null ? "—" : formatNumber(m.expected_pages) },
      { key: "received", label: t("batch.col_received"), numeric: true, cell: (m) => m.received_pages === null ? "—" : formatNumber(m.received_pages) },
    ],
  }));
  if (rec.numbering_gaps.length) parts.push(h("p", {}, t("batch.gaps", { numbers: rec.numbering_gaps.join(t("common.list_separator")) })));
  if (rec.duplicate_pages.length) parts.push(h("ul", { class: "duplicates" }, rec.duplicate_pages.map((d) =>
    h("li", {}, t("batch.duplicate", { first: d.first, second: d.second })))));
  return h("div", {}, ...parts);
}
