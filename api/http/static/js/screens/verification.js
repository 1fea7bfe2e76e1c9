// Fixity verification (system administrator; the auditor reads the reports): start one of the primary store
// or of a backup target (POST /api/v1/verify), the stored runs (GET /verify/runs) and one run's report with
// its findings (GET /verify/runs/{id}, opened with #/verification?run=12).
import { api, describe } from "../api.js";
import { has, t } from "../i18n.js";
import * as session from "../session.js";
import { count, facts, findingsTable, formatBytes, formatSeconds, gradeBadge, noteTexts, severitySummary, when }
  from "../report.js";
import { h, messageBox, say, table } from "../ui.js";

const LEVELS = ["structure", "sample", "full", "backup"];

/**
 * @typedef {{ id: number, level: string, store: string, started_at: string, seconds: number, grade: string,
 *             objects_checked: number | null, bytes_read: number | null, actor: string }} RunSummary
 * @typedef {{ run_id: number | null, store: string, level: string, percent: number | null, grade: string,
 *             severity_counts: Record<string, number>, objects_checked: number, objects_hashed: number,
 *             bytes_read: number, seconds: number, notes: string[], target: string | null,
 *             note_codes?: { code: string, params: Record<string, string | number | null> }[],
 *             findings: import("../report.js").Finding[] }} Report
 * @typedef {RunSummary & { report: Report }} RunDetail
 */

/** @param {string} level */
function levelWord(level) {
  return has(`verification.level.${level}`) ? t(`verification.level.${level}`) : level;
}

/** @param {RunDetail} run */
function reportOf(run) {
  const r = run.report;
  return h("section", { id: "verification-report", class: "card report", "aria-labelledby": "report-heading",
    "data-grade": run.grade, "data-run": String(run.id) },
    h("h2", { id: "report-heading" }, t("verification.report_heading", { id: run.id }), " ", gradeBadge(run.grade)),
    facts([
      [t("verification.col.store"), r.target ? t("verification.target_store", { target: r.target }) : r.store],
      [t("verification.col.level"), r.percent && r.level === "sample"
        ? t("verification.sample_of", { percent: r.percent }) : levelWord(r.level)],
      [t("verification.col.started"), when(run.started_at)],
      [t("verification.by"), run.actor],
      [t("verification.col.objects"), count(r.objects_checked)],
      [t("verification.hashed"), count(r.objects_hashed)],
      [t("verification.bytes_read"), formatBytes(r.bytes_read)],
      [t("verification.took"), formatSeconds(r.seconds)],
      [t("verification.summary"), severitySummary(r.severity_counts)],
    ]),
    r.notes.length ? h("ul", { class: "notes", "aria-label": t("verification.notes") },
      noteTexts(r.notes, r.note_codes).map((n) => h("li", {}, n))) : null,
    findingsTable(r.findings, t("verification.findings"), "report-findings"));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "verification",
  catalogue: "verification",
  route: "/verification",
  title: "verification.title",
  nav: { label: "verification.nav", action: "verify.read" },
  render(root, params, ctx) {
    const message = messageBox("error", "verification-message");
    const level = h("select", { id: "v-level" }, LEVELS.map((l) => h("option", { value: l }, levelWord(l))));
    const percent = h("input", { id: "v-percent", type: "number", min: 0.1, max: 100, step: 0.1, value: 5 });
    const target = h("select", { id: "v-target" });
    const percentField = h("div", { class: "filter" }, h("label", { for: "v-percent" }, t("verification.percent")), percent);
    const targetField = h("div", { class: "filter" }, h("label", { for: "v-target" }, t("verification.target")), target);
    const start = h("button", { type: "submit", id: "start-verification" }, t("verification.start"));
    const form = session.may("verify.run")
      ? h("form", { id: "verification-form", class: "filters", "aria-labelledby": "start-heading" },
          h("h2", { id: "start-heading", class: "form-heading" }, t("verification.start_heading")),
          h("div", { class: "filter" }, h("label", { for: "v-level" }, t("verification.level_label")), level),
          percentField, targetField,
          h("p", { class: "help filters-help", id: "v-level-help" }, t("verification.level_help")),
          h("div", { class: "filter-actions" }, start))
      : null;
    level.setAttribute("aria-describedby", "v-level-help");
    const sync = () => {
      percentField.hidden = level.value !== "sample";
      targetField.hidden = level.value !== "backup";
    };
    level.addEventListener("change", sync);
    sync();
    const report = h("div", { id: "report-box", "aria-live": "polite" });
    const runsBox = h("div", { id: "verification-runs" });
    root.append(h("section", { class: "officer", "aria-labelledby": "verification-heading" },
      h("h1", { id: "verification-heading" }, t("verification.heading")), form, message, report,
      h("h2", {}, t("verification.runs")), runsBox));

    let query = params.query;
    const loadRuns = async () => {
      /** @type {{ runs: RunSummary[] }} */
      const answer = await api("/verify/runs", { params: { limit: 50 } });
      runsBox.replaceChildren(table({ caption: t("verification.runs_caption"), rows: answer.runs,
        empty: t("verification.no_runs"), columns: [
          { key: "id", label: t("verification.col.run"), cell: (r) => h("a", { href: `#/verification?run=${r.id}`,
            class: "open-report" }, t("verification.run_number", { id: r.id })) },
          { key: "started", label: t("verification.col.started"), cell: (r) => when(r.started_at) },
          { key: "level", label: t("verification.col.level"), cell: (r) => levelWord(r.level) },
          { key: "store", label: t("verification.col.store"), cell: (r) => r.store },
          { key: "grade", label: t("verification.col.grade"), cell: (r) => gradeBadge(r.grade) },
          { key: "objects", label: t("verification.col.objects"), numeric: true, cell: (r) => count(r.objects_checked) },
        ] }));
    };
    const loadReport = async () => {
      const id = parseInt(query.get("run") || "", 10);
      if (!id) {
        report.replaceChildren();
        return;
      }
      /** @type {RunDetail} */
      const run = await api(`/verify/runs/${id}`);
      report.replaceChildren(reportOf(run));
    };
    const load = async () => {
      say(message, "");
      try {
        await Promise.all([loadRuns(), loadReport()]);
      } catch (error) {
        say(message, describe(error), "error");
      }
    };
    if (form) {
      api("/backups").then((/** @type {{ targets: { name: string }[] }} */ answer) => {
        target.replaceChildren(...answer.targets.map((x) => h("option", { value: x.name }, x.name)));
      }).catch(() => { /* no backup targets to offer: the backup level then answers its own error */ });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        start.disabled = true;
        say(message, "");
        try {
          /** @type {Report} */
          const done = await api("/verify", { method: "POST", body: { level: level.value,
            percent: level.value === "sample" ? Number(percent.value) : undefined,
            target: level.value === "backup" ? target.value || undefined : undefined } });
          if (done.run_id !== null) ctx.navigate(`#/verification?run=${done.run_id}`);
          else await load();
        } catch (error) {
          say(message, describe(error), "error");
        } finally {
          start.disabled = false;
        }
      });
    }
    void load();
    return { update(next) { query = next.query; void load(); } };
  },
};
