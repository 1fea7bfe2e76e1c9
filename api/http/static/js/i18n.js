// Message catalogues: api/http/static/i18n/<language>/<name>.json, one pair per screen (+ common, errors and
// findings: the sentences of graded reports' findings, archive/finding_codes.py).
// Keys are "<name>.<key>"; a value is a string with {placeholders}, or {"one": ..., "other": ...} chosen by
// Intl.PluralRules with the `count` parameter. The browser's language chooses (zh* → zh-CN, else en) until the
// header's switch overrides it (remembered in localStorage).

/** @typedef {"zh-CN" | "en"} Language */
/** @typedef {string | Record<string, string>} Message */
/** @typedef {Record<string, string | number>} Params */

/** @type {Language[]} */
export const LANGUAGES = ["zh-CN", "en"];
const STORE_KEY = "dangan.lang";

/** @type {Language} */
let current = "en";
/** @type {Map<string, Message>} */
const messages = new Map();

/** @param {unknown} value @returns {value is Language} */
function isLanguage(value) {
  return typeof value === "string" && (/** @type {string[]} */ (LANGUAGES)).includes(value);
}

/** The remembered choice, else the browser's first language. @returns {Language} */
export function preferredLanguage() {
  const stored = localStorage.getItem(STORE_KEY);
  if (isLanguage(stored)) return stored;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return browser.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

/** @returns {Language} */
export function language() {
  return current;
}

/**
 * Load the named catalogues of a language and make it the page's language (`<html lang>` too).
 * @param {Language} lang
 * @param {string[]} names
 * @param {{ remember?: boolean }} [options]
 */
export async function useLanguage(lang, names, { remember = false } = {}) {
  const loaded = await Promise.all(names.map(async (name) => {
    // Beside this module's own address: under the assets' version, so a catalogue is cached as long as the code.
    const address = new URL(`../i18n/${lang}/${name}.json`, import.meta.url);
    const response = await fetch(address, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`catalogue ${lang}/${name}.json: HTTP ${response.status}`);
    return /** @type {Record<string, Message>} */ (await response.json());
  }));
  messages.clear();
  for (const catalogue of loaded) for (const [key, value] of Object.entries(catalogue)) messages.set(key, value);
  current = lang;
  document.documentElement.lang = lang;
  if (remember) localStorage.setItem(STORE_KEY, lang);
}

/** Whether a catalogue has the key. @param {string} key */
export function has(key) {
  return messages.has(key);
}

/**
 * The message for `key` in the current language with {placeholders} filled; the key itself when missing.
 * @param {string} key
 * @param {Params} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  let message = messages.get(key);
  if (message === undefined) return key;
  if (typeof message !== "string") {
    const count = Number(params.count ?? 0);
    const rule = new Intl.PluralRules(current).select(count);
    message = message[rule] ?? message.other ?? "";
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? formatNumber(value) : value;
  });
}

/**
 * The message for `key` when the catalogue has it and every one of its {placeholders} is given; else null.
 * @param {string} key
 * @param {Params} params
 * @returns {string | null}
 */
export function filled(key, params) {
  const message = messages.get(key);
  if (message === undefined) return null;
  const texts = typeof message === "string" ? [message] : Object.values(message);
  const lacking = texts.some((text) => [...text.matchAll(/\{(\w+)\}/g)].some((found) => params[found[1]] === undefined));
  return lacking ? null : t(key, params);
}

/** @param {number} value */
export function formatNumber(value) {
  return new Intl.NumberFormat(current).format(value);
}

/**
 * A date (YYYY, YYYY-MM, YYYY-MM-DD) or a moment (ISO 8601 with a time) for the language.
 * @param {string} iso
 * @returns {string}
 */
export function formatDate(iso) {
  if (/^\d{4}$/.test(iso)) return iso;
  const parts = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(iso);
  if (parts) {
    const day = new Date(Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3] || 1)));
    /** @type {Intl.DateTimeFormatOptions} */
    const style = parts[3] ? { dateStyle: "medium", timeZone: "UTC" } : { year: "numeric", month: "long", timeZone: "UTC" };
    return new Intl.DateTimeFormat(current, style).format(day);
  }
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(moment);
}
