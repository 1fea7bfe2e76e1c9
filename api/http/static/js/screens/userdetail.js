// One account (security administrator): change its roles, clearance and departments (PATCH /api/v1/users/{u}),
// disable or enable it, reset its password (POST .../password-reset: a generated one is shown once; its holder
// must choose their own at the next sign-in), and its sessions and API tokens with revoking one
// (GET .../tokens, DELETE .../tokens/{id}).
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { facts, when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";
import { checkedRoles, departmentList, departmentsOf, levelSelect, roleBoxes, roleNames, separationProblem } from "./users.js";

/**
 * @typedef {import("./users.js").User} User
 * @typedef {{ id: number, label: string, created_at: string, expires_at: string | null, active: boolean,
 *             revoked: boolean }} Session
 */

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "userdetail",
  catalogue: "userdetail",
  route: "/users/:username",
  title: "userdetail.title",
  render(root, params, ctx) {
    const name = params.path.username;
    const path = `/users/${encodeURIComponent(name)}`;
    const manage = session.may("user.manage");
    const message = messageBox("notice", "user-message");
    const body = h("div", { id: "user-body" });
    const passwordState = h("span", { id: "user-password" });
    /** @param {boolean} due */
    const showPassword = (due) => {
      passwordState.textContent = due ? t("userdetail.password_due") : t("userdetail.password_own");
    };
    root.append(h("section", { class: "officer", "aria-labelledby": "user-heading" },
      h("p", {}, h("a", { href: "#/users" }, t("userdetail.back"))),
      h("h1", { id: "user-heading" }, t("userdetail.heading", { username: name })), message, body));
    ctx.setTitle(t("userdetail.heading", { username: name }));

    /** @param {() => Promise<string>} work */
    const act = async (work) => {
      say(message, "");
      try {
        const done = await work();
        await load();
        say(message, done, "notice");
      } catch (error) {
        say(message, describe(error), "error");
      }
    };

    /** @param {User} u */
    const editForm = (u) => {
      const roles = roleBoxes("edit", u.roles);
      const clearance = levelSelect("edit-clearance", u.clearance);
      const departments = h("input", { id: "edit-departments", type: "text", list: "edit-known-departments",
        value: u.departments.join(", "), autocomplete: "off", "aria-describedby": "edit-departments-help" });
      const form = h("form", { id: "edit-form", class: "card stack user-form", "aria-labelledby": "edit-heading" },
        h("h2", { id: "edit-heading" }, t("userdetail.edit_heading")), roles,
        h("label", { for: "edit-clearance" }, t("users.clearance")), clearance,
        h("label", { for: "edit-departments" }, t("users.departments")), departments,
        departmentList("edit-known-departments"),
        h("p", { id: "edit-departments-help", class: "help" }, t("users.departments_help")),
        h("button", { type: "submit", id: "save-user" }, t("userdetail.save")));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const problem = separationProblem(checkedRoles(roles));
        if (problem) return say(message, problem, "error");
        void act(async () => {
          await api(path, { method: "PATCH", body: { roles: checkedRoles(roles), clearance: clearance.value,
            departments: departmentsOf(departments.value) } });
          return t("userdetail.saved");
        });
        return undefined;
      });
      return form;
    };

    /** @param {User} u */
    const accessForm = (u) => {
      const toggle = h("button", { type: "button", id: "toggle-disabled", class: u.disabled ? "" : "danger" },
        u.disabled ? t("userdetail.enable") : t("userdetail.disable"));
      toggle.addEventListener("click", () => void act(async () => {
        await api(path, { method: "PATCH", body: { disabled: !u.disabled } });
        return u.disabled ? t("userdetail.enabled") : t("userdetail.disabled");
      }));
      const chosen = h("input", { id: "reset-password", type: "password", autocomplete: "new-password",
        "aria-describedby": "reset-help" });
      const reset = h("button", { type: "submit", id: "reset-button" }, t("userdetail.reset"));
      const shown = h("p", { id: "generated-password", class: "notice", role: "status" });
      shown.hidden = true;
      const form = h("form", { id: "reset-form", class: "stack" },
        h("label", { for: "reset-password" }, t("userdetail.reset_password")), chosen,
        h("p", { id: "reset-help", class: "help" }, t("userdetail.reset_help")), reset, shown);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        say(message, "");
        try {
          /** @type {{ password: string | null, sessions_revoked: number, password_change_required: boolean }} */
          const answer = await api(`${path}/password-reset`, { method: "POST",
            body: chosen.value ? { password: chosen.value } : {} });
          chosen.value = "";
          shown.replaceChildren(answer.password
            ? h("span", {}, t("userdetail.generated"), " ", h("code", { id: "new-password-value" }, answer.password))
            : t("userdetail.password_set"), " ", t("userdetail.sessions_ended", { count: answer.sessions_revoked }),
            answer.password_change_required ? ` ${t("userdetail.change_due")}` : "");
          showPassword(answer.password_change_required);
          shown.hidden = false;
          await loadTokens();
        } catch (error) {
          say(message, describe(error), "error");
        }
      });
      return h("section", { class: "card stack", id: "access-card", "aria-labelledby": "access-heading" },
        h("h2", { id: "access-heading" }, t("userdetail.access_heading")),
        h("p", {}, u.disabled ? t("userdetail.is_disabled") : t("userdetail.is_enabled")), toggle, form);
    };

    const tokensBox = h("section", { class: "card", id: "tokens-card", "aria-labelledby": "tokens-heading" });
    const loadTokens = async () => {
      /** @type {{ sessions: Session[] }} */
      const answer = await api(`${path}/tokens`);
      tokensBox.replaceChildren(h("h2", { id: "tokens-heading" }, t("userdetail.tokens_heading")), table({
        caption: t("userdetail.tokens_caption", { username: name }), rows: answer.sessions, empty: t("userdetail.no_tokens"),
        columns: [
          { key: "label", label: t("userdetail.col.label"), cell: (s) => s.label },
          { key: "created", label: t("userdetail.col.created"), cell: (s) => when(s.created_at) },
          { key: "expires", label: t("userdetail.col.expires"), cell: (s) => when(s.expires_at) },
          { key: "state", label: t("userdetail.col.state"), cell: (s) => s.active ? t("userdetail.active")
            : s.revoked ? t("userdetail.revoked") : t("userdetail.expired") },
          { key: "revoke", label: t("userdetail.col.action"), cell: (s) => s.active && manage
            ? h("button", { type: "button", class: "secondary revoke", "data-token": String(s.id),
                "aria-label": t("userdetail.revoke_label", { label: s.label }),
                onclick: () => void act(async () => {
                  await api(`${path}/tokens/${s.id}`, { method: "DELETE" });
                  return t("userdetail.revoked_one", { label: s.label });
                }) }, t("userdetail.revoke"))
            : "—" },
        ] }));
    };

    const load = async () => {
      /** @type {{ users: User[] }} */
      const answer = await api("/users");
      const u = answer.users.find((x) => x.username === name);
      if (!u) {
        body.replaceChildren(h("p", { class: "error", role: "alert" }, t("userdetail.missing", { username: name })));
        return;
      }
      showPassword(u.password_change_required);
      body.replaceChildren(
        h("section", { class: "card", id: "user-facts", "aria-labelledby": "facts-heading" },
          h("h2", { id: "facts-heading" }, t("userdetail.facts_heading")),
          facts([
            [t("users.display_name"), u.display_name || "—"],
            [t("users.roles"), h("span", { id: "user-roles" }, roleNames(u.roles))],
            [t("users.clearance"), h("span", { id: "user-clearance" }, t(`common.level.${u.clearance}`))],
            [t("users.departments"), u.departments.join(t("common.list_separator")) || "—"],
            [t("users.state"), h("span", { id: "user-state" }, u.disabled ? t("users.disabled") : t("users.enabled"))],
            [t("userdetail.password_state"), passwordState],
            [t("users.created_at"), when(u.created_at)],
          ])),
        h("div", { class: "panels" }, manage ? editForm(u) : null, manage ? accessForm(u) : null),
        tokensBox);
      await loadTokens();
    };
    void load().catch((error) => say(message, describe(error), "error"));
  },
};
