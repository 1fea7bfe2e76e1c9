// The retention due list (archivist): records past, or within N days of, the end of their retention period
// (GET /api/v1/retention/due), oldest due first, only those the caller may see; each with the code that
// decides (the record's own or its series'), its due day, whether a legal hold blocks its disposition, its
// latest appraisal and any open disposition. Appraisal and disposition themselves are the CLI's and the API's
// (`dangan retention …`, /api/v1/retention/…) for now.
import { api, describe } from "../api.js";
import { formatDate, t } from "../i18n.js";
import { count } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";

const MAX_DAYS = 36500;

/**
 * @typedef {{ document_id: number, reference_code: string, title: string, level: string | null, status: string,
 *   retention: string, retention_source: string, counted_after: number, due_on: string | null,
 *   overdue_days: number, held: boolean, appraisal: string | null, disposition_id: number | null }} DueRecord
 * @typedef {{ as_of: string, within_days: number, records: DueRecord[], unreadable_codes: number }} DueList
 */

/** @param {DueRecord} r */
function dueText(r) {
  if (!r.due_on) return t("retention.permanent");
  return r.overdue_days >= 0 ? t("retention.overdue", { date: formatDate(r.due_on), count: r.overdue_days })
    : t("retention.due_in", { date: formatDate(r.due_on), count: -r.overdue_days });
}

/** @param {DueList} list */
function listOf(list) {
  return h("div", { id: "retention-result", "data-count": list.records.length },
    h("p", { role: "status" }, t("retention.summary", { count: list.records.length, date: formatDate(list.as_of),
      days: list.within_days })),
    list.unreadable_codes ? h("p", { class: "error" }, t("retention.unreadable", { count: list.unreadable_codes }))
      : null,
    table({
      caption: t("retention.caption"),
      empty: t("retention.none"),
      rows: list.records,
      columns: [
        { key: "reference", label: t("retention.col.reference"),
          cell: (r) => h("a", { href: `#/documents/${r.document_id}` }, r.reference_code) },
        { key: "title", label: t("retention.col.title"), cell: (r) => r.title },
        { key: "retention", label: t("retention.col.retention"),
          cell: (r) => `${r.retention} (${t(`retention.source.${r.retention_source}`)})` },
        { key: "due", label: t("retention.col.due"), cell: (r) => dueText(r) },
        { key: "held", label: t("retention.col.held"), cell: (r) => (r.held ? t("retention.held") : "—") },
        { key: "appraisal", label: t("retention.col.appraisal"),
          cell: (r) => (r.appraisal ? t(`retention.decision.${r.appraisal}`) : t("retention.not_appraised")) },
        { key: "disposition", label: t("retention.col.disposition"),
          cell: (r) => (r.disposition_id === null ? "—" : count(r.disposition_id)) },
      ],
    }));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "retention",
  catalogue: "retention",
  route: "/retention",
  title: "retention.nav",
  nav: { label: "retention.nav", action: "disposition.propose" },
  async render(root) {
    const message = messageBox("error", "retention-message");
    const within = h("input", { id: "retention-within", type: "number", min: 0, max: MAX_DAYS, value: "0",
      inputmode: "numeric", "aria-describedby": "retention-within-help" });
    const show = h("button", { type: "submit", id: "retention-show" }, t("retention.show"));
    const form = h("form", { class: "filters", id: "retention-form" },
      h("div", { class: "filter" }, h("label", { for: "retention-within" }, t("retention.within")), within,
        h("small", { id: "retention-within-help", class: "help" }, t("retention.within_help"))), show);
    const result = h("div", { id: "retention-list", "aria-live": "polite" });
    root.append(h("section", { "aria-labelledby": "retention-heading" },
      h("h1", { id: "retention-heading" }, t("retention.heading")),
      h("p", { class: "help" }, t("retention.intro")),
      form, message, result));

    async function load() {
      say(message, "");
      result.setAttribute("aria-busy", "true");
      try {
        /** @type {DueList} */
        const list = await api("/retention/due", { params: { within_days: within.value || "0" } });
        result.replaceChildren(listOf(list));
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        result.removeAttribute("aria-busy");
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void load();
    });
    await load();
  },
};
