// The access log (security auditor): filters by user, record, action, outcome, time range and client address,
// paging through GET /api/v1/audit/events, and the matching events as a CSV or JSON file (GET /audit/export,
// fetched with the token and saved from a blob). The filters and the page live in the hash.
import { api, call, describe } from "../api.js";
import { formatNumber, has, t } from "../i18n.js";
import { saveFile, when } from "../report.js";
import { h, messageBox, pager, say, table } from "../ui.js";

const PAGE_SIZE = 50;
const FIELDS = ["user", "document", "action", "outcome", "since", "until", "client"];
const OUTCOMES = ["success", "denied", "denied_or_missing", "failure", "throttled"];

/**
 * @typedef {{ id: number, at: string, actor: string, action: string, target: string | null, outcome: string,
 *             client: string | null, details: Record<string, unknown> }} AuditEvent
 * @typedef {{ events: AuditEvent[], total: number, offset: number, limit: number, next_offset: number | null }} Events
 */

/** A datetime-local value as an ISO moment in UTC ("" when empty or not a time). @param {string} local */
function isoOf(local) {
  if (!local) return "";
  const moment = new Date(local);
  return Number.isNaN(moment.getTime()) ? "" : moment.toISOString();
}

/** The API's filters from the hash. @param {URLSearchParams} query */
function filtersOf(query) {
  /** @type {Record<string, string>} */
  const params = {};
  for (const name of FIELDS) {
    const value = (query.get(name) || "").trim();
    if (!value) continue;
    params[name] = name === "since" || name === "until" ? isoOf(value) : value;
  }
  return params;
}

/** @param {string} id @param {string} label @param {HTMLInputElement | HTMLSelectElement} control */
function field(id, label, control) {
  return h("div", { class: "filter" }, h("label", { for: id }, label), control);
}

/** @param {string} outcome */
function outcomeWord(outcome) {
  return has(`auditlog.outcome.${outcome}`) ? t(`auditlog.outcome.${outcome}`) : outcome;
}

/** @param {AuditEvent} e */
function detailsText(e) {
  const keys = Object.keys(e.details || {});
  return keys.length ? JSON.stringify(e.details) : "";
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "auditlog",
  catalogue: "auditlog",
  route: "/audit",
  title: "auditlog.title",
  nav: { label: "auditlog.nav", action: "audit.read" },
  render(root, params, ctx) {
    /** @type {Record<string, HTMLInputElement | HTMLSelectElement>} */
    const inputs = {
      user: h("input", { id: "f-user", type: "text", autocomplete: "off" }),
      document: h("input", { id: "f-document", type: "number", min: 1, inputmode: "numeric" }),
      action: h("input", { id: "f-action", type: "text", autocomplete: "off", "aria-describedby": "f-action-help" }),
      outcome: h("select", { id: "f-outcome" }, h("option", { value: "" }, t("auditlog.any_outcome")),
        OUTCOMES.map((o) => h("option", { value: o }, t(`auditlog.outcome.${o}`)))),
      since: h("input", { id: "f-since", type: "datetime-local", step: 1 }),
      until: h("input", { id: "f-until", type: "datetime-local", step: 1 }),
      client: h("input", { id: "f-client", type: "text", autocomplete: "off" }),
    };
    const form = h("form", { id: "audit-filters", class: "filters", role: "search", "aria-label": t("auditlog.filters") },
      field("f-user", t("auditlog.user"), inputs.user),
      field("f-document", t("auditlog.document"), inputs.document),
      field("f-action", t("auditlog.action"), inputs.action),
      field("f-outcome", t("auditlog.outcome_label"), inputs.outcome),
      field("f-since", t("auditlog.since"), inputs.since),
      field("f-until", t("auditlog.until"), inputs.until),
      field("f-client", t("auditlog.client"), inputs.client),
      h("p", { id: "f-action-help", class: "help filters-help" }, t("auditlog.action_help")),
      h("div", { class: "filter-actions" },
        h("button", { type: "submit", id: "apply-filters" }, t("auditlog.apply")),
        h("button", { type: "button", id: "clear-filters", class: "secondary",
          onclick: () => ctx.navigate("#/audit") }, t("auditlog.clear"))));
    const message = messageBox("error", "audit-message");
    const exportMessage = messageBox("notice", "export-message");
    const csv = h("button", { type: "button", id: "export-csv", class: "secondary" }, t("auditlog.export_csv"));
    const json = h("button", { type: "button", id: "export-json", class: "secondary" }, t("auditlog.export_json"));
    const summary = h("p", { id: "audit-count", class: "count", "aria-live": "polite" });
    const results = h("div", { id: "audit-results" });
    root.append(h("section", { class: "officer", "aria-labelledby": "auditlog-heading" },
      h("h1", { id: "auditlog-heading" }, t("auditlog.heading")),
      form, message,
      h("div", { class: "toolbar" }, summary, h("div", { class: "actions" }, csv, json)),
      exportMessage, results));

    let query = params.query;
    let turn = 0;

    const hashFor = (/** @type {number} */ page) => {
      const next = new URLSearchParams();
      for (const name of FIELDS) {
        const value = inputs[name].value.trim();
        if (value) next.set(name, value);
      }
      if (page > 1) next.set("page", String(page));
      const text = next.toString();
      return text ? `#/audit?${text}` : "#/audit";
    };

    const load = async () => {
      const mine = ++turn;
      for (const name of FIELDS) inputs[name].value = query.get(name) || "";
      const page = Math.max(1, parseInt(query.get("page") || "1", 10) || 1);
      say(message, "");
      results.setAttribute("aria-busy", "true");
      try {
        /** @type {Events} */
        const answer = await api("/audit/events", { params: { ...filtersOf(query), limit: PAGE_SIZE,
          offset: (page - 1) * PAGE_SIZE } });
        if (mine !== turn) return;
        summary.textContent = t("auditlog.count", { count: answer.total });
        results.dataset.total = String(answer.total);
        const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
        const rows = [
          table({
            caption: t("auditlog.caption"),
            rows: answer.events,
            empty: t("auditlog.none"),
            columns: [
              { key: "id", label: t("auditlog.col.id"), numeric: true, cell: (e) => formatNumber(e.id) },
              { key: "at", label: t("auditlog.col.at"), cell: (e) => h("time", { datetime: e.at }, when(e.at)) },
              { key: "actor", label: t("auditlog.col.actor"), cell: (e) => e.actor },
              { key: "action", label: t("auditlog.col.action"), cell: (e) => h("code", {}, e.action) },
              { key: "target", label: t("auditlog.col.target"), cell: (e) => e.target || "—" },
              { key: "outcome", label: t("auditlog.col.outcome"),
                cell: (e) => h("span", { class: `outcome outcome-${e.outcome}` }, outcomeWord(e.outcome)) },
              { key: "client", label: t("auditlog.col.client"), cell: (e) => e.client || "—" },
              { key: "details", label: t("auditlog.col.details"), cell: (e) => h("span", { class: "details" }, detailsText(e)) },
            ],
          }),
        ];
        if (answer.total > PAGE_SIZE) {
          rows.push(pager({ page, pages, more: answer.next_offset !== null, onPage: (p) => ctx.navigate(hashFor(p)) }));
        }
        results.replaceChildren(...rows);
      } catch (error) {
        if (mine === turn) {
          results.replaceChildren();
          summary.textContent = "";
          say(message, describe(error), "error");
        }
      } finally {
        if (mine === turn) results.removeAttribute("aria-busy");
      }
    };

    const download = async (/** @type {"csv" | "json"} */ format, /** @type {HTMLButtonElement} */ button) => {
      button.disabled = true;
      say(exportMessage, "");
      try {
        const response = await call("/audit/export", { params: { ...filtersOf(query), format } });
        await saveFile(response, `audit.${format}`);
        say(exportMessage, t("auditlog.exported"), "notice");
      } catch (error) {
        say(exportMessage, describe(error), "error");
      } finally {
        button.disabled = false;
      }
    };
    csv.addEventListener("click", () => void download("csv", csv));
    json.addEventListener("click", () => void download("json", json));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ctx.navigate(hashFor(1));
    });

    void load();
    return {
      update(next) {
        query = next.query;
        void load();
      },
    };
  },
};
