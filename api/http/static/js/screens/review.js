// A held page, side by side (#/batches/12/pages/345): the page image (its text when there is none) beside its
// findings, and the three answers: accept (an optional note), reject (a reason: a rescan is requested) or replace
// with a rescan (POST /api/v1/pages/{id}/rescan, with progress). Then on to the next held page or the batch.
import { api, describe } from "../api.js";
import { formatNumber, t } from "../i18n.js";
import { errorState, h, messageBox, say } from "../ui.js";
import { batchStatus, label, pageImage, pageTextBlock, upload, uploadError } from "./batch_common.js";

/** @typedef {import("./batch_common.js").BatchStatus} BatchStatus */
/** @typedef {import("./batch_common.js").Finding} Finding */
/** @typedef {{ page_id: number, document_id: number, page: number, version: number, review: string | null }} Reviewed */

/** The page as the batch status knows it. @param {BatchStatus} s @param {number} pageId */
function findPage(s, pageId) {
  const findings = s.page_findings.filter((f) => f.page_id === pageId);
  const held = s.held_pages.find((p) => p.page_id === pageId);
  const first = findings[0] || held;
  if (!first) return null;
  return { documentId: first.document_id, page: first.page, code: first.reference_code,
    review: findings[0] ? findings[0].review || "ok" : "held", findings };
}

/** The next held page after this one, if any. @param {BatchStatus} s @param {number} pageId */
function nextHeld(s, pageId) {
  const others = s.held_pages.filter((p) => p.page_id !== pageId);
  return others.length ? others[0].page_id : null;
}

/** @param {Finding[]} findings */
function findingList(findings) {
  if (!findings.length) return h("p", { class: "empty" }, t("batch.no_findings"));
  return h("ul", { class: "finding-list", id: "review-findings" }, findings.map((f) =>
    h("li", { class: `severity-${f.severity}` },
      h("strong", {}, label("check", f.check)), " ", h("span", { class: "severity" }, label("severity", f.severity)), " ",
      t("batch.measured", { measured: formatNumber(Math.round(f.measured * 100) / 100),
        threshold: formatNumber(Math.round(f.threshold * 100) / 100) }))));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "review",
  catalogue: "batch",
  route: "/batches/:id/pages/:page",
  title: "batch.review_title",
  async render(root, params, ctx) {
    const batchId = Number(params.path.id);
    const pageId = Number(params.path.page);
    const back = `#/batches/${batchId}`;
    root.append(h("p", { class: "crumbs" }, h("a", { href: back, id: "back-to-batch" }, t("batch.back_to_batch", { id: batchId }))));
    /** @type {BatchStatus} */
    let s;
    try {
      s = await batchStatus(batchId);
    } catch (error) {
      root.append(errorState(describe(error)));
      return;
    }
    const found = findPage(s, pageId);
    if (!found) {
      root.append(errorState(t("batch.page_not_held", { page: pageId })));
      return;
    }
    const message = messageBox("notice", "review-message");
    const title = t("batch.review_heading", { code: found.code, page: found.page });
    ctx.setTitle(title);
    const alt = t("batch.image_alt", { code: found.code, page: found.page });
    let image = pageImage(found.documentId, found.page, "image", alt);
    const text = h("div", { id: "review-text" }, t("common.loading"));
    const showText = (/** @type {number} */ documentId, /** @type {number} */ number) =>
      void pageTextBlock(documentId, number).then((node) => text.replaceChildren(node));
    showText(found.documentId, found.page);
    const state = h("span", { id: "review-state", class: `state state-${found.review}` }, label("review", found.review));
    const next = nextHeld(s, pageId);
    const onward = h("p", { class: "onward", id: "onward", hidden: true },
      next ? h("a", { href: `#/batches/${batchId}/pages/${next}`, id: "next-held" }, t("batch.next_held")) : null, " ",
      h("a", { href: back, id: "done-to-batch" }, t("batch.back_to_batch", { id: batchId })));

    /** @param {Reviewed} page */
    const settled = (page) => {
      state.textContent = label("review", page.review || "ok");
      state.className = `state state-${page.review || "ok"}`;
      onward.hidden = false;
    };

    const note = h("input", { id: "accept-note", autocomplete: "off" });
    const accept = h("form", { class: "stack review-form", id: "accept-form" },
      h("h2", {}, t("batch.accept_heading")),
      h("label", { for: "accept-note" }, t("batch.accept_note")), note,
      h("button", { type: "submit", id: "accept" }, t("batch.accept")));
    const reason = h("textarea", { id: "reject-reason", rows: 2, required: true });
    const reject = h("form", { class: "stack review-form", id: "reject-form", novalidate: true },
      h("h2", {}, t("batch.reject_heading")),
      h("label", { for: "reject-reason" }, t("batch.reject_reason")), reason,
      h("button", { type: "submit", id: "reject" }, t("batch.reject")));
    const rescan = h("input", { id: "rescan-file", type: "file", accept: ".tif,.tiff,.png,.jpg,.jpeg", required: true });
    const bar = h("progress", { id: "rescan-progress", max: 100, value: 0, hidden: true, "aria-label": t("batch.rescan_progress") });
    const replace = h("form", { class: "stack review-form", id: "replace-form", novalidate: true },
      h("h2", {}, t("batch.replace_heading")),
      h("label", { for: "rescan-file" }, t("batch.rescan_file")), rescan, bar,
      h("button", { type: "submit", id: "replace" }, t("batch.replace")));

    /** @param {HTMLFormElement} form @param {() => Promise<Reviewed>} work @param {(page: Reviewed) => string} done */
    const answer = (form, work, done) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = /** @type {HTMLButtonElement} */ (form.querySelector("button"));
      button.disabled = true;
      try {
        const page = await work();
        say(message, done(page), "notice");
        settled(page);
        message.focus();
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        button.disabled = false;
      }
    });
    answer(accept, () => api(`/pages/${pageId}/review`, { method: "POST", body: { action: "accept", note: note.value.trim() || null } }),
      () => t("batch.accepted_page"));
    answer(reject, async () => {
      if (!reason.value.trim()) {
        reason.focus();
        throw new Error(t("batch.reason_required"));
      }
      return api(`/pages/${pageId}/review`, { method: "POST", body: { action: "reject", note: reason.value.trim() } });
    }, () => t("batch.rejected_page"));
    answer(replace, async () => {
      const file = rescan.files && rescan.files[0];
      if (!file) {
        rescan.focus();
        throw new Error(t("batch.rescan_required"));
      }
      bar.hidden = false;
      const { status, body } = await upload(`/pages/${pageId}/rescan`, "file", file, (f) => { bar.value = Math.round(f * 100); });
      if (status !== 200) throw new Error(uploadError(status, body));
      const page = /** @type {Reviewed} */ (body);
      const fresh = pageImage(page.document_id, page.page, "image", alt);
      image.replaceWith(fresh);
      image = fresh;
      showText(page.document_id, page.page);
      return page;
    }, (page) => t("batch.replaced_page", { version: page.version, review: label("review", page.review || "ok") }));
    message.tabIndex = -1;

    root.append(
      h("h1", { id: "review-heading" }, title),
      message,
      h("div", { class: "review-layout" },
        h("div", { class: "review-main" },
          h("figure", { class: "review-image" }, image, h("figcaption", {}, t("batch.page_n", { page: found.page }))),
          h("h2", {}, t("batch.page_text")), text),
        h("div", { class: "review-side" },
          h("p", {}, t("batch.review_state"), " ", state),
          h("h2", {}, t("batch.findings_heading")), findingList(found.findings),
          accept, reject, replace, onward)));
  },
};
