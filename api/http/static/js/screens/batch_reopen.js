// Reopening a filed batch (POST /api/v1/batches/{id}/reopen, action batch.reopen): a reason (it goes into the
// access log), then a confirmation that says what it does — the batch's items leave staff's view until the batch
// is sampled and filed again — and the answer in the acceptance section's message.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import { h, say } from "../ui.js";

/** @typedef {import("./batch_common.js").BatchStatus} BatchStatus */

/**
 * The reopen form of a filed batch. @param {BatchStatus} s @param {() => void} refresh @param {HTMLElement} message
 * @returns {HTMLElement}
 */
export function reopenForm(s, refresh, message) {
  const reason = h("textarea", { id: "reopen-reason", rows: 2, required: true, "aria-describedby": "reopen-help" });
  const start = h("button", { type: "submit", id: "reopen-batch", class: "secondary" }, t("batch.reopen"));
  const confirm = h("button", { type: "button", id: "reopen-confirm", class: "danger" }, t("batch.reopen_confirm"));
  const cancel = h("button", { type: "button", id: "reopen-cancel", class: "secondary" }, t("batch.reopen_cancel"));
  const question = h("p", { id: "reopen-question" }, t("batch.reopen_question", { id: s.id, count: s.items }));
  const confirmation = h("div", { class: "stack confirmation", id: "reopen-confirmation", role: "group",
    "aria-labelledby": "reopen-question" }, question, h("div", { class: "actions" }, confirm, cancel));
  confirmation.hidden = true;
  const form = h("form", { class: "stack", id: "reopen-form", "aria-labelledby": "reopen-heading", novalidate: true },
    h("h3", { id: "reopen-heading" }, t("batch.reopen_heading")),
    h("label", { for: "reopen-reason" }, t("batch.reopen_reason")), reason,
    h("p", { class: "help", id: "reopen-help" }, t("batch.reopen_help")), start, confirmation);

  /** @param {boolean} asking */
  const asking = (asking) => {
    confirmation.hidden = !asking;
    start.hidden = asking;
    reason.readOnly = asking;
    (asking ? confirm : start).focus();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      say(message, t("batch.reopen_reason_required"), "error");
      reason.focus();
      return;
    }
    say(message, "");
    asking(true);
  });
  cancel.addEventListener("click", () => asking(false));
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    cancel.disabled = true;
    try {
      /** @type {{ status: string, documents: number }} */
      const done = await api(`/batches/${s.id}/reopen`, { method: "POST", body: { reason: reason.value.trim() } });
      say(message, t("batch.reopened", { count: done.documents }), "notice");
      refresh();
    } catch (error) {
      say(message, describe(error), "error");
      confirm.disabled = false;
      cancel.disabled = false;
      asking(false);
    }
  });
  return form;
}
