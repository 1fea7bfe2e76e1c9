// The document page (#/documents/12?page=3&q=harbour): the record's metadata, its downloads, the page
// thumbnails and a viewer with the page image beside its text, the query's terms highlighted on both (text by
// matching the terms, the image by the word boxes route's overlays). ←/→, PageUp/PageDown, Home/End turn pages.
// A record the caller may not see answers 404 like a missing one, and shows the same "not found" state.
import { ApiError, api, call, describe } from "../api.js";
import { formatDate, formatNumber, has, t } from "../i18n.js";
import { ImageLoader, download } from "../images.js";
import * as session from "../session.js";
import { emptyState, h, messageBox, say } from "../ui.js";
import { editForm } from "./document_edit.js";
import { highlighted, termsOf } from "./highlight.js";

/**
 * @typedef {{ role: string, media_type: string, size: number }} StoredFile
 * @typedef {{ id: number, reference_code: string, title: string, fonds: string, series?: string | null,
 *             box?: string | null, filed_at?: string | null, date: string | null, access_level: string | null,
 *             language: string, status: string, original_filename: string, page_count: number,
 *             departments: string[], created_at: string, metadata?: Descriptive,
 *             links: { pdf: string, original: string, text: string }, objects: StoredFile[] }} Doc
 * @typedef {{ number: number, width_px: number, height_px: number,
 *             links: { image: string, thumbnail: string, text: string } }} PageInfo
 * @typedef {{ text: string, box: number[] }} WordBox
 * @typedef {{ creator: string | null, document_number: string | null, organisation: string | null,
 *             archival_year: number | null, keywords: string[], retention: string | null,
 *             custom_fields: Record<string, string | number> }} Descriptive
 */

/**
 * 责任者, 文号, 机构, 归档年度, 关键词, 保管期限 and the series' custom fields, as facts of the record.
 * @param {Descriptive | undefined} meta
 * @param {(key: string, value: string | Node) => HTMLElement} fact
 * @param {string} none
 * @returns {HTMLElement[]}
 */
function descriptiveFacts(meta, fact, none) {
  if (!meta) return [];
  const custom = Object.entries(meta.custom_fields || {}).map(([name, value]) =>
    h("div", { class: "fact fact-custom" }, h("dt", {}, name), h("dd", {}, String(value))));
  return [
    fact("creator", meta.creator || none),
    fact("document_number", meta.document_number || none),
    fact("organisation", meta.organisation || none),
    fact("archival_year", meta.archival_year ? String(meta.archival_year) : none),
    fact("keywords", meta.keywords && meta.keywords.length ? meta.keywords.join("；") : none),
    fact("retention", meta.retention || none),
    ...custom,
  ];
}

/** @param {URLSearchParams} query */
function pageOf(query) {
  return Math.max(1, parseInt(query.get("page") || "1", 10) || 1);
}

/** @param {string} id @param {number} page @param {string} q */
export function documentHash(id, page, q) {
  const params = new URLSearchParams();
  if (page > 1) params.set("page", String(page));
  if (q) params.set("q", q);
  const query = params.toString();
  return `#/documents/${encodeURIComponent(id)}${query ? `?${query}` : ""}`;
}

/** @param {HTMLElement} root */
function notFound(root) {
  root.replaceChildren(h("section", { id: "document-view", class: "card", "data-state": "not-found", "aria-labelledby": "document-heading" },
    h("h1", { id: "document-heading" }, t("document.not_found_heading")),
    h("p", { role: "alert", class: "error" }, t("document.not_found")),
    h("p", {}, h("a", { href: "#/search" }, t("document.to_search")))));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "document",
  catalogue: "document",
  route: "/documents/:id",
  title: "document.title",
  render(root, params, ctx) {
    const id = params.path.id;
    const loader = new ImageLoader();
    let q = params.query.get("q") || "";
    let terms = termsOf(q);
    let current = pageOf(params.query);
    let turn = 0;
    /** @type {PageInfo[]} */
    let pages = [];
    /** @type {Doc | null} */
    let doc = null;
    const status = h("p", { class: "count", role: "status" }, t("common.loading"));
    root.append(status);

    const message = messageBox("error", "document-error");
    const thumbs = h("ol", { class: "thumbs", id: "thumbs" });
    const counter = h("span", { id: "viewer-page", "aria-live": "polite" });
    const prev = h("button", { type: "button", id: "page-prev", onclick: () => go(current - 1) }, t("common.previous"));
    const next = h("button", { type: "button", id: "page-next", onclick: () => go(current + 1) }, t("common.next"));
    const image = h("img", { id: "page-image", alt: "" });
    const overlay = h("div", { class: "overlay", id: "page-overlay", "aria-hidden": "true" });
    const frame = h("div", { class: "image-frame" }, image, overlay);
    const imageNote = h("p", { class: "help", id: "image-note" });
    imageNote.hidden = true;
    const matches = h("p", { class: "help", id: "match-count" });
    const text = h("div", { class: "page-text", id: "page-text", tabindex: "0", role: "region" });

    /** @param {number} page */
    function go(page) {
      if (!pages.length) return;
      const target = Math.min(Math.max(1, page), pages.length);
      if (target !== current) ctx.navigate(documentHash(id, target, q), { replace: true });
    }

    /** @param {KeyboardEvent} event */
    function onKey(event) {
      const target = /** @type {HTMLElement | null} */ (event.target instanceof HTMLElement ? event.target : null);
      if (target && target.closest("input, select, textarea, [contenteditable]")) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const moves = { ArrowLeft: current - 1, PageUp: current - 1, ArrowRight: current + 1, PageDown: current + 1,
        Home: 1, End: pages.length };
      const to = /** @type {Record<string, number>} */ (moves)[event.key];
      if (to === undefined || !pages.length) return;
      event.preventDefault();
      go(to);
    }

    async function load() {
      try {
        [doc, pages] = await Promise.all([
          api(`/documents/${encodeURIComponent(id)}`),
          api(`/documents/${encodeURIComponent(id)}/pages`).then((/** @type {{ pages: PageInfo[] }} */ r) => r.pages),
        ]);
      } catch (failure) {
        if (!session.token()) return;
        if (failure instanceof ApiError && (failure.status === 404 || failure.status === 422)) notFound(root);
        else root.replaceChildren(h("p", { class: "error", role: "alert" }, describe(failure)));
        return;
      }
      build(/** @type {Doc} */ (doc));
    }

    /** @param {Doc} record */
    function build(record) {
      ctx.setTitle(`${record.reference_code} ${record.title || ""}`.trim());
      const fact = (/** @type {string} */ key, /** @type {string | Node} */ value) =>
        h("div", { class: `fact fact-${key}` }, h("dt", {}, t(`document.${key}`)), h("dd", {}, value));
      const none = t("document.none");
      const level = record.access_level
        ? h("span", { class: `level level-${record.access_level}` }, t(`common.level.${record.access_level}`)) : none;
      const facts = h("dl", { class: "facts doc-facts", id: "doc-facts" },
        fact("reference_code", record.reference_code),
        fact("fonds", record.fonds),
        fact("series", record.series || none),
        fact("box", record.box || none),
        fact("date", record.date ? formatDate(record.date) : t("document.undated")),
        fact("level", level),
        fact("language", has(`document.lang.${record.language}`) ? t(`document.lang.${record.language}`) : record.language || none),
        fact("pages", formatNumber(record.page_count)),
        fact("filed_at", record.filed_at ? formatDate(record.filed_at) : t("document.not_filed")),
        ...descriptiveFacts(record.metadata, fact, none));
      const roles = new Set(record.objects.map((o) => o.role));
      const downloads = [];
      if (roles.has("pdfa")) {
        downloads.push(h("button", { type: "button", id: "download-pdf",
          onclick: (/** @type {Event} */ e) => void save(e, record.links.pdf, `${record.reference_code}.pdf`) }, t("document.download_pdf")));
      }
      if (roles.has("original")) {
        downloads.push(h("button", { type: "button", id: "download-original",
          onclick: (/** @type {Event} */ e) => void save(e, record.links.original, record.original_filename) }, t("document.download_original")));
      }
      const back = q ? h("p", { class: "back" }, h("a", { href: `#/search?${new URLSearchParams({ q })}` }, t("document.back_to_search"))) : null;
      const edit = session.may("record.edit") ? editForm(record, (changed) => {
        doc = changed;
        build(changed);
        say(message, t("document.saved"), "notice");
      }) : null;

      thumbs.replaceChildren(...pages.map((p) => {
        const img = h("img", { alt: "", width: 100, height: Math.round(100 * p.height_px / Math.max(1, p.width_px)) });
        loader.lazy(img, p.links.thumbnail);
        return h("li", {}, h("a", { href: documentHash(id, p.number, q), "data-page": p.number,
          "aria-label": t("document.page_n", { page: p.number }) }, img, h("span", { "aria-hidden": "true" }, formatNumber(p.number))));
      }));
      const viewer = pages.length
        ? h("section", { id: "viewer", class: "viewer", "aria-labelledby": "viewer-heading" },
            h("h2", { id: "viewer-heading" }, t("document.viewer")),
            h("nav", { class: "pager", "aria-label": t("document.page_navigation") }, prev, counter, next),
            h("p", { class: "help" }, t("document.keys")),
            matches,
            h("div", { class: "viewer-body" },
              h("figure", { class: "page-figure" }, frame, imageNote),
              text))
        : emptyState(t("document.no_pages"));
      root.replaceChildren(h("section", { id: "document-view", "data-document-id": record.id, "aria-labelledby": "document-heading" },
        back,
        h("h1", { id: "document-heading" }, h("span", { class: "ref" }, record.reference_code), " ",
          h("span", { class: "title" }, record.title || t("document.untitled"))),
        message,
        h("div", { class: "doc-top" }, facts, h("div", { class: "downloads" }, ...downloads)),
        edit,
        pages.length ? h("nav", { class: "thumbs-nav", "aria-label": t("document.pages_nav") }, thumbs) : null,
        viewer));
      if (pages.length) show(current);
    }

    /** @param {Event} event @param {string} path @param {string} filename */
    async function save(event, path, filename) {
      const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
      button.disabled = true;
      say(message, "");
      try {
        await download(path, filename);
      } catch (failure) {
        if (session.token()) say(message, t("document.download_failed", { reason: describe(failure) }));
      } finally {
        button.disabled = false;
      }
    }

    /** @param {number} wanted */
    async function show(wanted) {
      const seq = ++turn;
      current = Math.min(Math.max(1, wanted), pages.length);
      const page = pages[current - 1];
      counter.textContent = t("common.page_of", { page: current, pages: pages.length });
      prev.disabled = current <= 1;
      next.disabled = current >= pages.length;
      for (const link of thumbs.querySelectorAll("a")) {
        if (Number(link.getAttribute("data-page")) === current) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
      const label = t("document.page_n", { page: current });
      image.alt = t("document.image_of", { page: current });
      image.width = page.width_px;
      image.height = page.height_px;
      text.setAttribute("aria-label", t("document.text_of", { page: current }));
      text.dataset.page = String(current);
      overlay.replaceChildren();
      imageNote.hidden = true;
      text.replaceChildren(h("p", { class: "help" }, t("common.loading")));
      const shown = loader.load(image, page.links.image).then((ok) => {
        if (seq !== turn || ok) return;
        imageNote.textContent = t("document.image_unavailable");
        imageNote.hidden = false;
      });
      try {
        const body = await (await call(page.links.text)).text();
        if (seq !== turn) return;
        const { fragment, marks } = highlighted(body, terms);
        text.replaceChildren(body.trim() ? h("div", { class: "text-body" }, fragment) : h("p", { class: "empty" }, t("document.no_text")));
        text.dataset.marks = String(marks);
        matches.textContent = terms.length ? t("document.matches", { count: marks, page: current }) : label;
      } catch (failure) {
        if (seq === turn && session.token()) text.replaceChildren(h("p", { class: "error" }, describe(failure)));
      }
      await shown;
      if (terms.length && seq === turn) void drawBoxes(seq, page.number);
    }

    /** Word boxes of the query on the image (fractions of the page, so any rendering); nothing when the route
     * finds none. @param {number} seq @param {number} number */
    async function drawBoxes(seq, number) {
      /** @type {{ boxes?: WordBox[] }} */
      let found;
      try {
        found = await api(`/documents/${encodeURIComponent(id)}/pages/${number}/words`, { params: { q } });
      } catch {
        return; // any failure: the text keeps its highlight
      }
      if (seq !== turn) return;
      overlay.replaceChildren(...(found.boxes || []).filter((b) => Array.isArray(b.box) && b.box.length === 4).map((b) => {
        const [x0, y0, x1, y1] = b.box;
        const mark = h("div", { class: "word-box", title: b.text });
        mark.style.left = `${x0 * 100}%`;
        mark.style.top = `${y0 * 100}%`;
        mark.style.width = `${Math.max(0, x1 - x0) * 100}%`;
        mark.style.height = `${Math.max(0, y1 - y0) * 100}%`;
        return mark;
      }));
      overlay.dataset.boxes = String(overlay.childElementCount);
    }

    root.addEventListener("keydown", onKey);
    void load();
    return {
      update(next) {
        const nextQ = next.query.get("q") || "";
        if (nextQ !== q) {
          q = nextQ;
          terms = termsOf(q);
          if (doc) build(doc);
        }
        const wanted = pageOf(next.query);
        if (pages.length && wanted !== current) void show(wanted);
      },
      destroy() {
        turn += 1;
        root.removeEventListener("keydown", onKey);
        loader.dispose();
      },
    };
  },
};
