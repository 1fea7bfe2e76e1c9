// Acceptance sampling of a batch (#/batches/12/sample): draw the sample (≥ 5% of the pages, at least a
// minimum; the seed is recorded), then each sampled page's image and text beside its verdict buttons (pass, or
// fail with a defect type and a note), then the decision. The reviewer is never who scanned or uploaded the pages:
// the server refuses that with a translated code.
import { api, describe } from "../api.js";
import { filled, formatDate, language, t } from "../i18n.js";
import { errorState, h, messageBox, say } from "../ui.js";
import { DEFECTS, batchStatus, label, pageImage, pageTextBlock } from "./batch_common.js";

/** @typedef {import("./batch_common.js").Sample} Sample */
/** @typedef {import("./batch_common.js").SampleRow} SampleRow */
/**
 * @typedef {{ decision: string, pass_rate: number, passed: number, reviewed: number, critical: number,
 *   reasons: string[], reason_codes?: { code: string, params: Record<string, number> }[] }} Decision
 */

/** A rate as the language writes a percentage. @param {number} rate */
function percent(rate) {
  return new Intl.NumberFormat(language(), { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

/**
 * Why the batch went back, in the page's language (batch.reason.<code>: rates as percentages), else the server's.
 * @param {Decision} d
 * @returns {string[]}
 */
function reasonTexts(d) {
  const codes = d.reason_codes;
  if (!codes || codes.length !== d.reasons.length) return d.reasons;
  return codes.map(({ code, params }, n) => {
    /** @type {import("../i18n.js").Params} */
    const values = {};
    for (const [name, value] of Object.entries(params)) values[name] = name.endsWith("rate") || name === "required" ? percent(value) : value;
    return filled(`batch.reason.${code}`, values) ?? d.reasons[n];
  });
}

/** @param {number} batchId @returns {Promise<Sample | null>} the batch's latest sample */
async function latestSample(batchId) {
  /** @type {{ samples?: Sample[] }} */
  const report = await api(`/batches/${batchId}/report`);
  const samples = report.samples || [];
  return samples.length ? samples[samples.length - 1] : null;
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "sample",
  catalogue: "batch",
  route: "/batches/:id/sample",
  title: "batch.sample_title",
  async render(root, params, ctx) {
    const batchId = Number(params.path.id);
    const message = messageBox("notice", "sample-message");
    message.tabIndex = -1;
    const body = h("div", { id: "sample-body" });
    const heading = h("h1", { id: "sample-heading" }, t("batch.sample_heading", { id: batchId }));
    root.append(h("p", { class: "crumbs" }, h("a", { href: `#/batches/${batchId}`, id: "back-to-batch" },
      t("batch.back_to_batch", { id: batchId }))), heading, message, body);
    ctx.setTitle(t("batch.sample_heading", { id: batchId }));

    /** @param {unknown} error */
    const fail = (error) => { say(message, describe(error), "error"); message.focus(); };

    const drawForm = () => {
      const percent = h("input", { id: "sample-percent", type: "number", min: 5, max: 100, step: "any", value: 5 });
      const minimum = h("input", { id: "sample-minimum", type: "number", min: 1, value: 10 });
      const button = h("button", { type: "submit", id: "draw-sample" }, t("batch.draw"));
      const form = h("form", { class: "form-grid", id: "draw-form" },
        h("div", { class: "form-field" }, h("label", { for: "sample-percent" }, t("batch.sample_percent")), percent),
        h("div", { class: "form-field" }, h("label", { for: "sample-minimum" }, t("batch.sample_minimum")), minimum),
        h("div", { class: "form-actions" }, button));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        button.disabled = true;
        try {
          /** @type {Sample} */
          const sample = await api(`/batches/${batchId}/sample`, { method: "POST",
            body: { percent: Number(percent.value), minimum: Number(minimum.value) } });
          say(message, t("batch.drawn", { count: sample.pages.length, population: sample.population }), "notice");
          heading.textContent = t("batch.sample_heading_of", { id: batchId, status: label("status", "sampling") });
          showSample(sample);
        } catch (error) {
          fail(error);
        } finally {
          button.disabled = false;
        }
      });
      return h("section", { class: "card batch-section", "aria-labelledby": "draw-heading" },
        h("h2", { id: "draw-heading" }, t("batch.draw_heading")), h("p", { class: "help" }, t("batch.draw_help")), form);
    };

    /** @param {Sample} sample */
    const showSample = (sample) => {
      const tally = h("p", { id: "sample-tally", role: "status" });
      const decide = h("button", { type: "button", id: "decide" }, t("batch.decide"));
      const result = h("div", { id: "decision" });
      /** @param {Sample} now */
      const count = (now) => {
        tally.textContent = t("batch.tally", { reviewed: now.reviewed, count: now.pages.length, passed: now.passed });
        decide.disabled = now.reviewed < now.pages.length;
      };
      count(sample);
      decide.addEventListener("click", async () => {
        decide.disabled = true;
        try {
          /** @type {Decision} */
          const d = await api(`/batches/${batchId}/decision`, { method: "POST" });
          result.replaceChildren(...[h("p", { class: d.decision === "accepted" ? "notice" : "error", id: "decision-line" },
            t("batch.decided", { decision: label("status", d.decision), rate: percent(d.pass_rate),
              critical: d.critical })),
          d.reasons.length ? h("ul", { id: "decision-reasons" }, reasonTexts(d).map((r) => h("li", {}, r))) : null,
          h("p", {}, h("a", { href: `#/batches/${batchId}`, id: "to-filing" }, t("batch.to_filing")))].filter((n) => n !== null));
          result.focus();
        } catch (error) {
          fail(error);
          decide.disabled = false;
        }
      });
      result.tabIndex = -1;
      body.replaceChildren(
        h("p", { class: "help", id: "sample-facts" }, t("batch.sample_facts", { count: sample.pages.length,
          population: sample.population, seed: String(sample.seed), who: sample.drawn_by, when: formatDate(sample.drawn_at) })),
        h("ol", { class: "sample-pages", id: "sample-pages" }, sample.pages.map((row) => sampleRow(row, count))),
        h("div", { class: "decide-bar" }, tally, decide), result);
    };

    /** @param {SampleRow} row @param {(now: Sample) => void} count */
    const sampleRow = (row, count) => {
      const alt = t("batch.image_alt", { code: row.reference_code, page: row.page });
      const verdict = h("p", { class: "verdict", id: `verdict-${row.page_id}`, role: "status" });
      const show = (/** @type {SampleRow} */ r) => {
        verdict.textContent = r.verdict ? t(`batch.verdict_${r.verdict}`, { defect: label("defect", r.defect), who: r.reviewer || "" }) : t("batch.verdict_none");
        verdict.className = `verdict verdict-${r.verdict || "none"}`;
      };
      show(row);
      const defect = h("select", { id: `defect-${row.page_id}` }, DEFECTS.map((d) => h("option", { value: d }, label("defect", d))));
      const note = h("input", { id: `note-${row.page_id}`, autocomplete: "off" });
      /** @param {"pass" | "fail"} choice */
      const record = async (choice) => {
        try {
          /** @type {Sample} */
          const now = await api(`/batches/${batchId}/verdicts`, { method: "POST", body: { page_id: row.page_id, verdict: choice,
            defect: choice === "fail" ? defect.value : null, note: note.value.trim() || null } });
          const mine = now.pages.find((p) => p.page_id === row.page_id);
          if (mine) show(mine);
          count(now);
        } catch (error) {
          fail(error);
        }
      };
      const text = h("div", {}, t("common.loading"));
      void pageTextBlock(row.document_id, row.page).then((node) => text.replaceChildren(node));
      const name = t("batch.page_of_item", { code: row.reference_code, page: row.page });
      return h("li", { class: "sample-page card", "data-page-id": row.page_id, "aria-label": name },
        h("h2", {}, name, row.changed ? h("span", { class: "state state-changed" }, ` ${t("batch.changed")}`) : null),
        h("div", { class: "sample-layout" },
          pageImage(row.document_id, row.page, "image", alt),
          h("div", { class: "sample-text" }, h("h3", {}, t("batch.page_text")), text),
          h("div", { class: "sample-verdict" },
            verdict,
            h("button", { type: "button", class: "pass", id: `pass-${row.page_id}`, onclick: () => void record("pass") }, t("batch.pass")),
            h("label", { for: `defect-${row.page_id}` }, t("batch.defect")), defect,
            h("label", { for: `note-${row.page_id}` }, t("batch.note")), note,
            h("button", { type: "button", class: "fail", id: `fail-${row.page_id}`, onclick: () => void record("fail") }, t("batch.fail")))));
    };

    try {
      const [s, sample] = await Promise.all([batchStatus(batchId), latestSample(batchId)]);
      heading.textContent = t("batch.sample_heading_of", { id: batchId, status: label("status", s.status) });
      if (s.status === "sampling" && sample) showSample(sample);
      else if (["open", "returned"].includes(s.status)) body.replaceChildren(drawForm());
      else body.replaceChildren(h("p", { class: "notice" }, t("batch.sample_closed", { status: label("status", s.status) })));
    } catch (error) {
      body.replaceChildren(errorState(describe(error)));
    }
  },
};
