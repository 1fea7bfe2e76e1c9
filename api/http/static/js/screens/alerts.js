// Alerts over the access log (security auditor): denied-access bursts, bulk downloads, integrity failures and
// off-hours reads of confidential records (GET /api/v1/audit/alerts), each with its events on demand (the
// alert's actor and time span from GET /audit/events, keeping the events the alert names).
import { api, describe } from "../api.js";
import { formatNumber, has, t } from "../i18n.js";
import { when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";

/**
 * @typedef {{ kind: string, actor: string, first_at: string, last_at: string, count: number, event_ids: number[],
 *             message: string }} Alert
 * @typedef {import("./auditlog.js").AuditEvent} AuditEvent
 */

/** A datetime-local value as an ISO moment ("" when empty). @param {string} local */
function isoOf(local) {
  const moment = new Date(local);
  return local && !Number.isNaN(moment.getTime()) ? moment.toISOString() : "";
}

/** The events an alert names (its actor's events in its time span, the end included). @param {Alert} alert */
async function eventsOf(alert) {
  const until = new Date(new Date(alert.last_at).getTime() + 1000).toISOString();
  /** @type {{ events: AuditEvent[] }} */
  const answer = await api("/audit/events", { params: { user: alert.actor, since: alert.first_at, until,
    limit: Math.min(100_000, alert.count + 1000) } });
  const wanted = new Set(alert.event_ids);
  return answer.events.filter((e) => wanted.has(e.id));
}

/** @param {AuditEvent[]} events @param {string} caption */
function eventsTable(events, caption) {
  return table({
    caption,
    rows: events,
    columns: [
      { key: "id", label: t("alerts.col.id"), numeric: true, cell: (e) => formatNumber(e.id) },
      { key: "at", label: t("alerts.col.at"), cell: (e) => h("time", { datetime: e.at }, when(e.at)) },
      { key: "action", label: t("alerts.col.action"), cell: (e) => h("code", {}, e.action) },
      { key: "target", label: t("alerts.col.target"), cell: (e) => e.target || "—" },
      { key: "outcome", label: t("alerts.col.outcome"), cell: (e) => e.outcome },
      { key: "client", label: t("alerts.col.client"), cell: (e) => e.client || "—" },
    ],
  });
}

/** @param {Alert} alert @param {number} n */
function alertCard(alert, n) {
  const kind = has(`alerts.kind.${alert.kind}`) ? t(`alerts.kind.${alert.kind}`) : alert.kind;
  const panel = h("div", { id: `alert-events-${n}`, class: "alert-events" });
  panel.hidden = true;
  const toggle = h("button", { type: "button", class: "secondary show-events", "aria-expanded": "false",
    "aria-controls": panel.id }, t("alerts.show_events", { count: alert.count }));
  toggle.addEventListener("click", async () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    panel.hidden = open;
    if (open || panel.childElementCount) return;
    try {
      panel.replaceChildren(eventsTable(await eventsOf(alert), t("alerts.events_caption", { kind })));
    } catch (error) {
      panel.replaceChildren(h("p", { class: "error", role: "alert" }, describe(error)));
    }
  });
  return h("li", { class: `alert-item alert-${alert.kind}`, "data-kind": alert.kind },
    h("h2", {}, kind),
    h("p", {}, t("alerts.summary", { count: alert.count, actor: alert.actor, first: when(alert.first_at),
      last: when(alert.last_at) })),
    toggle, panel);
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "alerts",
  catalogue: "alerts",
  route: "/audit/alerts",
  title: "alerts.title",
  nav: { label: "alerts.nav", action: "audit.read" },
  render(root, params, ctx) {
    const since = h("input", { id: "alerts-since", type: "datetime-local", step: 1 });
    const until = h("input", { id: "alerts-until", type: "datetime-local", step: 1 });
    const form = h("form", { class: "filters", role: "search", "aria-label": t("alerts.filters") },
      h("div", { class: "filter" }, h("label", { for: "alerts-since" }, t("alerts.since")), since),
      h("div", { class: "filter" }, h("label", { for: "alerts-until" }, t("alerts.until")), until),
      h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("alerts.apply"))));
    const message = messageBox("error", "alerts-message");
    const list = h("ul", { id: "alerts", class: "alert-list", "aria-live": "polite" });
    root.append(h("section", { class: "officer", "aria-labelledby": "alerts-heading" },
      h("h1", { id: "alerts-heading" }, t("alerts.heading")), h("p", { class: "help" }, t("alerts.intro")),
      form, message, list));

    let query = params.query;
    const load = async () => {
      since.value = query.get("since") || "";
      until.value = query.get("until") || "";
      say(message, "");
      list.setAttribute("aria-busy", "true");
      try {
        /** @type {{ alerts: Alert[] }} */
        const answer = await api("/audit/alerts", { params: { since: isoOf(since.value), until: isoOf(until.value),
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "Asia/Shanghai" } });
        list.dataset.count = String(answer.alerts.length);
        list.replaceChildren(...(answer.alerts.length ? answer.alerts.map(alertCard)
          : [h("li", { class: "empty" }, t("alerts.none"))]));
      } catch (error) {
        list.replaceChildren();
        say(message, describe(error), "error");
      } finally {
        list.removeAttribute("aria-busy");
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      if (since.value) next.set("since", since.value);
      if (until.value) next.set("until", until.value);
      ctx.navigate(next.toString() ? `#/audit/alerts?${next}` : "#/audit/alerts");
    });
    void load();
    return { update(next) { query = next.query; void load(); } };
  },
};
