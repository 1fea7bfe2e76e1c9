// Calls to the JSON API with the bearer token of this tab's session. Every error answer has the shape
// {"error": code, "message": text}, plus {"reason": name, "params": {...}} when the server names a finer cause;
// it becomes an ApiError carrying them, which the page translates (errors.json: errors.<code>.<reason> with the
// params, else errors.<code> around the server's message). A 401 on a signed-in call ends the session.
import { has, t } from "./i18n.js";
import { token } from "./session.js";

const API = "/api/v1";

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the server could not be reached
   * @param {string} code the API's error code ("network" for no answer)
   * @param {string} message the server's own message
   * @param {number | null} [retryAfter] seconds, from Retry-After
   * @param {string | null} [reason] the finer cause within the code, e.g. "backup_target_exists"
   * @param {Record<string, string>} [params] the values the reason names, as text
   */
  constructor(status, code, message, retryAfter = null, reason = null, params = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.reason = reason;
    this.params = params;
  }
}

/** @type {(() => void) | null} */
let onUnauthenticated = null;

/** What to do when a signed-in call answers 401 (the shell ends the session and shows sign-in). @param {() => void} handler */
export function whenUnauthenticated(handler) {
  onUnauthenticated = handler;
}

/** @param {Response} response @returns {Promise<ApiError>} */
async function errorFrom(response) {
  /** @type {unknown} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const retry = Number(response.headers.get("Retry-After"));
  const seconds = Number.isFinite(retry) && retry > 0 ? retry : null;
  return errorOf(response.status, body, response.statusText || "request failed", seconds);
}

/**
 * The ApiError an error body stands for: an answer's, or one refusal of an upload or a retry (same fields).
 * @param {number} status
 * @param {unknown} body the parsed JSON: {error, message, reason?, params?}
 * @param {string} [fallback] the message when the body has none
 * @param {number | null} [retryAfter]
 * @returns {ApiError}
 */
export function errorOf(status, body, fallback = String(status), retryAfter = null) {
  const fields = /** @type {{ error?: unknown, message?: unknown, reason?: unknown, params?: unknown }} */ (
    body && typeof body === "object" ? body : {});
  const message = typeof fields.message === "string" ? fields.message : fallback;
  const code = typeof fields.error === "string" ? fields.error : "error";
  const reason = typeof fields.reason === "string" ? fields.reason : null;
  /** @type {Record<string, string>} */
  const params = {};
  if (fields.params && typeof fields.params === "object") {
    for (const [name, value] of Object.entries(fields.params)) params[name] = value === null ? "" : String(value);
  }
  return new ApiError(status, code, message, retryAfter, reason, params);
}

// Params that name a state (of a batch, document, page or job) are said in the page's words (errors.state.*).
const STATE_PARAMS = ["current", "target", "status", "state"];

/**
 * @typedef {{ method?: string, params?: Record<string, string | number | null | undefined>, body?: unknown,
 *             signal?: AbortSignal }} CallOptions
 */

/**
 * The raw response of an API call (for files); an ApiError unless 2xx.
 * @param {string} path under /api/v1, e.g. "/search"; a full "/api/v1/..." link is accepted too
 * @param {CallOptions} [options]
 * @returns {Promise<Response>}
 */
export async function call(path, { method = "GET", params, body, signal } = {}) {
  const url = new URL(path.startsWith(API + "/") ? path : API + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", err instanceof Error ? err.message : String(err));
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && bearer && onUnauthenticated) onUnauthenticated();
    throw error;
  }
  return response;
}

/**
 * A JSON API call. The type parameter says what the caller expects back (the server's typed views).
 * @template T
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<T>}
 */
export async function api(path, options) {
  const response = await call(path, options);
  return /** @type {Promise<T>} */ (response.json());
}

/**
 * What to tell the user about an error: its reason's translation with its params (errors.<code>.<reason>) when
 * the catalogue has it, else its code's translation (errors.json, with the server's message as {message}), or
 * the server's message itself.
 * @param {unknown} error
 * @returns {string}
 */
export function describe(error) {
  if (error instanceof ApiError) {
    const finer = error.reason ? `errors.${error.code}.${error.reason}` : "";
    if (finer && has(finer)) {
      /** @type {Record<string, string>} */
      const said = {};
      for (const [name, value] of Object.entries(error.params)) {
        const state = `errors.state.${value}`;
        said[name] = STATE_PARAMS.includes(name) && has(state) ? t(state) : value;
      }
      return t(finer, said);
    }
    const key = `errors.${error.code}`;
    const params = { message: error.message, status: error.status, seconds: error.retryAfter ?? "" };
    return has(key) ? t(key, params) : error.message || t("errors.error", params);
  }
  return error instanceof Error ? error.message : String(error);
}
