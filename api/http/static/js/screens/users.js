// Users (security administrator; the auditor reads the list): every account with its roles, clearance,
// departments and state (GET /api/v1/users), and creating one of any role (POST /api/v1/users). 三员分立 is
// the server's: two officer roles together, or a clearance above one's own, answer an error shown translated.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";

export const ROLES = ["archivist", "staff", "compliance", "sysadmin", "secadmin"];
export const LEVELS = ["public", "internal", "confidential", "secret", "top_secret"];
const OFFICERS = ["compliance", "sysadmin", "secadmin"];
const MIN_PASSWORD = 12;

/**
 * @typedef {{ username: string, display_name: string, roles: string[], clearance: string, departments: string[],
 *             disabled: boolean, password_change_required: boolean, created_at: string }} User
 */

/** @param {string[]} roles */
export function roleNames(roles) {
  return roles.map((r) => t(`common.role.${r}`)).join(t("common.list_separator")) || "—";
}

/** Departments typed as a comma- or 、-separated list. @param {string} text */
export function departmentsOf(text) {
  return [...new Set(text.split(/[,，、\n]/).map((d) => d.trim()).filter(Boolean))];
}

/**
 * The role checkboxes in a fieldset.
 * @param {string} prefix id prefix
 * @param {string[]} checked
 */
export function roleBoxes(prefix, checked) {
  return h("fieldset", { class: "roles", id: `${prefix}-roles` },
    h("legend", {}, t("users.roles")),
    ROLES.map((role) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "role", value: role, id: `${prefix}-role-${role}`,
        checked: checked.includes(role) }), " ", t(`common.role.${role}`))),
    h("p", { class: "help" }, t("users.roles_help")));
}

/**
 * 三员分立 said before asking (the server refuses it too): the translated problem, or "" when none.
 * @param {string[]} roles
 */
export function separationProblem(roles) {
  const officers = roles.filter((r) => OFFICERS.includes(r));
  return officers.length > 1 ? t("users.separation", { roles: roleNames(officers) }) : "";
}

/** @param {HTMLElement} box @returns {string[]} */
export function checkedRoles(box) {
  return [...box.querySelectorAll("input[name=role]:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
}

/** @param {string} id @param {string} value */
export function levelSelect(id, value) {
  return h("select", { id }, LEVELS.map((l) => h("option", { value: l, selected: l === value }, t(`common.level.${l}`))));
}

/** A datalist of the known departments (GET /departments), filled when it answers. @param {string} id */
export function departmentList(id) {
  const list = h("datalist", { id });
  api("/departments").then((/** @type {{ departments: { name: string }[] }} */ answer) => {
    list.replaceChildren(...answer.departments.map((d) => h("option", { value: d.name })));
  }).catch(() => { /* the field still takes any name */ });
  return list;
}

/** @param {() => void} onCreated */
function createForm(onCreated) {
  const message = messageBox("notice", "create-message");
  const username = h("input", { id: "new-username", type: "text", required: true, autocomplete: "off" });
  const display = h("input", { id: "new-display", type: "text", autocomplete: "off" });
  const password = h("input", { id: "new-user-password", type: "password", required: true, autocomplete: "new-password",
    minlength: MIN_PASSWORD, "aria-describedby": "new-password-help" });
  const roles = roleBoxes("new", ["staff"]);
  const clearance = levelSelect("new-clearance", "internal");
  const departments = h("input", { id: "new-departments", type: "text", list: "known-departments", autocomplete: "off",
    "aria-describedby": "new-departments-help" });
  const button = h("button", { type: "submit", id: "create-user" }, t("users.create"));
  const form = h("form", { id: "create-form", class: "card stack user-form", novalidate: true,
    "aria-labelledby": "create-heading" },
    h("h2", { id: "create-heading" }, t("users.create_heading")), message,
    h("label", { for: "new-username" }, t("users.username")), username,
    h("label", { for: "new-display" }, t("users.display_name")), display,
    h("label", { for: "new-user-password" }, t("users.password")), password,
    h("p", { id: "new-password-help", class: "help" }, t("users.password_help", { count: MIN_PASSWORD })),
    roles,
    h("label", { for: "new-clearance" }, t("users.clearance")), clearance,
    h("label", { for: "new-departments" }, t("users.departments")), departments, departmentList("known-departments"),
    h("p", { id: "new-departments-help", class: "help" }, t("users.departments_help")),
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!username.value.trim()) return say(message, t("users.need_username"), "error");
    if (password.value.length < MIN_PASSWORD) return say(message, t("users.too_short", { count: MIN_PASSWORD }), "error");
    const chosen = checkedRoles(roles);
    if (!chosen.length) return say(message, t("users.need_role"), "error");
    const problem = separationProblem(chosen);
    if (problem) return say(message, problem, "error");
    button.disabled = true;
    try {
      /** @type {User} */
      const made = await api("/users", { method: "POST", body: { username: username.value.trim(), password: password.value,
        roles: chosen, clearance: clearance.value, departments: departmentsOf(departments.value),
        display_name: display.value.trim() } });
      form.reset();
      say(message, t("users.created", { username: made.username, roles: roleNames(made.roles) }), "notice");
      onCreated();
    } catch (error) {
      say(message, describe(error), "error");
    } finally {
      button.disabled = false;
    }
    return undefined;
  });
  return form;
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "users",
  catalogue: "users",
  route: "/users",
  title: "users.title",
  nav: { label: "users.nav", action: "user.read" },
  render(root) {
    const message = messageBox("error", "users-message");
    const list = h("div", { id: "user-list" });
    const load = async () => {
      try {
        /** @type {{ users: User[] }} */
        const answer = await api("/users");
        list.replaceChildren(table({ caption: t("users.caption"), rows: answer.users, columns: [
          { key: "username", label: t("users.username"), cell: (u) => h("a", { href: `#/users/${encodeURIComponent(u.username)}`,
            class: "user-link" }, u.username) },
          { key: "display", label: t("users.display_name"), cell: (u) => u.display_name || "—" },
          { key: "roles", label: t("users.roles"), cell: (u) => roleNames(u.roles) },
          { key: "clearance", label: t("users.clearance"), cell: (u) => t(`common.level.${u.clearance}`) },
          { key: "departments", label: t("users.departments"),
            cell: (u) => u.departments.join(t("common.list_separator")) || "—" },
          { key: "state", label: t("users.state"), cell: (u) => h("span", { class: u.disabled ? "state-off" : "state-on" },
            u.disabled ? t("users.disabled") : t("users.enabled")) },
          { key: "created", label: t("users.created_at"), cell: (u) => when(u.created_at) },
        ] }));
      } catch (error) {
        say(message, describe(error), "error");
      }
    };
    root.append(h("section", { class: "officer", "aria-labelledby": "users-heading" },
      h("h1", { id: "users-heading" }, t("users.heading")), message,
      h("div", { class: "users-layout" }, list, session.may("user.manage") ? createForm(() => void load()) : null)));
    void load();
  },
};
