// Search: the query box with type-ahead suggestions (↑/↓, Enter, Esc), sort, a date range, facet filters shown
// as removable chips, hits with highlighted snippets and a PDF button, a pager. The whole search lives in the
// hash (#/search?q=...&fonds=...&from=...&page=2) so Back, Forward, reload and shared links keep it.
import { api, call, describe } from "../api.js";
import { formatDate, formatNumber, t } from "../i18n.js";
import { ImageLoader } from "../images.js";
import * as session from "../session.js";
import { allowMarksOnly, h, messageBox, pager, say, show } from "../ui.js";
import { documentHash } from "./document.js";
import { recentSection } from "./recent.js";
import { attachSuggestions } from "./search_suggest.js";

const PAGE_SIZE = 10;
const MAX_FACET_VALUES = 12;
/** [facet name in the answer, query parameter] */
const FACETS = [["fonds", "fonds"], ["series", "series"], ["type", "type"], ["language", "language"],
  ["level", "level"], ["year", "year"], ["organisation", "organisation"], ["creator", "creator"],
  ["archival_year", "archival_year"]];
const DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

/**
 * @typedef {{ q: string, sort: "relevance" | "date", page: number, from: string, to: string,
 *             filters: Record<string, string> }} State
 * @typedef {{ page: number, text: string }} Snippet
 * @typedef {{ document_id: number, reference_code: string, title: string | null, fonds: string,
 *             access_level: string, pages?: number[], date?: string | null, snippets?: Snippet[],
 *             links: { pdf: string } }} Hit
 * @typedef {{ query: string, total: number, total_is_exact: boolean, page: number, page_size: number,
 *             hits: Hit[], facets?: Record<string, Record<string, number>> }} Answer
 */

/** @param {URLSearchParams} query @returns {State} */
function stateFrom(query) {
  /** @type {Record<string, string>} */
  const filters = {};
  for (const [, param] of FACETS) {
    const value = query.get(param);
    if (value) filters[param] = value;
  }
  const date = (/** @type {string} */ name) => {
    const value = query.get(name) || "";
    return DATE.test(value) ? value : "";
  };
  return {
    q: query.get("q") || "",
    sort: query.get("sort") === "date" ? "date" : "relevance",
    page: Math.max(1, parseInt(query.get("page") || "1", 10) || 1),
    from: date("from"),
    to: date("to"),
    filters,
  };
}

/** @param {State} s */
function hashOf(s) {
  const params = new URLSearchParams();
  params.set("q", s.q);
  if (s.sort !== "relevance") params.set("sort", s.sort);
  if (s.page > 1) params.set("page", String(s.page));
  if (s.from) params.set("from", s.from);
  if (s.to) params.set("to", s.to);
  for (const [k, v] of Object.entries(s.filters)) params.set(k, v);
  return `#/search?${params}`;
}

/** The API's parameters: a year facet and the date range narrow each other. @param {State} s */
function apiParams(s) {
  /** @type {Record<string, string | number>} */
  const params = { q: s.q, page: s.page, limit: PAGE_SIZE, sort: s.sort };
  let from = s.from;
  let to = s.to;
  for (const [k, v] of Object.entries(s.filters)) {
    if (k === "archival_year") { // 归档年度: the API's `year`
      params.year = v;
      continue;
    }
    if (k !== "year") {
      params[k] = v;
      continue;
    }
    if (!from || `${v}-01-01` > from) from = `${v}-01-01`;
    if (!to || `${v}-12-31` < to) to = `${v}-12-31`;
  }
  if (from) params.date_from = from;
  if (to) params.date_to = to;
  return params;
}

/** @param {string} param */
function facetLabel(param) {
  return t(`search.facet.${param}`);
}

/** A facet value as shown: levels in the page's language, the rest as catalogued. @param {string} param @param {string} value */
function valueLabel(param, value) {
  return param === "level" ? t(`common.level.${value}`) : value;
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "search",
  route: "/search",
  title: "search.title",
  nav: { label: "search.nav", action: "record.read" },
  render(root, params, ctx) {
    let state = stateFrom(params.query);
    const q = h("input", {
      id: "q", name: "q", type: "search", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": "suggestions", "aria-describedby": "q-help", spellcheck: "false", placeholder: t("search.placeholder"),
    });
    const suggestions = h("ul", { id: "suggestions", role: "listbox", "aria-label": t("search.suggestions") });
    suggestions.hidden = true;
    const sort = h("select", { id: "sort", name: "sort" },
      h("option", { value: "relevance" }, t("search.sort_relevance")), h("option", { value: "date" }, t("search.sort_date")));
    const from = h("input", { id: "date-from", name: "from", type: "date", min: "0001-01-01", max: "9999-12-31" });
    const to = h("input", { id: "date-to", name: "to", type: "date", min: "0001-01-01", max: "9999-12-31" });
    const form = h("form", { id: "search-form", role: "search", autocomplete: "off" },
      h("label", { for: "q", class: "q-label" }, t("search.label")),
      h("div", { class: "search-row" },
        h("div", { class: "combo" }, q, suggestions),
        h("button", { type: "submit", id: "search-button" }, t("search.submit"))),
      h("div", { class: "search-options" },
        h("span", { class: "field" }, h("label", { for: "sort" }, t("search.sort")), sort),
        h("span", { class: "field" }, h("label", { for: "date-from" }, t("search.date_from")), from),
        h("span", { class: "field" }, h("label", { for: "date-to" }, t("search.date_to")), to)),
      h("p", { id: "q-help", class: "help" }, t("search.help")));
    const chips = h("div", { id: "chips", class: "chips", role: "group", "aria-label": t("search.active_filters") });
    chips.hidden = true;
    const error = messageBox("error", "search-error");
    const facets = h("aside", { id: "facets", class: "facets", "aria-label": t("search.refine") });
    facets.hidden = true;
    const count = h("p", { id: "count", class: "count", "aria-live": "polite", "aria-atomic": "true" });
    const results = h("ol", { id: "results", class: "hits" });
    const pagerSlot = h("div", { class: "pager-slot" });
    const images = new ImageLoader();
    /** @type {HTMLElement | null} */
    let recent = null;
    const recentSlot = h("div", { class: "recent-slot" });
    root.append(h("section", { id: "search-view", "aria-labelledby": "search-heading" },
      h("h1", { id: "search-heading", class: "visually-hidden" }, t("search.heading")),
      form, chips, error, recentSlot,
      h("div", { class: "layout" }, facets,
        h("section", { class: "results", "aria-label": t("search.results") }, count, results, pagerSlot))));

    /** Recently filed items while there is no query (loaded once, kept while searching). */
    function showRecent() {
      if (!state.q && !recent) {
        recent = recentSection(images);
        recentSlot.append(recent);
      }
      show(recentSlot, !state.q);
    }

    /** Change the search; the router's update() runs it (so Back and Forward work too). @param {Partial<State>} changes */
    function go(changes) {
      const next = { ...state, ...changes, filters: { ...(changes.filters || state.filters) } };
      ctx.navigate(hashOf(next));
    }

    function fillForm() {
      q.value = state.q;
      sort.value = state.sort;
      from.value = /^\d{4}-\d{2}-\d{2}$/.test(state.from) ? state.from : "";
      to.value = /^\d{4}-\d{2}-\d{2}$/.test(state.to) ? state.to : "";
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = activeSuggestion();
      if (chosen) {
        choose(chosen);
        return;
      }
      closeSuggestions();
      const typed = q.value.trim();
      if (!typed) {
        say(error, t("search.empty_query"));
        return;
      }
      if (from.value && to.value && from.value > to.value) {
        say(error, t("search.bad_range"));
        return;
      }
      go({ q: typed, page: 1, sort: sort.value === "date" ? "date" : "relevance", from: from.value, to: to.value });
    });
    sort.addEventListener("change", () => { if (state.q) go({ sort: sort.value === "date" ? "date" : "relevance", page: 1 }); });
    for (const input of [from, to]) {
      input.addEventListener("change", () => {
        if (state.q && !(from.value && to.value && from.value > to.value)) go({ from: from.value, to: to.value, page: 1 });
      });
    }

    let searchSeq = 0;
    let answers = 0;
    async function runSearch() {
      renderChips();
      showRecent();
      if (!state.q) {
        resetResults();
        return;
      }
      const seq = ++searchSeq;
      results.setAttribute("aria-busy", "true");
      count.textContent = t("search.searching");
      say(error, "");
      try {
        /** @type {Answer} */
        const answer = await api("/search", { params: apiParams(state) });
        if (seq !== searchSeq) return; // a newer search has started
        renderAnswer(answer);
      } catch (failure) {
        if (seq !== searchSeq || !session.token()) return;
        resetResults();
        say(error, describe(failure));
      } finally {
        if (seq === searchSeq) {
          results.removeAttribute("aria-busy");
          results.dataset.answers = String(++answers); // how many searches have been answered (tests wait on it)
        }
      }
    }

    function resetResults() {
      results.replaceChildren();
      facets.replaceChildren();
      show(facets, false);
      pagerSlot.replaceChildren();
      say(error, "");
      count.textContent = "";
      renderChips();
    }

    /** @param {Answer} answer */
    function renderAnswer(answer) {
      const { total, total_is_exact: exact } = answer;
      count.textContent = total === 0 && exact
        ? t("search.none", { query: answer.query })
        : t(exact ? "search.count" : "search.count_at_least", { count: total, query: answer.query });
      results.replaceChildren(...answer.hits.map(renderHit));
      results.start = (answer.page - 1) * answer.page_size + 1;
      renderFacets(answer.facets || {});
      const pages = Math.max(1, Math.ceil(total / answer.page_size), answer.page);
      const more = answer.page < pages || (!exact && answer.hits.length === answer.page_size);
      pagerSlot.replaceChildren(...(total > 0 || answer.page > 1
        ? [pager({ page: answer.page, pages, exact, more, onPage: (page) => go({ page: Math.max(1, page) }) })]
        : []));
    }

    /** @param {Hit} hit */
    function renderHit(hit) {
      const pages = hit.pages || [];
      const item = (/** @type {string} */ term, /** @type {string | Node} */ value, /** @type {string} */ cls) =>
        h("div", { class: cls }, h("dt", {}, term), h("dd", {}, value));
      const meta = h("dl", { class: "meta" },
        item(t("search.date"), hit.date ? formatDate(hit.date) : t("search.undated"), "date"),
        item(t("search.access"), h("span", { class: `level level-${hit.access_level}`, "data-level": hit.access_level },
          t(`common.level.${hit.access_level}`)), "access"),
        item(t("search.fonds"), hit.fonds, "fonds"),
        item(t("search.matching_pages", { count: pages.length }), pages.join(", ") || "—", "pages"));
      const snippets = (hit.snippets || []).map((s) => h("li", { class: "snippet" },
        h("a", { class: "snippet-page", href: documentHash(String(hit.document_id), s.page, state.q) },
          t("search.page_short", { page: s.page })), " ",
        h("span", {}, allowMarksOnly(s.text))));
      const pdf = h("button", { type: "button", class: "pdf", "aria-label": t("search.open_pdf_of", { ref: hit.reference_code }) },
        t("search.open_pdf"));
      pdf.addEventListener("click", () => void openPdf(hit, pdf));
      return h("li", { class: "hit", "data-document-id": hit.document_id },
        h("h2", {}, h("a", { href: documentHash(String(hit.document_id), pages[0] || 1, state.q), class: "doc-link" },
          h("span", { class: "ref" }, hit.reference_code), " ", h("span", { class: "title" }, hit.title || t("search.untitled")))),
        meta,
        snippets.length ? h("ul", { class: "snippets" }, snippets) : null,
        h("div", { class: "actions" }, pdf));
    }

    /** @param {Record<string, Record<string, number>>} answered */
    function renderFacets(answered) {
      const groups = [];
      for (const [name, param] of FACETS) {
        const values = Object.entries(answered[name] || {}).filter(([, n]) => n > 0);
        if (!values.length) continue;
        values.sort((a, b) => (name === "year" || name === "archival_year" ? b[0].localeCompare(a[0]) : b[1] - a[1] || a[0].localeCompare(b[0])));
        const chosen = state.filters[param];
        const items = values.slice(0, MAX_FACET_VALUES).map(([value, n]) => h("li", {},
          h("button", {
            type: "button", class: "facet-value", "aria-pressed": chosen === value ? "true" : "false",
            "data-facet": param, "data-value": value,
            onclick: () => go({ page: 1, filters: { ...state.filters, [param]: value } }),
          }, h("span", { class: "facet-name" }, valueLabel(param, value)), " ", h("span", { class: "facet-count" }, formatNumber(n)))));
        groups.push(h("section", { class: "facet" }, h("h2", {}, facetLabel(param)), h("ul", {}, items)));
      }
      facets.replaceChildren(...groups);
      show(facets, groups.length > 0);
    }

    function renderChips() {
      /** @type {[string, string, Partial<State>][]} */
      const entries = Object.entries(state.filters).map(([param, value]) => {
        const filters = { ...state.filters };
        delete filters[param];
        return /** @type {[string, string, Partial<State>]} */ ([facetLabel(param), valueLabel(param, value), { page: 1, filters }]);
      });
      if (state.from) entries.push([t("search.date_from"), formatDate(state.from), { page: 1, from: "" }]);
      if (state.to) entries.push([t("search.date_to"), formatDate(state.to), { page: 1, to: "" }]);
      const buttons = entries.map(([label, value, change]) => h("button", {
        type: "button", class: "chip", "aria-label": t("search.remove_filter", { label, value }), onclick: () => go(change),
      }, `${label}: ${value}`, h("span", { class: "chip-x", "aria-hidden": "true" }, " ×")));
      if (entries.length > 1) {
        buttons.push(h("button", { type: "button", class: "chip chip-clear", onclick: () => go({ page: 1, filters: {}, from: "", to: "" }) },
          t("search.clear_all")));
      }
      chips.replaceChildren(...(entries.length ? [h("span", { class: "chips-label" }, t("search.filters")), ...buttons] : []));
      show(chips, entries.length > 0);
    }

    /** Fetched with the bearer header, shown from a blob: URL. @param {Hit} hit @param {HTMLButtonElement} button */
    async function openPdf(hit, button) {
      // Open the window now, while the click still counts as a user gesture, so popup blockers let it through.
      const win = window.open("", "_blank");
      if (win) {
        win.document.title = t("search.pdf_loading_title", { ref: hit.reference_code });
        win.document.body.textContent = t("search.pdf_loading");
      }
      button.disabled = true;
      try {
        const response = await call(hit.links.pdf);
        const url = URL.createObjectURL(new Blob([await response.blob()], { type: "application/pdf" }));
        if (win) {
          win.location.href = url;
        } else { // popups blocked: offer it as a download instead
          const link = h("a", { href: url, download: `${hit.reference_code}.pdf` });
          document.body.append(link);
          link.click();
          link.remove();
        }
        setTimeout(() => URL.revokeObjectURL(url), 5 * 60 * 1000);
      } catch (failure) {
        if (win) win.close();
        if (session.token()) say(error, t("search.pdf_failed", { ref: hit.reference_code, reason: describe(failure) }));
      } finally {
        button.disabled = false;
      }
    }

    const typeahead = attachSuggestions(q, suggestions, (fill) => {
      q.value = fill;
      go({ q: fill.trim(), page: 1, sort: sort.value === "date" ? "date" : "relevance" });
    });
    const activeSuggestion = typeahead.active;
    const closeSuggestions = typeahead.close;
    /** @param {HTMLElement} option */
    const choose = (option) => typeahead.choose(option);

    fillForm();
    q.focus();
    void runSearch();
    return {
      update(next) {
        state = stateFrom(next.query);
        fillForm();
        void runSearch();
      },
      destroy() {
        closeSuggestions();
        images.dispose();
        searchSeq += 1;
      },
    };
  },
};
