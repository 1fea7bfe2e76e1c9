// The search box's type-ahead: suggestions of visible titles while typing (after a short pause), ↑/↓ to move,
// Enter (the form's submit) to pick, Esc to close, a click to pick; failures stay quiet.
import { ApiError, api } from "../api.js";
import { t } from "../i18n.js";
import { h, show } from "../ui.js";

const SUGGEST_DELAY_MS = 200;

/** @typedef {{ document_id: number, title: string | null, reference_code: string }} Suggestion */

/**
 * Wire the combobox `q` to the listbox `suggestions`; `onChoose(fill)` runs with the chosen title.
 * @param {HTMLInputElement} q
 * @param {HTMLElement} suggestions
 * @param {(fill: string) => void} onChoose
 * @returns {{ active: () => HTMLElement | null, close: () => void, choose: (option: HTMLElement) => void }}
 */
export function attachSuggestions(q, suggestions, onChoose) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let suggestTimer;
  /** @type {AbortController | null} */
  let suggestAbort = null;
  let suggestSeq = 0;

  function closeSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestAbort) suggestAbort.abort();
    suggestAbort = null;
    suggestions.replaceChildren();
    show(suggestions, false);
    q.setAttribute("aria-expanded", "false");
    q.removeAttribute("aria-activedescendant");
  }

  /** @returns {HTMLElement | null} */
  function activeSuggestion() {
    if (suggestions.hidden) return null;
    return suggestions.querySelector('[aria-selected="true"]');
  }

  /** @param {Element | null} option */
  function setActive(option) {
    for (const node of suggestions.children) node.setAttribute("aria-selected", node === option ? "true" : "false");
    if (option) {
      q.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      q.removeAttribute("aria-activedescendant");
    }
  }

  /** @param {HTMLElement} option */
  function choose(option) {
    const fill = option.dataset.fill || "";
    closeSuggestions();
    onChoose(fill);
  }

  /** @param {string} typed */
  async function fetchSuggestions(typed) {
    const seq = ++suggestSeq;
    if (suggestAbort) suggestAbort.abort();
    suggestAbort = new AbortController();
    try {
      /** @type {{ suggestions?: Suggestion[] }} */
      const answer = await api("/search/suggest", { params: { q: typed, limit: 8 }, signal: suggestAbort.signal });
      if (seq !== suggestSeq || q.value.trim() !== typed || document.activeElement !== q) return;
      renderSuggestions(answer.suggestions || [], typed);
    } catch (failure) {
      if (seq !== suggestSeq || !(failure instanceof ApiError)) return;
      closeSuggestions(); // suggestions are a convenience: failures stay quiet
      suggestions.dataset.query = typed;
    }
  }

  /** @param {Suggestion[]} list @param {string} typed */
  function renderSuggestions(list, typed) {
    const options = list.map((s, i) => {
      const option = h("li", {
        id: `suggestion-${i}`, role: "option", class: "suggestion", "aria-selected": "false",
        "data-fill": s.title || s.reference_code, "data-document-id": s.document_id,
      }, h("span", { class: "suggestion-title" }, s.title || t("search.untitled")), " ",
      h("span", { class: "suggestion-ref" }, s.reference_code));
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
      option.addEventListener("click", () => choose(option));
      return option;
    });
    suggestions.replaceChildren(...options);
    suggestions.dataset.query = typed; // what these answer (tests wait on it)
    show(suggestions, options.length > 0);
    q.setAttribute("aria-expanded", options.length ? "true" : "false");
  }

  q.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    setActive(null); // the list is for what was typed before: Enter now searches the text in the box
    const typed = q.value.trim();
    if (!typed) {
      closeSuggestions();
      return;
    }
    suggestTimer = setTimeout(() => void fetchSuggestions(typed), SUGGEST_DELAY_MS);
  });

  q.addEventListener("keydown", (event) => {
    const options = [...suggestions.children];
    if (event.key === "Escape") {
      if (!suggestions.hidden) event.preventDefault(); // the first Esc closes the list, a second clears the box
      closeSuggestions();
      return;
    }
    if (suggestions.hidden || !options.length) return;
    const index = options.indexOf(/** @type {Element} */ (activeSuggestion()));
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setActive(options[(index + 1) % options.length]);
    }
    if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive(options[(index - 1 + options.length) % options.length]);
    }
  });
  q.addEventListener("blur", () => { suggestTimer = setTimeout(closeSuggestions, 150); });
  return { active: activeSuggestion, close: closeSuggestions, choose };
}
