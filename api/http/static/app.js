// Dang'an staff search page. Plain JavaScript, no build step, no third-party code.
// Everything from the API is inserted as text, except snippet text, which the API HTML-escapes and marks up
// with <mark> only; even that passes through allowMarksOnly() before it reaches the page.
"use strict";

(() => {
  const API = "/api/v1";
  const TOKEN_KEY = "dangan.token";
  const USER_KEY = "dangan.user";
  const PAGE_SIZE = 10;
  const SUGGEST_DELAY_MS = 200;
  const FACETS = [
    // [facet name in the answer, label, query parameter]
    ["fonds", "Fonds", "fonds"],
    ["series", "Series", "series"],
    ["type", "Type", "type"],
    ["language", "Language", "language"],
    ["level", "Access level", "level"],
    ["year", "Year", "year"],
  ];
  const FACET_LABEL = Object.fromEntries(FACETS.map(([name, label]) => [name, label]));
  const MAX_FACET_VALUES = 12;

  const $ = (id) => document.getElementById(id);
  const el = {
    account: $("account"), who: $("who"), signout: $("signout"),
    signinView: $("signin-view"), signinForm: $("signin-form"), signinError: $("signin-error"),
    username: $("username"), password: $("password"), signinButton: $("signin-button"),
    searchView: $("search-view"), searchForm: $("search-form"), q: $("q"), sort: $("sort"),
    suggestions: $("suggestions"), chips: $("chips"), error: $("search-error"), facets: $("facets"),
    count: $("count"), results: $("results"), pager: $("pager"), prev: $("prev"), next: $("next"),
    pageInfo: $("page-info"),
  };

  // ---- small helpers -----------------------------------------------------------------------------------------

  /** An element with attributes and children; strings become text nodes (never HTML). */
  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Snippet markup from the API: text and <mark> only; any other element is reduced to its text. */
  function allowMarksOnly(html) {
    const template = document.createElement("template");
    template.innerHTML = html; // inert: a template's content runs no scripts and loads nothing
    const out = document.createDocumentFragment();
    for (const node of template.content.childNodes) {
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
        out.append(h("mark", {}, node.textContent));
      } else {
        out.append(document.createTextNode(node.textContent));
      }
    }
    return out;
  }

  function show(node, visible) { node.hidden = !visible; }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function errorFrom(response) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    let message = body && typeof body.message === "string" ? body.message : "";
    if (!message && body && Array.isArray(body.detail)) { // FastAPI's own validation answers
      message = body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
    return new ApiError(response.status, body && body.error, message || response.statusText || "request failed");
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  /** A call to the API with the bearer token; JSON back, or an ApiError with the API's own message. */
  async function api(path, { method = "GET", params = null, body = undefined, signal = undefined, raw = false } = {}) {
    const url = new URL(API + path, window.location.origin);
    if (params) for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
    const headers = { Accept: raw ? "*/*" : "application/json" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "network", `could not reach the server (${err.message})`);
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401 && token()) endSession("Your session has ended; please sign in again.");
      throw error;
    }
    return raw ? response : response.json();
  }

  function describe(error) {
    if (error.status === 503) return `The search index is unavailable: ${error.message}`;
    if (error.status === 400) return error.message;
    if (error.status === 0) return `Could not reach the server: ${error.message}`;
    if (error.status === 403) return `Not allowed: ${error.message}`;
    return `${error.message} (HTTP ${error.status})`;
  }

  // ---- signing in and out ------------------------------------------------------------------------------------

  function showSignedIn() {
    el.who.textContent = sessionStorage.getItem(USER_KEY) || "";
    show(el.account, true);
    show(el.signinView, false);
    show(el.searchView, true);
  }

  function showSignedOut(message, { isError = true } = {}) {
    show(el.account, false);
    show(el.searchView, false);
    show(el.signinView, true);
    el.signinError.textContent = message || "";
    el.signinError.className = isError ? "error" : "notice";
    show(el.signinError, Boolean(message));
    el.password.value = "";
    resetResults();
    el.q.value = "";
    closeSuggestions();
    el.username.focus();
  }

  function endSession(message, options = {}) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    state = freshState();
    if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
    showSignedOut(message, options);
  }

  el.signinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = el.username.value.trim();
    const password = el.password.value;
    if (!username || !password) {
      el.signinError.className = "error";
      el.signinError.textContent = "Enter your username and password.";
      show(el.signinError, true);
      return;
    }
    el.signinButton.disabled = true;
    show(el.signinError, false);
    try {
      const answer = await api("/auth/login", { method: "POST", body: { username, password } });
      sessionStorage.setItem(TOKEN_KEY, answer.token);
      sessionStorage.setItem(USER_KEY, username);
      el.password.value = "";
      showSignedIn();
      el.q.value = state.q;
      el.sort.value = state.sort;
      el.q.focus();
      if (state.q) runSearch();
    } catch (error) {
      el.signinError.className = "error";
      el.signinError.textContent = error.status === 401 ? `Sign-in failed: ${error.message}` : describe(error);
      show(el.signinError, true);
    } finally {
      el.signinButton.disabled = false;
    }
  });

  el.signout.addEventListener("click", async () => {
    try { await api("/auth/logout", { method: "POST" }); } catch (_) { /* the token is dropped regardless */ }
    endSession("You have signed out.", { isError: false });
  });

  // ---- search state: the query, sort, page and filters, mirrored in the address bar's #fragment ---------------

  function freshState() { return { q: "", sort: "relevance", page: 1, filters: {} }; }
  let state = freshState();

  function stateFromHash() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const next = freshState();
    next.q = params.get("q") || "";
    next.sort = params.get("sort") === "date" ? "date" : "relevance";
    next.page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
    for (const [, , param] of FACETS) if (params.get(param)) next.filters[param] = params.get(param);
    return next;
  }

  function hashFromState(s) {
    const params = new URLSearchParams();
    params.set("q", s.q);
    if (s.sort !== "relevance") params.set("sort", s.sort);
    if (s.page > 1) params.set("page", String(s.page));
    for (const [k, v] of Object.entries(s.filters)) params.set(k, v);
    return "#" + params.toString();
  }

  /** Change the search; the hashchange listener runs it (so Back and Forward work too). */
  function go(changes) {
    const next = { ...state, ...changes, filters: { ...(changes.filters || state.filters) } };
    const hash = hashFromState(next);
    if (hash === window.location.hash) { state = next; runSearch(); } else { window.location.hash = hash; }
  }

  window.addEventListener("hashchange", () => {
    if (!token()) return;
    state = stateFromHash();
    el.q.value = state.q;
    el.sort.value = state.sort;
    runSearch();
  });

  el.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const active = activeSuggestion();
    if (active) { choose(active); return; }
    closeSuggestions();
    const q = el.q.value.trim();
    if (!q) {
      showError("Type something to search for.");
      return;
    }
    go({ q, page: 1, sort: el.sort.value });
  });

  el.sort.addEventListener("change", () => { if (state.q) go({ sort: el.sort.value, page: 1 }); });
  el.prev.addEventListener("click", () => go({ page: Math.max(1, state.page - 1) }));
  el.next.addEventListener("click", () => go({ page: state.page + 1 }));

  function searchParams(s) {
    const params = { q: s.q, page: s.page, limit: PAGE_SIZE, sort: s.sort };
    for (const [k, v] of Object.entries(s.filters)) {
      if (k === "year") { params.date_from = `${v}-01-01`; params.date_to = `${v}-12-31`; } else { params[k] = v; }
    }
    return params;
  }

  let searchSeq = 0;
  let answers = 0;
  async function runSearch() {
    renderChips();
    if (!state.q) { resetResults(); return; }
    const seq = ++searchSeq;
    el.results.setAttribute("aria-busy", "true");
    el.count.textContent = "Searching…";
    show(el.error, false);
    try {
      const answer = await api("/search", { params: searchParams(state) });
      if (seq !== searchSeq) return; // a newer search has started
      renderAnswer(answer);
    } catch (error) {
      if (seq !== searchSeq || !token()) return;
      resetResults();
      showError(describe(error));
    } finally {
      if (seq === searchSeq) {
        el.results.removeAttribute("aria-busy");
        el.results.dataset.answers = String(++answers); // how many searches have been answered (tests wait on it)
      }
    }
  }

  function showError(message) {
    el.error.textContent = message;
    show(el.error, true);
  }

  function resetResults() {
    el.results.replaceChildren();
    el.facets.replaceChildren();
    show(el.facets, false);
    show(el.pager, false);
    show(el.error, false);
    el.count.textContent = "";
    renderChips();
  }

  // ---- rendering an answer -------------------------------------------------------------------------------------

  function renderAnswer(answer) {
    const total = answer.total;
    const exact = answer.total_is_exact;
    const docs = (n) => `${n} document${n === 1 ? "" : "s"}`;
    el.count.textContent = total === 0 && exact
      ? `No documents match “${answer.query}”.`
      : `${exact ? "" : "At least "}${docs(total)} match “${answer.query}”.`;
    el.results.replaceChildren(...answer.hits.map(renderHit));
    el.results.start = (answer.page - 1) * answer.page_size + 1;
    renderFacets(answer.facets || {});
    const pages = Math.max(1, Math.ceil(total / answer.page_size));
    const more = answer.page < pages || (!exact && answer.hits.length === answer.page_size);
    el.pageInfo.textContent = `Page ${answer.page} of ${exact ? "" : "at least "}${Math.max(pages, answer.page)}`;
    el.prev.disabled = answer.page <= 1;
    el.next.disabled = !more;
    show(el.pager, total > 0 || answer.page > 1);
  }

  function renderHit(hit) {
    const pages = hit.pages || [];
    const item = (term, value, cls) => h("div", { class: cls }, h("dt", {}, term), h("dd", {}, value));
    const meta = h("dl", { class: "meta" },
      item("Date", hit.date || "undated", "date"),
      item("Access", h("span", { class: `level level-${hit.access_level}` }, hit.access_level), "access"),
      item("Fonds", hit.fonds, "fonds"),
      item(pages.length === 1 ? "Matching page" : "Matching pages", pages.join(", ") || "—", "pages"),
    );
    const snippets = (hit.snippets || []).map((s) =>
      h("li", { class: "snippet" }, h("span", { class: "snippet-page" }, `p. ${s.page}`), " ", h("span", {}, allowMarksOnly(s.text))));
    const pdf = h("button", { type: "button", class: "pdf", "aria-label": `Open PDF of ${hit.reference_code}` }, "Open PDF");
    pdf.addEventListener("click", () => openPdf(hit, pdf));
    return h("li", { class: "hit", "data-document-id": hit.document_id },
      h("h3", {}, h("span", { class: "ref" }, hit.reference_code), " ", h("span", { class: "title" }, hit.title || "(untitled)")),
      meta,
      snippets.length ? h("ul", { class: "snippets" }, snippets) : null,
      h("div", { class: "actions" }, pdf),
    );
  }

  function renderFacets(facets) {
    const groups = [];
    for (const [name, label, param] of FACETS) {
      const values = Object.entries(facets[name] || {}).filter(([, n]) => n > 0);
      if (!values.length) continue;
      values.sort((a, b) => (name === "year" ? b[0].localeCompare(a[0]) : b[1] - a[1] || a[0].localeCompare(b[0])));
      const active = state.filters[param];
      const items = values.slice(0, MAX_FACET_VALUES).map(([value, n]) => {
        const current = active === value;
        return h("li", {},
          h("button", {
            type: "button", class: "facet-value", "aria-pressed": current ? "true" : "false",
            "data-facet": param, "data-value": value,
            onclick: () => go({ page: 1, filters: { ...state.filters, [param]: value } }),
          }, h("span", { class: "facet-name" }, value), " ", h("span", { class: "facet-count" }, String(n))));
      });
      groups.push(h("section", { class: "facet" }, h("h2", {}, label), h("ul", {}, items)));
    }
    el.facets.replaceChildren(...groups);
    show(el.facets, groups.length > 0);
  }

  function renderChips() {
    const entries = Object.entries(state.filters);
    const chips = entries.map(([param, value]) =>
      h("button", {
        type: "button", class: "chip", "data-facet": param,
        "aria-label": `Remove filter ${FACET_LABEL[param] || param}: ${value}`,
        onclick: () => {
          const filters = { ...state.filters };
          delete filters[param];
          go({ page: 1, filters });
        },
      }, `${FACET_LABEL[param] || param}: ${value}`, h("span", { class: "chip-x", "aria-hidden": "true" }, " ×")));
    if (entries.length > 1) {
      chips.push(h("button", { type: "button", class: "chip chip-clear", onclick: () => go({ page: 1, filters: {} }) }, "Clear all"));
    }
    el.chips.replaceChildren(...(entries.length ? [h("span", { class: "chips-label" }, "Filters:"), ...chips] : []));
    show(el.chips, entries.length > 0);
  }

  // ---- opening a PDF: fetched with the bearer header, shown from a blob: URL -----------------------------------

  async function openPdf(hit, button) {
    // Open the window now, while the click still counts as a user gesture, so popup blockers let it through.
    const win = window.open("", "_blank");
    if (win) { win.document.title = `${hit.reference_code} — loading…`; win.document.body.textContent = "Loading PDF…"; }
    button.disabled = true;
    try {
      const response = await api(hit.links.pdf.replace(/^\/api\/v1/, ""), { raw: true });
      const blob = new Blob([await response.blob()], { type: "application/pdf" });
      const url = URL.createObjectURL(blob);
      if (win) {
        win.location.href = url;
      } else { // popups blocked: offer it as a download instead
        const link = h("a", { href: url, download: `${hit.reference_code}.pdf` });
        document.body.append(link);
        link.click();
        link.remove();
      }
      setTimeout(() => URL.revokeObjectURL(url), 5 * 60 * 1000);
    } catch (error) {
      if (win) win.close();
      if (token()) showError(`Could not open the PDF of ${hit.reference_code}: ${describe(error)}`);
    } finally {
      button.disabled = false;
    }
  }

  // ---- type-ahead suggestions ---------------------------------------------------------------------------------

  let suggestTimer = null;
  let suggestAbort = null;
  let suggestSeq = 0;

  function closeSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestAbort) suggestAbort.abort();
    suggestAbort = null;
    el.suggestions.replaceChildren();
    show(el.suggestions, false);
    el.q.setAttribute("aria-expanded", "false");
    el.q.removeAttribute("aria-activedescendant");
  }

  function activeSuggestion() {
    if (el.suggestions.hidden) return null;
    return el.suggestions.querySelector('[aria-selected="true"]');
  }

  function setActive(option) {
    for (const node of el.suggestions.children) node.setAttribute("aria-selected", node === option ? "true" : "false");
    if (option) { el.q.setAttribute("aria-activedescendant", option.id); option.scrollIntoView({ block: "nearest" }); } else {
      el.q.removeAttribute("aria-activedescendant");
    }
  }

  function choose(option) {
    el.q.value = option.dataset.fill;
    closeSuggestions();
    go({ q: el.q.value.trim(), page: 1, sort: el.sort.value });
  }

  async function fetchSuggestions(typed) {
    const seq = ++suggestSeq;
    if (suggestAbort) suggestAbort.abort();
    suggestAbort = new AbortController();
    try {
      const answer = await api("/search/suggest", { params: { q: typed, limit: 8 }, signal: suggestAbort.signal });
      if (seq !== suggestSeq || el.q.value.trim() !== typed || document.activeElement !== el.q) return;
      renderSuggestions(answer.suggestions || [], typed);
    } catch (_) {
      if (seq !== suggestSeq) return;
      closeSuggestions(); // suggestions are a convenience: failures stay quiet
      el.suggestions.dataset.query = typed;
    }
  }

  function renderSuggestions(list, typed) {
    const options = list.map((s, i) => {
      const fill = s.title || s.reference_code;
      const option = h("li", {
        id: `suggestion-${i}`, role: "option", class: "suggestion", "aria-selected": "false", "data-fill": fill,
        "data-document-id": s.document_id,
      }, h("span", { class: "suggestion-title" }, s.title || "(untitled)"), " ", h("span", { class: "suggestion-ref" }, s.reference_code));
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
      option.addEventListener("click", () => choose(option));
      return option;
    });
    el.suggestions.replaceChildren(...options);
    el.suggestions.dataset.query = typed; // what these answer (tests wait on it)
    show(el.suggestions, options.length > 0);
    el.q.setAttribute("aria-expanded", options.length ? "true" : "false");
  }

  el.q.addEventListener("input", () => {
    clearTimeout(suggestTimer);
    setActive(null); // the list is for what was typed before: Enter now searches the text in the box
    const typed = el.q.value.trim();
    if (!typed) { closeSuggestions(); return; }
    suggestTimer = setTimeout(() => fetchSuggestions(typed), SUGGEST_DELAY_MS);
  });

  el.q.addEventListener("keydown", (event) => {
    const options = [...el.suggestions.children];
    if (event.key === "Escape") {
      if (!el.suggestions.hidden) event.preventDefault(); // the first Esc closes the list, a second clears the box
      closeSuggestions();
      return;
    }
    if (el.suggestions.hidden || !options.length) return;
    const index = options.indexOf(activeSuggestion());
    if (event.key === "ArrowDown") { event.preventDefault(); setActive(options[(index + 1) % options.length]); }
    if (event.key === "ArrowUp") { event.preventDefault(); setActive(options[(index - 1 + options.length) % options.length]); }
  });

  el.q.addEventListener("blur", () => setTimeout(closeSuggestions, 150));

  // ---- start ---------------------------------------------------------------------------------------------------

  if (token()) {
    showSignedIn();
    state = stateFromHash();
    el.q.value = state.q;
    el.sort.value = state.sort;
    if (state.q) runSearch();
  } else {
    state = stateFromHash(); // a shared link runs after sign-in
    showSignedOut("");
  }
})();
