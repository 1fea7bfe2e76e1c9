// The compliance reports (security auditor): make one now over a period (POST /api/v1/audit/compliance-report),
// or open a kept one (GET /api/v1/audit/compliance-reports[/{stamp}]); each shows its grade, what needs a
// person's attention (coded findings, said in the page's language) and the period's figures, and downloads as
// the HTML page for the paper file, in Chinese or English.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import { download } from "../images.js";
import { count, facts, gradeBadge, severitySummary, when } from "../report.js";
import { emptyState, h, messageBox, say } from "../ui.js";

/**
 * @typedef {{ code: string, severity: string, params: Record<string, string | number>, message: string }} Item
 * @typedef {{ key: string, since: string, until: string, grade: string, severity_counts: Record<string, number>,
 *   audit_log: { ok: boolean, grade: string, events_checked: number }, alerts: Record<string, number>,
 *   verifications: Record<string, number>, backups: Record<string, Record<string, number>>,
 *   drills: Record<string, number>, scheduled: Record<string, number>, dat70: Record<string, number>,
 *   retention: Record<string, number>, items: Item[] }} Report
 */

/** "complete 3, failed 1" with each value's name from the catalogue. @param {Record<string, number>} values
 * @param {string} group */
function counts(values, group) {
  const named = Object.entries(values || {}).sort().map(([name, n]) => `${t(`compliance.${group}.${name}`)} ${count(n)}`);
  return named.length ? named.join(t("compliance.separator")) : t("compliance.none");
}

/** The report's stamp (its time, as the kept list names it) from its key. @param {Report} r */
function stampOf(r) {
  const name = r.key.split("/").pop() || "";
  return name.endsWith(".json") ? name.slice(0, -".json".length) : name;
}

/** A kept report's stamp (20261204T200538Z, UTC) as the page writes a moment. @param {string} stamp */
function keptLabel(stamp) {
  const iso = stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
  return iso === stamp ? stamp : when(iso);
}

/** @param {Report} r */
function reportOf(r) {
  const stamp = stampOf(r);
  const attention = r.items.length
    ? h("ul", { id: "compliance-items" }, r.items.map((item) => h("li", { class: `finding-${item.severity}`,
      "data-code": item.code }, h("strong", {}, t(`compliance.severity.${item.severity}`)), " ",
      t(`compliance.finding.${item.code}`, item.params))))
    : emptyState(t("compliance.nothing"));
  const log = r.audit_log;
  const backups = Object.entries(r.backups).sort().map(([target, statuses]) => `${target}: ${counts(statuses, "backup")}`);
  const zh = h("button", { type: "button", class: "secondary", id: "compliance-html-zh" }, t("compliance.download_zh"));
  const en = h("button", { type: "button", class: "secondary", id: "compliance-html-en" }, t("compliance.download_en"));
  zh.addEventListener("click", () => download(`/api/v1/audit/compliance-reports/${stamp}/html?lang=zh-CN`,
    `compliance-${stamp}.zh-CN.html`));
  en.addEventListener("click", () => download(`/api/v1/audit/compliance-reports/${stamp}/html?lang=en`,
    `compliance-${stamp}.en.html`));
  return h("section", { id: "compliance-report", class: "card report", "aria-labelledby": "compliance-report-heading",
    "data-grade": r.grade, "data-stamp": stamp },
    h("h2", { id: "compliance-report-heading" }, t("compliance.report"), " — ",
      t("compliance.period", { since: when(r.since), until: when(r.until) }), " ", gradeBadge(r.grade)),
    h("p", {}, severitySummary(r.severity_counts)),
    h("h3", {}, t("compliance.attention")),
    attention,
    h("h3", {}, t("compliance.figures")),
    facts([
      [t("compliance.row.audit_log"), t(log.ok ? "compliance.log.ok" : "compliance.log.not_ok",
        { grade: t(`compliance.grade.${log.grade}`), events: log.events_checked })],
      [t("compliance.row.alerts"), Object.entries(r.alerts).sort().map(([kind, n]) =>
        `${t(`alerts.kind.${kind}`)} ${count(n)}`).join(t("compliance.separator")) || t("compliance.none")],
      [t("compliance.row.verifications"), counts(r.verifications, "grade")],
      [t("compliance.row.dat70"), counts(r.dat70, "grade")],
      [t("compliance.row.drills"), counts(r.drills, "drill")],
      [t("compliance.row.scheduled"), counts(r.scheduled, "outcome")],
      [t("compliance.row.retention"), t("compliance.retention", { due: r.retention.due ?? 0,
        held: r.retention.held ?? 0, in_disposition: r.retention.in_disposition ?? 0 })],
      [t("compliance.backups"), backups.length ? backups.join("; ") : t("compliance.none")],
    ], "compliance-figures"),
    h("div", { class: "actions" }, zh, en));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "compliance",
  catalogue: "compliance",
  route: "/audit/compliance",
  title: "compliance.nav",
  nav: { label: "compliance.nav", action: "compliance.report" },
  async render(root) {
    const message = messageBox("error", "compliance-message");
    const days = h("input", { id: "compliance-days", type: "number", min: 1, max: 3660, value: "91",
      inputmode: "numeric" });
    const make = h("button", { type: "submit", id: "compliance-make" }, t("compliance.make"));
    const form = h("form", { class: "filters", id: "compliance-form" },
      h("div", { class: "filter" }, h("label", { for: "compliance-days" }, t("compliance.days")), days), make);
    const kept = h("div", { id: "compliance-kept" });
    const shown = h("div", { id: "compliance-shown", "aria-live": "polite" });
    root.append(h("section", { class: "officer", "aria-labelledby": "compliance-heading" },
      h("h1", { id: "compliance-heading" }, t("compliance.heading")),
      h("p", { class: "help" }, t("compliance.intro")),
      form, message, shown,
      h("h2", {}, t("compliance.kept_list")), kept));

    /** @param {() => Promise<Report>} fetcher */
    async function show(fetcher) {
      say(message, "");
      shown.setAttribute("aria-busy", "true");
      try {
        shown.replaceChildren(reportOf(await fetcher()));
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        shown.removeAttribute("aria-busy");
      }
    }

    async function listKept() {
      try {
        /** @type {{ reports: string[] }} */
        const listed = await api("/audit/compliance-reports");
        kept.replaceChildren(listed.reports.length
          ? h("ul", { class: "kept-reports" }, listed.reports.map((stamp) => {
            const open = h("button", { type: "button", class: "link", "data-stamp": stamp }, keptLabel(stamp));
            open.addEventListener("click", () => show(() => api(`/audit/compliance-reports/${stamp}`)));
            return h("li", {}, open);
          }))
          : emptyState(t("compliance.no_kept")));
      } catch (error) {
        say(message, describe(error), "error");
      }
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      make.disabled = true;
      await show(() => api(`/audit/compliance-report?days=${encodeURIComponent(days.value || "91")}`,
        { method: "POST" }));
      make.disabled = false;
      await listKept();
    });
    await listKept();
  },
};
