// The reference-code template (档号规则) of a fonds, for the archivist (action fonds.template): #/fonds takes a
// fonds code (the fonds of the caller's batches offered), #/fonds/W7 shows the template, what each placeholder
// means, the code it makes of an example item, a live preview of a new one (GET .../template/preview: a bad one
// answers with its problem, translated here) and the change itself (PUT /api/v1/fonds/{code}/template with a
// reason, which goes into the access log; items already numbered keep their codes).
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import { errorState, h, messageBox, say } from "../ui.js";
import { section } from "./batch_common.js";

/**
 * @typedef {{ fonds: string, series: string, box: string, year: number, retention: string, item: number }} Parts
 * @typedef {{ fonds: string, template: string, current: boolean, example: string | null, problem: string | null,
 *   unknown_fields: string[], message: string | null, parts: Parts, fields: string[] }} Preview
 * @typedef {{ fonds: string, ref_template: string, previous: string }} Change
 */

const PREVIEW_MS = 250;
const PROBLEMS = ["malformed", "unknown_field", "no_item", "unfillable"];

/** @param {string} code */
const templatePath = (code) => `/fonds/${encodeURIComponent(code)}/template`;

/** `{name}` for each name, listed in the language's way. @param {string[]} names */
const placeholders = (names) => names.map((name) => `{${name}}`).join(t("common.list_separator"));

/** A message whose `{code}` is the given element (the sentence's word order is the catalogue's).
 * @param {string} message @param {HTMLElement} code */
const withCode = (message, code) => {
  const [before, ...after] = message.split("{code}");
  return h("span", {}, before, after.length ? code : null, after.join("{code}"));
};

/** Why a template cannot be used, in the page's language (the server's sentence for a problem not known here).
 * @param {Preview} p */
export function problemText(p) {
  if (!p.problem) return "";
  if (!PROBLEMS.includes(p.problem)) return p.message || p.problem;
  return t(`fonds.problem.${p.problem}`, { names: placeholders(p.unknown_fields), fields: placeholders(p.fields),
    item: "{item}", open: "{{", close: "}}" });
}

/** @param {Preview} p */
function currentFacts(p) {
  const rows = [
    [t("fonds.template"), h("code", { id: "current-template" }, p.template)],
    [t("fonds.current_example"), p.example ? h("code", { id: "current-example" }, p.example) : problemText(p)],
    [t("fonds.example_item"), t("fonds.example_item_is", { series: p.parts.series, box: p.parts.box,
      year: String(p.parts.year), retention: p.parts.retention, item: String(p.parts.item) })],
  ];
  return h("dl", { class: "facts", id: "template-facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]).flat());
}

/** What each placeholder stands for, with its value in the example. @param {Preview} p */
function placeholderList(p) {
  const parts = /** @type {Record<string, string | number>} */ (p.parts);
  return h("div", {},
    h("dl", { class: "facts", id: "placeholder-list" }, p.fields.map((name) => [
      h("dt", {}, h("code", {}, `{${name}}`)),
      h("dd", {}, t(`fonds.placeholder.${name}`), h("span", { class: "placeholder-example" },
        withCode(t("fonds.in_example"), h("code", {}, String(parts[name]))))),
    ]).flat()),
    h("p", { class: "help", id: "format-help" }, t("fonds.format_help", { padded: "{item:04d}", open: "{{", close: "}}" })));
}

/**
 * The form that changes the template, with its live preview.
 * @param {string} code @param {Preview} now @param {HTMLElement} message @param {(change: Change) => void} changed
 * @returns {{ form: HTMLElement, stop: () => void }}
 */
function changeForm(code, now, message, changed) {
  const input = h("input", { id: "template-input", type: "text", value: now.template, autocomplete: "off",
    spellcheck: "false", maxlength: 200, "aria-describedby": "template-preview format-help" });
  const preview = h("p", { id: "template-preview", class: "preview", "aria-live": "polite" });
  const reason = h("textarea", { id: "template-reason", rows: 2, required: true, "aria-describedby": "template-help" });
  const button = h("button", { type: "submit", id: "save-template" }, t("fonds.save"));
  const form = h("form", { class: "stack", id: "template-form", novalidate: true },
    h("label", { for: "template-input" }, t("fonds.new_template")), input, preview,
    h("label", { for: "template-reason" }, t("fonds.reason")), reason,
    h("p", { class: "help", id: "template-help" }, t("fonds.reason_help")), button);
  let current = now.template;
  let turn = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  /** @param {Preview} p */
  const showPreview = (p) => {
    preview.dataset.state = p.problem ? "problem" : "ok";
    preview.replaceChildren(p.problem ? problemText(p)
      : withCode(t("fonds.preview_example"), h("code", { id: "preview-example" }, p.example || "")));
  };
  const ask = async () => {
    const mine = ++turn;
    const template = input.value;
    if (!template.trim()) {
      preview.dataset.state = "problem";
      preview.textContent = t("fonds.problem.empty");
      return;
    }
    try {
      /** @type {Preview} */
      const p = await api(`${templatePath(code)}/preview`, { params: { template } });
      if (mine === turn) showPreview(p);
    } catch (error) {
      if (mine === turn) {
        preview.dataset.state = "problem";
        preview.textContent = describe(error);
      }
    }
  };
  input.addEventListener("input", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void ask(), PREVIEW_MS);
  });
  showPreview(now);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      say(message, t("fonds.reason_required"), "error");
      reason.focus();
      return;
    }
    if (input.value === current) {
      say(message, t("fonds.unchanged"), "error");
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      /** @type {Change} */
      const change = await api(templatePath(code), { method: "PUT",
        body: { template: input.value, reason: reason.value.trim() } });
      current = change.ref_template;
      reason.value = "";
      changed(change);
    } catch (error) {
      say(message, describe(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  return { form, stop: () => { turn += 1; if (timer) clearTimeout(timer); } };
}

/** #/fonds/:code @param {HTMLElement} root @param {string} code @param {import("../types.js").Context} ctx */
function editor(root, code, ctx) {
  const message = messageBox("notice", "template-message");
  const current = h("div", {});
  const explained = h("div", {});
  const change = h("div", {});
  const problem = h("div", {});
  ctx.setTitle(t("fonds.heading_of", { fonds: code }));
  root.append(h("p", { class: "crumbs" }, h("a", { href: "#/fonds" }, t("fonds.back"))),
    h("h1", { id: "fonds-heading" }, t("fonds.heading_of", { fonds: code })),
    h("p", { class: "help intro" }, t("fonds.intro")), problem, message,
    section("current", t("fonds.current_heading"), current),
    section("placeholders", t("fonds.placeholders_heading"), explained),
    section("change", t("fonds.change_heading"), change));
  /** @type {(() => void) | null} */
  let stop = null;
  let gone = false;

  /** @param {boolean} first */
  const load = async (first) => {
    try {
      /** @type {Preview} */
      const p = await api(templatePath(code));
      if (gone) return;
      current.replaceChildren(currentFacts(p));
      if (!first) return;
      explained.replaceChildren(placeholderList(p));
      const made = changeForm(code, p, message, (done) => {
        say(message, t("fonds.changed", { previous: done.previous, template: done.ref_template }), "notice");
        void load(false);
      });
      stop = made.stop;
      change.replaceChildren(made.form);
    } catch (error) {
      if (!gone) problem.replaceChildren(errorState(describe(error)));
    }
  };
  void load(true);
  return { destroy: () => { gone = true; if (stop) stop(); } };
}

/** #/fonds: a fonds code to open, the fonds of the caller's batches offered. @param {HTMLElement} root
 * @param {import("../types.js").Context} ctx */
function chooser(root, ctx) {
  const message = messageBox("error", "fonds-choose-message");
  const input = h("input", { id: "fonds-code", type: "text", list: "known-fonds", autocomplete: "off", maxlength: 40 });
  const known = h("datalist", { id: "known-fonds" });
  const list = h("div", { id: "fonds-list" });
  const form = h("form", { class: "stack", id: "fonds-form", novalidate: true },
    h("label", { for: "fonds-code" }, t("fonds.code")), input, known,
    h("button", { type: "submit", id: "open-fonds" }, t("fonds.open")), message);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) {
      say(message, t("fonds.code_required"), "error");
      input.focus();
      return;
    }
    ctx.navigate(`#/fonds/${encodeURIComponent(code)}`);
  });
  root.append(h("h1", { id: "fonds-heading" }, t("fonds.heading")), h("p", { class: "help intro" }, t("fonds.intro")),
    section("choose", t("fonds.choose_heading"), form, list));
  void (async () => {
    try {
      /** @type {{ batches: { fonds: string }[] }} */
      const answer = await api("/batches");
      const codes = [...new Set(answer.batches.map((b) => b.fonds))].sort();
      known.replaceChildren(...codes.map((c) => h("option", { value: c })));
      list.replaceChildren(codes.length
        ? h("nav", { "aria-label": t("fonds.known") }, h("p", {}, t("fonds.known")),
          h("ul", { class: "fonds-links" }, codes.map((c) =>
            h("li", {}, h("a", { href: `#/fonds/${encodeURIComponent(c)}` }, c)))))
        : h("p", { class: "empty" }, t("fonds.none_known")));
    } catch (error) {
      list.replaceChildren(errorState(describe(error)));
    }
  })();
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "fonds",
  catalogue: "fonds",
  route: "/fonds",
  title: "fonds.title",
  nav: { label: "fonds.nav", action: "fonds.template" },
  render(root, _params, ctx) {
    chooser(root, ctx);
  },
};

/** One fonds' template: the same screen (id, texts, navigation entry) with the fonds' code. */
export const fondsTemplate = /** @type {import("../types.js").Screen} */ ({
  id: "fonds", catalogue: "fonds", route: "/fonds/:code", title: "fonds.title",
  render: (root, params, ctx) => editor(root, params.path.code, ctx),
});
