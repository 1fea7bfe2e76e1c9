// Browsing the hierarchy: #/browse (the fonds) → #/browse/HARB (its series) → #/browse/HARB/S1 (its boxes) →
// #/browse/HARB/S1/B3?page=2 (the items, with thumbnails). Every count is of what the caller may see (the
// server counts under their clearance); "-" is the segment of "no series" / "no box". Breadcrumbs lead back up.
import { ApiError, api, describe } from "../api.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { ImageLoader } from "../images.js";
import * as session from "../session.js";
import { h, pager, table } from "../ui.js";

const PAGE_SIZE = 50;
const NONE = "-";
const LEVELS = ["fonds", "series", "box"];

/**
 * @typedef {{ key: string, label: string, count: number }} Entry
 * @typedef {{ level: string, path: string[], total: number, entries: Entry[] }} Level
 * @typedef {{ id: number, reference_code: string, title: string, date: string | null, access_level: string | null,
 *             page_count: number, thumbnail: string | null }} Item
 * @typedef {{ path: string[], total: number, offset: number, limit: number, items: Item[] }} Items
 */

/** @param {string[]} path */
function hashOf(path) {
  return `#/browse${path.map((s) => `/${encodeURIComponent(s)}`).join("")}`;
}

/** @param {string[]} path */
function apiPath(path) {
  return `/browse${path.map((s) => `/${encodeURIComponent(s)}`).join("")}`;
}

/** A segment as shown: "-" is "no series" / "no box". @param {string} key @param {number} depth 0 fonds, 1 series, 2 box */
function segmentLabel(key, depth) {
  return key === NONE ? t(depth === 1 ? "browse.no_series" : "browse.no_box") : key;
}

/** @param {Record<string, string>} path @returns {string[]} */
function segments(path) {
  return ["fonds", "series", "box"].map((name) => path[name]).filter((s) => s !== undefined);
}

/** @param {string[]} path @param {Record<number, string>} names labels of the levels known (the fonds' names) */
function breadcrumbs(path, names) {
  const crumbs = [h("li", {}, path.length ? h("a", { href: hashOf([]) }, t("browse.archive")) : h("span", { "aria-current": "page" }, t("browse.archive")))];
  path.forEach((key, depth) => {
    const label = `${t(`browse.level.${LEVELS[depth]}`)}: ${names[depth] || segmentLabel(key, depth)}`;
    const last = depth === path.length - 1;
    crumbs.push(h("li", {}, last ? h("span", { "aria-current": "page" }, label) : h("a", { href: hashOf(path.slice(0, depth + 1)) }, label)));
  });
  return h("nav", { class: "breadcrumbs", "aria-label": t("browse.breadcrumbs") }, h("ol", {}, crumbs));
}

/** @param {HTMLElement} root @param {import("../types.js").Params} params @param {import("../types.js").Context} ctx */
function render(root, params, ctx) {
  const path = segments(params.path);
  const loader = new ImageLoader();
  let seq = 0;
  const body = h("div", { id: "browse-body" });
  const heading = h("h1", { id: "browse-heading" }, t("browse.heading"));
  const view = h("section", { id: "browse-view", "aria-labelledby": "browse-heading", "data-depth": path.length },
    breadcrumbs(path, {}), heading, body);
  root.append(view);

  /** @param {URLSearchParams} query */
  async function load(query) {
    const turn = ++seq;
    const page = Math.max(1, parseInt(query.get("page") || "1", 10) || 1);
    body.setAttribute("aria-busy", "true");
    try {
      if (path.length < 3) {
        /** @type {Level} */
        const level = await api(apiPath(path));
        if (turn === seq) showLevel(level);
      } else {
        /** @type {Items} */
        const items = await api(apiPath(path), { params: { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE } });
        if (turn === seq) showItems(items, page);
      }
    } catch (failure) {
      if (turn !== seq || !session.token()) return;
      const missing = failure instanceof ApiError && failure.status === 404;
      body.replaceChildren(h("p", { class: "error", role: "alert", "data-state": missing ? "not-found" : "error" },
        missing ? t("browse.not_found") : describe(failure)));
    } finally {
      if (turn === seq) body.removeAttribute("aria-busy");
    }
  }

  /** @param {Level} level */
  function showLevel(level) {
    const depth = path.length; // 0: fonds, 1: series, 2: boxes
    heading.textContent = t(`browse.heading_${LEVELS[depth]}`);
    ctx.setTitle(path.length ? `${t("browse.title")}: ${path.map((k, d) => segmentLabel(k, d)).join(" / ")}` : t("browse.title"));
    if (depth === 0 && level.entries.length === 0) {
      body.replaceChildren(h("p", { class: "empty" }, t("browse.empty")));
      return;
    }
    const name = (/** @type {Entry} */ e) => depth === 0 && e.label && e.label !== e.key ? `${e.key} — ${e.label}` : segmentLabel(e.key, depth);
    body.replaceChildren(
      h("p", { class: "count", id: "browse-total" }, t("browse.total", { count: level.total })),
      table({
        caption: t(`browse.caption_${LEVELS[depth]}`),
        columns: [
          { key: "name", label: t(`browse.level.${LEVELS[depth]}`), cell: (e) => h("a", { href: hashOf([...path, e.key]), "data-key": e.key }, name(e)) },
          { key: "count", label: t("browse.items"), numeric: true, cell: (e) => formatNumber(e.count) },
        ],
        rows: level.entries,
      }));
  }

  /** @param {Items} answer @param {number} page */
  function showItems(answer, page) {
    heading.textContent = t("browse.heading_items");
    ctx.setTitle(`${t("browse.title")}: ${path.map((k, d) => segmentLabel(k, d)).join(" / ")}`);
    const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
    body.replaceChildren(
      h("p", { class: "count", id: "browse-total" }, t("browse.total", { count: answer.total })),
      table({
        caption: t("browse.caption_items"),
        columns: [
          { key: "thumbnail", label: t("browse.thumbnail"), cell: (item) => {
            if (!item.thumbnail) return "—";
            const img = h("img", { class: "thumb", alt: "", width: 60, height: 80 });
            loader.lazy(img, item.thumbnail);
            return img;
          } },
          { key: "reference_code", label: t("browse.reference_code"), cell: (item) =>
            h("a", { href: `#/documents/${item.id}`, "data-document-id": item.id }, item.reference_code) },
          { key: "title", label: t("browse.item_title"), cell: (item) => item.title || t("browse.untitled") },
          { key: "date", label: t("browse.date"), cell: (item) => item.date ? formatDate(item.date) : t("browse.undated") },
          { key: "level", label: t("browse.access"), cell: (item) => item.access_level ? t(`common.level.${item.access_level}`) : "—" },
          { key: "pages", label: t("browse.pages"), numeric: true, cell: (item) => formatNumber(item.page_count) },
        ],
        rows: answer.items,
        empty: t("browse.no_items"),
      }),
      answer.total > PAGE_SIZE
        ? pager({ page, pages, more: page < pages, onPage: (p) => ctx.navigate(`${hashOf(path)}?page=${Math.max(1, p)}`) })
        : "");
  }

  void load(params.query);
  return {
    /** @param {import("../types.js").Params} next */
    update(next) {
      void load(next.query);
    },
    destroy() {
      seq += 1;
      loader.dispose();
    },
  };
}

/** @type {import("../types.js").Screen} */
export const screen = { id: "browse", catalogue: "browse", route: "/browse", title: "browse.title", nav: { label: "browse.nav", action: "record.read" }, render };

/** The deeper levels: the same screen (id, texts, navigation entry) at one more path segment each. */
export const levels = ["/browse/:fonds", "/browse/:fonds/:series", "/browse/:fonds/:series/:box"].map((route) =>
  /** @type {import("../types.js").Screen} */ ({ id: "browse", catalogue: "browse", route, title: "browse.title", render }));
