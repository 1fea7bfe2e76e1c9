// My account: who I am (roles, clearance, departments) and changing my own password
// (PATCH /api/v1/users/{me} with the password alone, which every account may do). A session opened with a
// password someone else set (a new account, a reset) lands here first and may do nothing else; once the new
// password is set, it signs in with it and goes on to the role's home.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { h, messageBox, say } from "../ui.js";

const MIN_PASSWORD = 12;

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "account",
  route: "/account",
  title: "account.title",
  render(root, _params, ctx) {
    const me = session.current();
    const required = session.passwordChangeRequired();
    const facts = me
      ? h("dl", { class: "facts" },
          h("dt", {}, t("account.username")), h("dd", {}, me.username),
          h("dt", {}, t("account.display_name")), h("dd", {}, me.display_name || "—"),
          h("dt", {}, t("account.roles")), h("dd", {}, me.roles.map((r) => t(`common.role.${r}`)).join(t("common.list_separator")) || "—"),
          h("dt", {}, t("account.clearance")), h("dd", {}, t(`common.level.${me.clearance}`)),
          h("dt", {}, t("account.departments")), h("dd", {}, me.departments.join(t("common.list_separator")) || t("account.no_departments")))
      : null;
    const message = messageBox("notice", "password-message");
    const first = h("input", { id: "new-password", type: "password", autocomplete: "new-password", required: true,
      minlength: MIN_PASSWORD, "aria-describedby": "password-help" });
    const again = h("input", { id: "repeat-password", type: "password", autocomplete: "new-password", required: true });
    const button = h("button", { type: "submit" }, t("account.change"));
    const form = h("form", { id: "password-form", class: "stack", novalidate: true },
      h("h2", { id: "password-heading" }, t("account.password_heading")),
      message,
      h("label", { for: "new-password" }, t("account.new_password")), first,
      h("p", { id: "password-help", class: "help" },
        t(required ? "account.password_help_required" : "account.password_help", { count: MIN_PASSWORD })),
      h("label", { for: "repeat-password" }, t("account.repeat_password")), again,
      button);
    const explanation = required
      ? h("div", { id: "password-required", class: "notice", role: "alert" },
          h("h2", {}, t("account.required_heading")), h("p", {}, t("account.required")))
      : null;
    root.append(h("section", { class: "card account-screen", "aria-labelledby": "account-heading" },
      h("h1", { id: "account-heading" }, t("account.heading")), explanation, facts, form));
    if (required) first.focus();

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (first.value.length < MIN_PASSWORD) return say(message, t("account.too_short", { count: MIN_PASSWORD }), "error");
      if (first.value !== again.value) return say(message, t("account.mismatch"), "error");
      button.disabled = true;
      const name = session.username();
      const chosen = first.value;
      try {
        await api(`/users/${encodeURIComponent(name)}`, { method: "PATCH", body: { password: chosen } });
        first.value = "";
        again.value = "";
        session.end(); // a new password ends every session of the account, this one too
        if (required && await signInAgain(name, chosen)) return ctx.signedIn();
        await ctx.signOut("account.changed");
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        button.disabled = false;
      }
      return undefined;
    });
  },
};

/** A new session with the password just chosen; false when that fails (then one signs in by hand).
 * @param {string} username @param {string} password */
async function signInAgain(username, password) {
  try {
    /** @type {{ token: string, username: string }} */
    const answer = await api("/auth/login", { method: "POST", body: { username, password } });
    session.begin(answer.token, answer.username || username);
    return true;
  } catch {
    return false;
  }
}
