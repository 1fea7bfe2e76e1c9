// Sign-in: username and password for a bearer token (kept in sessionStorage); failures and throttling
// (429 with Retry-After) are told in the page's language.
import { ApiError, api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { h, messageBox, say } from "../ui.js";

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "signin",
  route: "/signin",
  title: "signin.title",
  public: true,
  render(root, _params, ctx) {
    const message = messageBox("error", "signin-error");
    const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
    const password = h("input", {
      id: "password", name: "password", type: "password", autocomplete: "current-password", required: true,
    });
    const button = h("button", { type: "submit", id: "signin-button" }, t("signin.submit"));
    const form = h("form", { id: "signin-form", novalidate: true },
      message,
      h("label", { for: "username" }, t("signin.username")), username,
      h("label", { for: "password" }, t("signin.password")), password,
      button);
    root.append(h("section", { id: "signin-view", class: "signin card", "aria-labelledby": "signin-heading" },
      h("h1", { id: "signin-heading" }, t("signin.heading")), form));

    const left = ctx.takeFlash();
    if (left) say(message, t(left.key), left.kind);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = username.value.trim();
      if (!name || !password.value) {
        say(message, t("signin.missing"), "error");
        return;
      }
      button.disabled = true;
      say(message, "");
      try {
        /** @type {{ token: string, username: string }} */
        const answer = await api("/auth/login", { method: "POST", body: { username: name, password: password.value } });
        password.value = "";
        session.begin(answer.token, answer.username || name);
        await ctx.signedIn();
      } catch (error) {
        say(message, failure(error), "error");
        button.disabled = false;
      }
    });
    username.focus();
  },
};

/** @param {unknown} error */
function failure(error) {
  if (error instanceof ApiError && error.status === 401) return t("signin.failed", { message: error.message });
  if (error instanceof ApiError && error.status === 429) {
    return error.retryAfter ? t("signin.throttled", { seconds: error.retryAfter }) : t("signin.throttled_now");
  }
  return describe(error);
}
