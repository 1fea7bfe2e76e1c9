// The shell: boot, the hash router (#/search?q=..., #/documents/12?page=3, #/signin), the header (product
// name, navigation by role, language switch, account) and the main region where one screen renders at a time.
import { api, describe, whenUnauthenticated } from "./api.js";
import { LANGUAGES, language, preferredLanguage, t, useLanguage } from "./i18n.js";
import { screens } from "./screens/index.js";
import * as session from "./session.js";
import { h } from "./ui.js";

/** @typedef {import("./types.js").Screen} Screen */
/** @typedef {import("./types.js").Params} Params */
/** @typedef {import("./types.js").Mounted} Mounted */
/** @typedef {import("./types.js").Context} Context */

const SHELL_CATALOGUES = ["common", "errors", "findings"];
const LANGUAGE_NAMES = { "zh-CN": "中文", en: "English" };

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

const root = byId("main");

/** @type {{ screen: Screen, mounted: Mounted | void, key: string } | null} */
let active = null;
/** @type {{ key: string, kind: "error" | "notice" } | null} */
let flash = null;
let pendingHash = "";
let routing = 0;

function catalogueNames() {
  return [...SHELL_CATALOGUES, ...new Set(screens.map((s) => s.catalogue || s.id))];
}

/** @param {string} pattern @param {string} path @returns {Record<string, string> | null} */
function match(pattern, path) {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  /** @type {Record<string, string>} */
  const found = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) found[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return found;
}

// While the password someone else set is unchanged, the session opens this screen only (the server refuses the
// rest with 403 password_change_required); once it is changed, the role's home or the address first asked for.
const CHANGE_PASSWORD = "account";
const CHANGE_PASSWORD_ROUTE = "/account";

/** @param {Screen} screen */
function allowed(screen) {
  if (screen.public) return true;
  if (!session.token()) return false;
  if (session.passwordChangeRequired()) return screen.id === CHANGE_PASSWORD;
  return !screen.nav || screen.nav.action === null || session.may(screen.nav.action);
}

function homeHash() {
  const first = screens.find((s) => s.nav && !s.public && allowed(s));
  return first ? `#${first.route}` : "#/account";
}

/** @param {string} hash @param {{ replace?: boolean }} [options] */
function navigate(hash, { replace = false } = {}) {
  if (hash === window.location.hash) {
    void route();
  } else if (replace) {
    history.replaceState(null, "", hash);
    void route();
  } else {
    window.location.hash = hash;
  }
}

/** @param {string} text */
function setTitle(text) {
  document.title = text ? `${text} — ${t("common.product")}` : t("common.product");
}

function renderHeader() {
  const signedIn = Boolean(session.token());
  byId("skip").textContent = t("common.skip");
  byId("product").textContent = t("common.product");
  const entries = screens.filter((s) => s.nav && !s.public && signedIn && allowed(s)).map((s) =>
    h("li", {}, h("a", { href: `#${s.route}`, "data-screen": s.id }, t(/** @type {{ label: string }} */ (s.nav).label))));
  const nav = byId("nav");
  nav.setAttribute("aria-label", t("common.navigation"));
  nav.replaceChildren(...(entries.length ? [h("ul", {}, entries)] : []));
  nav.hidden = !entries.length;
  markCurrent();

  const select = h("select", { id: "language", onchange: () => void switchLanguage(select.value) },
    LANGUAGES.map((lang) => h("option", { value: lang, lang, selected: lang === language() }, LANGUAGE_NAMES[lang])));
  byId("language-switch").replaceChildren(h("label", { for: "language", class: "visually-hidden" }, t("common.language")), select);

  const account = byId("account");
  if (signedIn) {
    const who = session.current();
    account.replaceChildren(
      h("span", { class: "signed-in-as" }, t("common.signed_in_as")), " ",
      h("a", { id: "who", href: "#/account", title: t("common.my_account") }, session.username()),
      who && who.display_name ? h("span", { class: "display-name" }, ` (${who.display_name})`) : "",
      h("button", { type: "button", id: "signout", onclick: () => void signOut("common.signed_out", "notice") }, t("common.sign_out")),
    );
  } else {
    account.replaceChildren();
  }
  account.hidden = !signedIn;
}

function markCurrent() {
  for (const link of byId("nav").querySelectorAll("a")) {
    const current = active !== null && link.dataset.screen === active.screen.id;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** @param {string} value */
async function switchLanguage(value) {
  const lang = LANGUAGES.find((l) => l === value) || "en";
  await useLanguage(lang, catalogueNames(), { remember: true });
  renderHeader();
  if (active) {
    unmount();
    await route();
  }
  const select = document.getElementById("language");
  if (select) select.focus();
}

function unmount() {
  if (active && active.mounted && active.mounted.destroy) active.mounted.destroy();
  active = null;
}

/** The hash as a path and a query: "#/documents/12?page=3" → ["/documents/12", page=3]. @returns {[string, URLSearchParams]} */
function parseHash() {
  const raw = window.location.hash.replace(/^#/, "");
  const at = raw.indexOf("?");
  const path = at < 0 ? raw : raw.slice(0, at);
  return [path || "/", new URLSearchParams(at < 0 ? "" : raw.slice(at + 1))];
}

async function route() {
  const turn = ++routing;
  const raw = window.location.hash.replace(/^#/, "");
  if (raw && !raw.startsWith("/")) { // an address of the first search page: #q=...&fonds=...
    history.replaceState(null, "", `#/search?${raw}`);
  }
  const [path, query] = parseHash();
  const found = screens.map((s) => /** @type {const} */ ([s, match(s.route, path)])).find(([, p]) => p !== null);
  if (!found || path === "/") {
    if (!session.token()) pendingHash = "";
    navigate(session.token() ? homeHash() : "#/signin", { replace: true });
    return;
  }
  const [screen, pathParams] = found;
  if (!screen.public && !session.token()) {
    pendingHash = window.location.hash;
    navigate("#/signin", { replace: true });
    return;
  }
  if (screen.public && screen.id === "signin" && session.token()) {
    navigate(homeHash(), { replace: true });
    return;
  }
  if (!screen.public && screen.id !== CHANGE_PASSWORD && session.passwordChangeRequired()) {
    pendingHash = window.location.hash; // where to go once the password is changed
    navigate(`#${CHANGE_PASSWORD_ROUTE}`, { replace: true });
    return;
  }
  /** @type {Params} */
  const params = { path: /** @type {Record<string, string>} */ (pathParams), query };
  const key = `${screen.id}:${path}`;
  if (active && active.key === key && active.mounted && active.mounted.update) {
    active.mounted.update(params);
    return;
  }
  unmount();
  setTitle(t(screen.title));
  if (!allowed(screen)) {
    root.replaceChildren(h("div", { class: "screen", "data-screen": "not-allowed" },
      h("p", { class: "error", role: "alert" }, t("common.not_allowed"))));
    return;
  }
  const region = h("div", { class: "screen", "data-screen": screen.id });
  root.replaceChildren(region);
  active = { screen, mounted: undefined, key };
  markCurrent();
  const mounted = await screen.render(region, params, context);
  if (turn === routing && active && active.screen === screen) active.mounted = mounted;
  else if (mounted && mounted.destroy) mounted.destroy();
}

async function loadMe() {
  session.remember(await api("/auth/me"));
}

/** @param {string} [messageKey] @param {"error" | "notice"} [kind] */
async function signOut(messageKey, kind = "notice") {
  try {
    if (session.token()) await api("/auth/logout", { method: "POST" });
  } catch {
    /* the token is dropped regardless */
  }
  endSession(messageKey, kind);
}

/** @param {string} [messageKey] @param {"error" | "notice"} [kind] */
function endSession(messageKey, kind = "error") {
  session.end();
  flash = messageKey ? { key: messageKey, kind } : null;
  unmount();
  renderHeader();
  navigate("#/signin", { replace: true });
}

/** @type {Context} */
const context = {
  navigate,
  setTitle,
  signOut: (messageKey) => signOut(messageKey),
  takeFlash: () => {
    const message = flash;
    flash = null;
    return message;
  },
  signedIn: async () => {
    await loadMe();
    renderHeader();
    if (session.passwordChangeRequired()) { // the address asked for waits until the password is changed
      navigate(`#${CHANGE_PASSWORD_ROUTE}`, { replace: true });
      return;
    }
    const wanted = pendingHash !== "#/signin" && pendingHash !== `#${CHANGE_PASSWORD_ROUTE}` ? pendingHash : "";
    pendingHash = "";
    navigate(wanted || homeHash(), { replace: true });
  },
};

async function boot() {
  await useLanguage(preferredLanguage(), catalogueNames());
  whenUnauthenticated(() => {
    pendingHash = window.location.hash;
    endSession("common.session_ended", "error");
  });
  if (session.token()) {
    try {
      await loadMe();
    } catch (error) {
      if (session.token()) root.replaceChildren(h("p", { class: "error", role: "alert" }, describe(error)));
    }
  }
  renderHeader();
  byId("skip").addEventListener("click", (event) => { // the hash is the router's: move focus instead
    event.preventDefault();
    root.focus();
  });
  window.addEventListener("hashchange", () => void route());
  await route();
}

void boot();
