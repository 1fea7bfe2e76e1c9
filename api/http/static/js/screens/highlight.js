// The query's terms, for highlighting a page's text and its word boxes on the document page. The search's own
// syntax is dropped (AND / OR / NOT, field prefixes such as title: or ref:, brackets, a leading - or +); a
// "quoted phrase" stays one term. Matching is case-insensitive and by substring, so Chinese terms (no spaces)
// are found inside the running text.
import { h } from "../ui.js";

const OPERATORS = new Set(["and", "or", "not", "to"]);

/** @param {string} query @returns {string[]} the terms, longest first */
export function termsOf(query) {
  const terms = new Set();
  const phrase = /"([^"]+)"/g;
  for (const [, inner] of query.matchAll(phrase)) if (inner.trim()) terms.add(inner.trim());
  for (let word of query.replace(phrase, " ").split(/\s+/)) {
    word = word.replace(/^[-+]/, "").replace(/^[\p{L}_]+:/u, "").replace(/[()[\]{}"*?~^]/g, "").trim();
    if (word && !OPERATORS.has(word.toLowerCase())) terms.add(word);
  }
  return [...terms].sort((a, b) => b.length - a.length);
}

/** @param {string} text */
function escaped(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The text as text nodes with every occurrence of a term in <mark> (never markup from the text itself).
 * @param {string} text
 * @param {string[]} terms
 * @returns {{ fragment: DocumentFragment, marks: number }}
 */
export function highlighted(text, terms) {
  const fragment = document.createDocumentFragment();
  if (!terms.length) {
    fragment.append(text);
    return { fragment, marks: 0 };
  }
  const pattern = new RegExp(terms.map(escaped).join("|"), "giu");
  let at = 0;
  let marks = 0;
  for (const found of text.matchAll(pattern)) {
    const start = found.index ?? 0;
    if (start > at) fragment.append(text.slice(at, start));
    fragment.append(h("mark", {}, found[0]));
    marks += 1;
    at = start + found[0].length;
  }
  if (at < text.length) fragment.append(text.slice(at));
  return { fragment, marks };
}
