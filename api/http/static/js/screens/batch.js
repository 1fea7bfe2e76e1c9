// One batch (#/batches/12): what it is, the upload zone, live job progress (polled every 2 s while a job moves,
// stopped when none does or the screen is left), held pages to review, the findings with thumbnails, the
// reconciliation, and the acceptance steps: sampling (its own screen), the decision, the report, filing, and the
// reopening of a filed batch (batch_reopen.js).
import { api, describe } from "../api.js";
import { formatDate, t } from "../i18n.js";
import * as session from "../session.js";
import { errorState, h, messageBox, say } from "../ui.js";
import { MOVING, POLL_MS, batchStatus, download, label, placeOf, section } from "./batch_common.js";
import { findingsView, progressView, reconciliationView } from "./batch_findings.js";
import { reopenForm } from "./batch_reopen.js";
import { uploadZone } from "./batch_upload.js";

/** @typedef {import("./batch_common.js").BatchStatus} BatchStatus */
/** @typedef {import("./batch_findings.js").JobRow} JobRow */

const OPEN = ["open", "returned"];

/** @param {BatchStatus} s */
function facts(s) {
  /** @type {[string, string | Node][]} */
  const rows = [
    [t("batch.place"), placeOf(s)],
    [t("batch.status_label"), label("status", s.status)],
    [t("batch.level"), t(`common.level.${s.level}`)],
    [t("batch.year"), s.year === null ? "—" : String(s.year)],
    [t("batch.languages"), s.languages],
    [t("batch.manifest_rows"), String(s.manifest_rows)],
    [t("batch.created"), `${formatDate(s.created_at)} · ${s.created_by}`],
  ];
  if (session.may("fonds.template")) {
    rows.push([t("batch.ref_codes"), h("a", { href: `#/fonds/${encodeURIComponent(s.fonds)}`, id: "to-template" },
      t("batch.ref_codes_of", { fonds: s.fonds }))]);
  }
  if (s.decision) rows.push([t("batch.decision"), `${label("status", s.decision)} · ${s.decided_by || ""} · ${formatDate(s.decided_at || "")}`]);
  return h("dl", { class: "facts", id: "batch-facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]).flat());
}

/** What the batch declares of its digitisation (DA/T 31): device, settings, operator, times, last calibration.
 * @param {BatchStatus} s */
function processView(s) {
  const p = s.process;
  if (!p) return h("p", { class: "muted", id: "batch-process-none" }, t("batch.process.none"));
  const set = p.settings;
  const settings = [set.dpi ? `${set.dpi} dpi` : "", set.colour_mode ? t(`batch.process.mode.${set.colour_mode}`) : "",
    set.bit_depth ? `${set.bit_depth} bit` : "", set.file_format || ""].filter(Boolean).join(" · ");
  const device = [p.device || "—", p.device_name || "", [p.device_make, p.device_model].filter(Boolean).join(" ")]
    .filter(Boolean).join(" · ");
  const times = [p.scan_started, p.scan_ended].filter(Boolean).map((v) => formatDate(v || "")).join(" – ");
  const c = p.calibration;
  /** @type {[string, string][]} */
  const rows = [
    [t("batch.process.device"), device],
    [t("batch.process.settings"), settings || "—"],
    [t("batch.process.operator"), p.operator || "—"],
    [t("batch.process.scanned"), times || "—"],
    [t("batch.process.calibration"), c ? `${formatDate(c.done_at)} · ${c.result} · ${c.next_due || "—"}` : "—"],
  ];
  const list = h("dl", { class: "facts", id: "batch-process" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]).flat());
  const warnings = p.warning_codes.map((w) => h("li", { "data-code": w.code }, t(`batch.device_warning.${w.code}`, w.params)));
  return warnings.length ? h("div", {}, list, h("ul", { class: "warnings", id: "batch-process-warnings" }, warnings)) : list;
}

/** Held pages (and pages rejected, awaiting their rescan), each linked to its review. @param {BatchStatus} s */
function heldView(s) {
  const rejected = new Map(s.page_findings.filter((f) => f.review === "rejected").map((f) => [f.page_id, f]));
  const rows = [
    ...s.held_pages.map((p) => ({ ...p, review: "held" })),
    ...[...rejected.values()].map((f) => ({ page_id: f.page_id, document_id: f.document_id, reference_code: f.reference_code,
      page: f.page, findings: [], review: "rejected" })),
  ];
  if (!rows.length) return h("p", { class: "notice", id: "held-none" }, t("batch.held_none"));
  return h("ul", { class: "held-list", id: "held-list" }, rows.map((p) =>
    h("li", { "data-page-id": p.page_id },
      h("a", { href: `#/batches/${s.id}/pages/${p.page_id}` },
        t("batch.held_entry", { code: p.reference_code, page: p.page })),
      " ", h("span", { class: `state state-${p.review}` }, label("review", p.review)))));
}

/**
 * Sampling, decision, report and filing, as the batch's state allows; `message` is the section's (kept across
 * refreshes). @param {BatchStatus} s @param {() => void} refresh @param {HTMLElement} message
 */
function acceptanceView(s, refresh, message) {
  /** @type {HTMLElement[]} */
  const parts = [];
  const blocked = s.held_pages.length + (s.pages_by_review.rejected || 0);
  if (session.may("batch.acceptance") && ["open", "returned", "sampling"].includes(s.status)) {
    parts.push(h("p", {}, blocked
      ? t("batch.sample_blocked", { count: blocked })
      : h("a", { href: `#/batches/${s.id}/sample`, class: "button-link", id: "to-sample" },
        t(s.status === "sampling" ? "batch.sample_continue" : "batch.sample_go"))));
  }
  const report = (/** @type {"html" | "json"} */ format) => async () => {
    try {
      await download(`/batches/${s.id}/report`, { format }, `batch-${s.id}-report.${format}`);
    } catch (error) {
      say(message, describe(error), "error");
    }
  };
  parts.push(h("div", { class: "actions" },
    h("button", { type: "button", class: "secondary", id: "report-html", onclick: report("html") }, t("batch.report_html")),
    h("button", { type: "button", class: "secondary", id: "report-json", onclick: report("json") }, t("batch.report_json"))));
  if (s.status === "accepted" && session.may("batch.file")) {
    const justification = h("textarea", { id: "justification", rows: 2, "aria-describedby": "justification-help" });
    const button = h("button", { type: "submit", id: "file-batch" }, t("batch.file"));
    const form = h("form", { class: "stack", id: "filing-form" },
      h("label", { for: "justification" }, t("batch.justification")), justification,
      h("p", { class: "help", id: "justification-help" }, t("batch.justification_help")), button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        /** @type {{ documents: number }} */
        const filed = await api(`/batches/${s.id}/file`, { method: "POST",
          body: { justification: justification.value.trim() || null } });
        say(message, t("batch.filed", { count: filed.documents }), "notice");
        refresh();
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        button.disabled = false;
      }
    });
    parts.push(form);
  }
  if (s.status === "filed") parts.push(h("p", { class: "notice", id: "filed-line" }, t("batch.is_filed")));
  if (s.status === "filed" && session.may("batch.reopen")) parts.push(reopenForm(s, refresh, message));
  return h("div", {}, ...parts);
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "batch",
  catalogue: "batch",
  route: "/batches/:id",
  title: "batch.title",
  async render(root, params, ctx) {
    const id = Number(params.path.id);
    const heading = h("h1", { id: "batch-heading" }, t("batch.heading", { id }));
    const slots = {
      facts: h("div", {}), process: h("div", {}), progress: h("div", {}), held: h("div", {}), findings: h("div", {}),
      reconciliation: h("div", {}), acceptance: h("div", {}),
    };
    const uploadSlot = h("div", {});
    const problem = h("div", {});
    const filingMessage = messageBox("notice", "filing-message");
    root.append(h("p", { class: "crumbs" }, h("a", { href: "#/batches" }, t("batch.back_to_batches"))), heading, problem,
      slots.facts, section("digitisation", t("batch.process.heading"), slots.process), uploadSlot,
      section("progress", t("batch.progress_heading"), slots.progress),
      section("held", t("batch.held_heading"), slots.held),
      section("findings", t("batch.findings_heading"), slots.findings),
      section("reconciliation", t("batch.reconciliation_heading"), slots.reconciliation),
      section("acceptance", t("batch.acceptance"), filingMessage, slots.acceptance));
    /** @type {{ show: string, severity: string }} */
    const filter = { show: "", severity: "" };
    /** @type {BatchStatus | null} */
    let status = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    let timer = null;
    let gone = false;

    /** @param {string} [focus] the id of the filter that changed (focus stays on it) */
    const drawFindings = (focus) => {
      if (status) slots.findings.replaceChildren(findingsView(status, filter, drawFindings));
      const control = focus ? document.getElementById(focus) : null;
      if (control) control.focus();
    };
    const refresh = async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      try {
        const [s, jobs] = await Promise.all([
          batchStatus(id),
          /** @type {Promise<{ jobs: JobRow[] }>} */ (api("/jobs", { params: { batch_id: id, all: "true", limit: 500 } })),
        ]);
        if (gone) return;
        status = s;
        ctx.setTitle(t("batch.title_of", { id, label: s.label || placeOf(s) }));
        heading.textContent = t("batch.heading_of", { id, label: s.label || placeOf(s) });
        problem.replaceChildren();
        slots.facts.replaceChildren(facts(s));
        slots.process.replaceChildren(processView(s));
        if (session.may("ingest.submit") && OPEN.includes(s.status)) {  // kept across refreshes; back after a reopen
          if (!uploadSlot.firstChild) {
            uploadSlot.replaceChildren(section("upload", t("batch.upload_heading"), uploadZone(id, () => void refresh())));
          }
        } else {
          uploadSlot.replaceChildren();
        }
        slots.progress.replaceChildren(progressView(s, jobs.jobs));
        slots.held.replaceChildren(heldView(s));
        drawFindings();
        slots.reconciliation.replaceChildren(reconciliationView(s));
        slots.acceptance.replaceChildren(acceptanceView(s, () => void refresh(), filingMessage));
        if (timer) clearTimeout(timer);
        if (MOVING.some((state) => (s.jobs[state] || 0) > 0)) timer = setTimeout(() => void refresh(), POLL_MS);
      } catch (error) {
        if (!gone) problem.replaceChildren(errorState(describe(error)));
      }
    };
    await refresh();
    return { destroy: () => { gone = true; if (timer) clearTimeout(timer); } };
  },
};
