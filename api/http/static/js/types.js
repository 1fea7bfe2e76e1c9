// Shared JSDoc types of the web application (no code). A screen is one module under js/screens/, listed once
// in js/screens/index.js; its texts are in i18n/<language>/<catalogue>.json with keys "<catalogue>.<key>".

/**
 * @typedef {{ path: Record<string, string>, query: URLSearchParams }} Params
 *   `path`: the route pattern's `:name` parts; `query`: what follows `?` in the hash (#/documents/12?page=3).
 */

/**
 * @typedef {{ update?: (params: Params) => void, destroy?: () => void }} Mounted
 *   What a screen's render may return: `update` is called instead of a new render when only the hash's query
 *   changed on the same screen (the search keeps its box and focus); `destroy` when the screen is left.
 */

/**
 * @typedef {{
 *   navigate: (hash: string, options?: { replace?: boolean }) => void,
 *   signedIn: () => Promise<void>,
 *   signOut: (messageKey?: string) => Promise<void>,
 *   takeFlash: () => { key: string, kind: "error" | "notice" } | null,
 *   setTitle: (text: string) => void,
 * }} Context
 *   What the shell offers a screen: go to a hash, finish signing in, sign out, read (once) the message left
 *   for the sign-in screen, and set the document title (the product name is added).
 */

/**
 * @typedef {{
 *   id: string,
 *   route: string,
 *   title: string,
 *   catalogue?: string,
 *   public?: boolean,
 *   nav?: { label: string, action: string | null },
 *   render: (root: HTMLElement, params: Params, ctx: Context) => Mounted | void | Promise<Mounted | void>,
 * }} Screen
 *   `route`: "/search", "/documents/:id"; `title`, `nav.label`: catalogue keys; `catalogue`: the file stem of
 *   its texts (default: `id`); `public`: shown without signing in; `nav.action`: the archive/permissions.py
 *   Action value the caller's `may` must hold for the entry to show (null: every signed-in account).
 */

export {};
