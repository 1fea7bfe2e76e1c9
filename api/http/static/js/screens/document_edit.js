// Editing a record's title, date, access level and descriptive fields (责任者, 文号, 机构, 归档年度, 关键词) on
// the document page (PATCH /api/v1/documents/{id}), shown
// only when the caller's `may` holds record.edit (archivists, system administrators). Only changed fields are sent.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import { h, messageBox, say } from "../ui.js";

const LEVELS = ["public", "internal", "confidential", "secret", "top_secret"];
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

/**
 * @template {{ id: number, title: string, date: string | null, access_level: string | null,
 *   metadata?: { creator: string | null, document_number: string | null, organisation: string | null,
 *                archival_year: number | null, keywords: string[] } }} D
 * @param {D} record
 * @param {(changed: D) => void} onSaved
 * @returns {HTMLElement}
 */
export function editForm(record, onSaved) {
  const message = messageBox("notice", "edit-message");
  const title = h("input", { id: "edit-title", type: "text", value: record.title || "", maxlength: 500 });
  const date = h("input", { id: "edit-date", type: "text", value: record.date || "", inputmode: "numeric",
    placeholder: "YYYY-MM-DD", "aria-describedby": "edit-date-help" });
  const level = h("select", { id: "edit-level" },
    LEVELS.map((l) => h("option", { value: l, selected: l === record.access_level }, t(`common.level.${l}`))));
  const meta = record.metadata;
  /** @type {Record<string, string>} */
  const was = {
    creator: (meta && meta.creator) || "",
    document_number: (meta && meta.document_number) || "",
    organisation: (meta && meta.organisation) || "",
    archival_year: meta && meta.archival_year ? String(meta.archival_year) : "",
    keywords: meta && meta.keywords ? meta.keywords.join("；") : "",
  };
  const inputs = Object.keys(was).map((key) => ({ key, input: h("input", { id: `edit-${key}`, type: "text",
    value: was[key], maxlength: key === "keywords" ? 2000 : 250,
    inputmode: key === "archival_year" ? "numeric" : "text" }) }));
  const button = h("button", { type: "submit", id: "edit-save" }, t("document.save"));
  const form = h("form", { id: "edit-form", class: "stack edit-form", novalidate: true },
    message,
    h("label", { for: "edit-title" }, t("document.title_field")), title,
    h("label", { for: "edit-date" }, t("document.date")), date,
    h("p", { id: "edit-date-help", class: "help" }, t("document.date_help")),
    h("label", { for: "edit-level" }, t("document.level")), level,
    ...inputs.flatMap(({ key, input }) => [h("label", { for: `edit-${key}` }, t(`document.${key}`)), input]),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @type {Record<string, string>} */
    const body = {};
    if (title.value.trim() !== (record.title || "")) body.title = title.value.trim();
    if (date.value.trim() !== (record.date || "")) {
      if (!DATE.test(date.value.trim())) return say(message, t("document.bad_date"), "error");
      body.date = date.value.trim();
    }
    if (level.value !== record.access_level) body.level = level.value;
    for (const { key, input } of inputs) {
      const value = /** @type {HTMLInputElement} */ (input).value.trim();
      if (value !== was[key]) body[key] = value;
    }
    if (!Object.keys(body).length) return say(message, t("document.unchanged"), "notice");
    button.disabled = true;
    try {
      /** @type {D} */
      const changed = await api(`/documents/${record.id}`, { method: "PATCH", body });
      onSaved(changed);
    } catch (failure) {
      say(message, describe(failure), "error");
    } finally {
      button.disabled = false;
    }
    return undefined;
  });
  return h("details", { class: "card edit", id: "edit-details" },
    h("summary", {}, t("document.edit")), form);
}
