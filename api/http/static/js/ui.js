// Small shared pieces of the interface. Data from the API always goes in as text: `h` makes text nodes of
// strings and never sets innerHTML; `allowMarksOnly` is the one place markup from the API (search snippets,
// already HTML-escaped by the server with <mark> only) is parsed, in an inert template, keeping <mark> alone.
import { t } from "./i18n.js";

/** @typedef {string | number | Node | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs */

/**
 * An element with attributes and children; `on<event>` attributes become listeners, strings become text nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = String(value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Snippet markup from the API: text and <mark> only; any other element is reduced to its text.
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function allowMarksOnly(html) {
  const template = document.createElement("template");
  template.innerHTML = html; // inert: a template's content runs no scripts and loads nothing
  const out = document.createDocumentFragment();
  for (const node of template.content.childNodes) {
    const text = node.textContent || "";
    out.append(node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK" ? h("mark", {}, text) : text);
  }
  return out;
}

/** @param {HTMLElement} node @param {boolean} visible */
export function show(node, visible) {
  node.hidden = !visible;
}

/**
 * A message box: `error` (role=alert) or `notice` (role=status); hidden while the text is empty.
 * @param {"error" | "notice"} kind
 * @param {string} [id]
 */
export function messageBox(kind, id) {
  const box = h("p", { class: kind, role: kind === "error" ? "alert" : "status", id });
  box.hidden = true;
  return box;
}

/** @param {HTMLElement} box @param {string} text @param {"error" | "notice"} [kind] */
export function say(box, text, kind) {
  if (kind) {
    box.className = kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
  }
  box.textContent = text;
  show(box, Boolean(text));
}

/** "Nothing here" text for an empty list. @param {string} text */
export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}

/** A failure in place of content. @param {string} text */
export function errorState(text) {
  return h("p", { class: "error", role: "alert" }, text);
}

/**
 * Marks a region busy (aria-busy, a spinner line) while `work` runs.
 * @template T
 * @param {HTMLElement} region
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(region, work) {
  region.setAttribute("aria-busy", "true");
  region.classList.add("busy");
  try {
    return await work();
  } finally {
    region.removeAttribute("aria-busy");
    region.classList.remove("busy");
  }
}

/**
 * @template R
 * @typedef {{ key: string, label: string, cell: (row: R) => Child | Child[], numeric?: boolean }} Column
 */

/**
 * A table with a caption and one header row; cells come from each column's `cell(row)`.
 * @template R
 * @param {{ caption: string, columns: Column<R>[], rows: R[], empty?: string }} spec
 * @returns {HTMLElement}
 */
export function table({ caption, columns, rows, empty }) {
  if (!rows.length) return emptyState(empty || t("common.empty"));
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)));
  const body = rows.map((row) =>
    h("tr", {}, columns.map((c) => h("td", { class: c.numeric ? "num" : null, "data-column": c.key }, c.cell(row)))),
  );
  // A wide table scrolls sideways inside its wrapper: the wrapper is a labelled region keyboard users can focus
  // and scroll (axe: scrollable-region-focusable).
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {}, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body)));
}

/**
 * Previous / page x of y / next. `exact` false: y is a lower bound (an inexact count); `more`: whether Next works.
 * @param {{ page: number, pages: number, exact?: boolean, more: boolean, label?: string,
 *           onPage: (page: number) => void }} spec
 */
export function pager({ page, pages, exact = true, more, label, onPage }) {
  const prev = h("button", { type: "button", id: "prev", onclick: () => onPage(page - 1) }, t("common.previous"));
  const next = h("button", { type: "button", id: "next", onclick: () => onPage(page + 1) }, t("common.next"));
  prev.disabled = page <= 1;
  next.disabled = !more;
  const info = t(exact ? "common.page_of" : "common.page_of_at_least", { page, pages });
  return h("nav", { class: "pager", "aria-label": label || t("common.pagination") },
    prev, h("span", { id: "page-info" }, info), next);
}
