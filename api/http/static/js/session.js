// This tab's session: the bearer token (sessionStorage, so it ends with the tab) and who the caller is
// (GET /api/v1/auth/me: roles, clearance and `may`, the actions the server's permission table allows them;
// `password_change_required` while the session may only change a password someone else set).

const TOKEN_KEY = "dangan.token";
const USER_KEY = "dangan.user";

/**
 * @typedef {{ username: string, display_name: string, roles: string[], clearance: string, departments: string[],
 *             may: string[], password_change_required: boolean }} Me
 */

/** @type {Me | null} */
let me = null;

/** @returns {string | null} */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @returns {string} */
export function username() {
  return (me && me.username) || sessionStorage.getItem(USER_KEY) || "";
}

/** @param {string} bearer @param {string} name */
export function begin(bearer, name) {
  sessionStorage.setItem(TOKEN_KEY, bearer);
  sessionStorage.setItem(USER_KEY, name);
}

/** @param {Me} who */
export function remember(who) {
  me = who;
}

/** @returns {Me | null} */
export function current() {
  return me;
}

/** Whether the caller's roles allow the action (an archive/permissions.py value), as the server said. @param {string} action */
export function may(action) {
  return Boolean(me && me.may.includes(action));
}

/** Whether this session must change its password (set by someone else) before anything else. */
export function passwordChangeRequired() {
  return Boolean(me && me.password_change_required);
}

export function end() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  me = null;
}
