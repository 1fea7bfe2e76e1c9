// One account (security administrator): change its roles, clearance and departments (PATCH /api/v1/users/{u}),
// disable or enable it, reset its password (POST .../password-reset: a generated one is shown once), and its
// sessions and API tokens with revoking one (GET .../tokens, DELETE .../tokens/{id}).
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { facts, when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";
import { checkedRoles, departmentList, departmentsOf, levelSelect, roleBoxes, roleNames } from "./users.js";

/**
 * @typedef {import("./users.js").User} User
 * @typedef {{ id: number, label: string, created_at: string, expires_at: string | null, active: boolean,
 *             revoked: boolean }} Session
 */

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "user",
  route: "/users/:username",
  title: "user.title",
  render(root, params, ctx) {
    const name = params.path.username;
    const path = `/users/${encodeURIComponent(name)}`;
    const manage = session.may("user.manage");
    const message = messageBox("notice", "user-message");
    const body = h("div", { id: "user-body" });
    root.append(h("section", { class: "officer", "aria-labelledby": "user-heading" },
      h("p", {}, h("a", { href: "#/users" }, t("user.back"))),
      h("h1", { id: "user-heading" }, t("user.heading", { username: name })), message, body));
    ctx.setTitle(t("user.heading", { username: name }));

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
        h("h2", { id: "edit-heading" }, t("user.edit_heading")), roles,
        h("label", { for: "edit-clearance" }, t("users.clearance")), clearance,
        h("label", { for: "edit-departments" }, t("users.departments")), departments,
        departmentList("edit-known-departments"),
        h("p", { id: "edit-departments-help", class: "help" }, t("users.departments_help")),
        h("button", { type: "submit", id: "save-user" }, t("user.save")));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        void act(async () => {
          await api(path, { method: "PATCH", body: { roles: checkedRoles(roles), clearance: clearance.value,
            departments: departmentsOf(departments.value) } });
          return t("user.saved");
        });
      });
      return form;
    };

    /** @param {User} u */
    const accessForm = (u) => {
      const toggle = h("button", { type: "button", id: "toggle-disabled", class: u.disabled ? "" : "danger" },
        u.disabled ? t("user.enable") : t("user.disable"));
      toggle.addEventListener("click", () => void act(async () => {
        await api(path, { method: "PATCH", body: { disabled: !u.disabled } });
        return u.disabled ? t("user.enabled") : t("user.disabled");
      }));
      const chosen = h("input", { id: "reset-password", type: "password", autocomplete: "new-password",
        "aria-describedby": "reset-help" });
      const reset = h("button", { type: "submit", id: "reset-button" }, t("user.reset"));
      const shown = h("p", { id: "generated-password", class: "notice", role: "status" });
      shown.hidden = true;
      const form = h("form", { id: "reset-form", class: "stack" },
        h("label", { for: "reset-password" }, t("user.reset_password")), chosen,
        h("p", { id: "reset-help", class: "help" }, t("user.reset_help")), reset, shown);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        say(message, "");
        try {
          /** @type {{ password: string | null, sessions_revoked: number }} */
          const answer = await api(`${path}/password-reset`, { method: "POST",
            body: chosen.value ? { password: chosen.value } : {} });
          chosen.value = "";
          shown.replaceChildren(answer.password
            ? h("span", {}, t("user.generated"), " ", h("code", { id: "new-password-value" }, answer.password))
            : t("user.password_set"), " ", t("user.sessions_ended", { count: answer.sessions_revoked }));
          shown.hidden = false;
          await loadTokens();
        } catch (error) {
          say(message, describe(error), "error");
        }
      });
      return h("section", { class: "card stack", id: "access-card", "aria-labelledby": "access-heading" },
        h("h2", { id: "access-heading" }, t("user.access_heading")),
        h("p", {}, u.disabled ? t("user.is_disabled") : t("user.is_enabled")), toggle, form);
    };

    const tokensBox = h("section", { class: "card", id: "tokens-card", "aria-labelledby": "tokens-heading" });
    const loadTokens = async () => {
      /** @type {{ sessions: Session[] }} */
      const answer = await api(`${path}/tokens`);
      tokensBox.replaceChildren(h("h2", { id: "tokens-heading" }, t("user.tokens_heading")), table({
        caption: t("user.tokens_caption", { username: name }), rows: answer.sessions, empty: t("user.no_tokens"),
        columns: [
          { key: "label", label: t("user.col.label"), cell: (s) => s.label },
          { key: "created", label: t("user.col.created"), cell: (s) => when(s.created_at) },
          { key: "expires", label: t("user.col.expires"), cell: (s) => when(s.expires_at) },
          { key: "state", label: t("user.col.state"), cell: (s) => s.active ? t("user.active")
            : s.revoked ? t("user.revoked") : t("user.expired") },
          { key: "revoke", label: t("user.col.action"), cell: (s) => s.active && manage
            ? h("button", { type: "button", class: "secondary revoke", "data-token": String(s.id),
                "aria-label": t("user.revoke_label", { label: s.label }),
                onclick: () => void act(async () => {
                  await api(`${path}/tokens/${s.id}`, { method: "DELETE" });
                  return t("user.revoked_one", { label: s.label });
                }) }, t("user.revoke"))
            : "—" },
        ] }));
    };

    const load = async () => {
      /** @type {{ users: User[] }} */
      const answer = await api("/users");
      const u = answer.users.find((x) => x.username === name);
      if (!u) {
        body.replaceChildren(h("p", { class: "error", role: "alert" }, t("user.missing", { username: name })));
        return;
      }
      body.replaceChildren(
        h("section", { class: "card", id: "user-facts", "aria-labelledby": "facts-heading" },
          h("h2", { id: "facts-heading" }, t("user.facts_heading")),
          facts([
            [t("users.display_name"), u.display_name || "—"],
            [t("users.roles"), h("span", { id: "user-roles" }, roleNames(u.roles))],
            [t("users.clearance"), h("span", { id: "user-clearance" }, t(`common.level.${u.clearance}`))],
            [t("users.departments"), u.departments.join(t("common.list_separator")) || "—"],
            [t("users.state"), h("span", { id: "user-state" }, u.disabled ? t("users.disabled") : t("users.enabled"))],
            [t("users.created_at"), when(u.created_at)],
          ])),
        h("div", { class: "panels" }, manage ? editForm(u) : null, manage ? accessForm(u) : null),
        tokensBox);
      await loadTokens();
    };
    void load().catch((error) => say(message, describe(error), "error"));
  },
};
