// "Recently filed": the newest filed items the caller may see (GET /api/v1/documents/recent), each with its
// first page's thumbnail and a link to its document page. Shown on the search screen while no query is typed.
import { api, describe } from "../api.js";
import { formatDate, t } from "../i18n.js";
import { h } from "../ui.js";

const LIMIT = 8;

/**
 * @typedef {{ id: number, reference_code: string, title: string, fonds: string, date: string | null,
 *             filed_at: string | null, page_count: number, thumbnail: string | null }} Recent
 */

/**
 * The section, filled when the answer comes.
 * @param {import("../images.js").ImageLoader} loader
 * @returns {HTMLElement}
 */
export function recentSection(loader) {
  const list = h("ul", { class: "recent", id: "recent-list" });
  const section = h("section", { id: "recent", class: "recent-section", "aria-labelledby": "recent-heading" },
    h("h2", { id: "recent-heading" }, t("search.recent")), list);
  list.setAttribute("aria-busy", "true");
  api("/documents/recent", { params: { limit: LIMIT } }).then((/** @type {{ items: Recent[] }} */ answer) => {
    if (!answer.items.length) {
      list.replaceWith(h("p", { class: "empty" }, t("search.recent_none")));
      return;
    }
    list.replaceChildren(...answer.items.map((item) => {
      const img = h("img", { alt: "", width: 60, height: 80, class: "thumb" });
      if (item.thumbnail) loader.lazy(img, item.thumbnail);
      return h("li", { "data-document-id": item.id },
        h("a", { href: `#/documents/${item.id}` }, item.thumbnail ? img : null,
          h("span", { class: "recent-text" },
            h("span", { class: "ref" }, item.reference_code), " ",
            h("span", { class: "title" }, item.title || t("search.untitled")),
            h("span", { class: "recent-meta" }, [item.fonds, item.date ? formatDate(item.date) : null,
              item.filed_at ? t("search.filed_on", { date: formatDate(item.filed_at) }) : null].filter(Boolean).join(" · ")))));
    }));
  }).catch((failure) => {
    list.replaceWith(h("p", { class: "error", role: "alert" }, describe(failure)));
  }).finally(() => list.removeAttribute("aria-busy"));
  return section;
}
