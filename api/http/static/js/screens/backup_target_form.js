// The backups screen's target registration: a form for a local directory (another disk) or an S3 bucket
// (another server), POST /api/v1/backups, and the two-step "remove" button of a registered target
// (DELETE /api/v1/backups/{target}; its backups stay where they are). S3 keys are never typed into the page:
// they come from the server's environment or a credentials file on the server, and the form says so.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import { h, messageBox, say, show } from "../ui.js";

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** @param {string} path */
const absolute = (path) => path.startsWith("/");

/** @param {string} name the target's name in the environment variables of its S3 keys */
export const envPrefix = (name) => `DANGAN_BACKUP_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;

/** @param {string} id @param {string} type @param {Record<string, string | boolean>} [extra] */
const input = (id, type, extra = {}) => /** @type {HTMLInputElement} */ (
  h("input", { id, type, autocomplete: "off", spellcheck: "false", ...extra }));

/**
 * @param {() => Promise<void>} onChanged called after a target was added (the screen reloads its tables)
 * @returns {HTMLFormElement}
 */
export function targetForm(onChanged) {
  const message = messageBox("notice", "target-message");
  const name = input("target-name", "text", { required: true, maxlength: "64", "aria-describedby": "target-name-help" });
  const kind = /** @type {HTMLSelectElement} */ (h("select", { id: "target-kind" },
    h("option", { value: "local" }, t("backups.kind.local")), h("option", { value: "s3" }, t("backups.kind.s3"))));
  const path = input("target-path", "text", { "aria-describedby": "target-path-help" });
  const endpoint = input("target-endpoint", "text", { placeholder: "s3.example.org:9000" });
  const bucket = input("target-bucket", "text", { maxlength: "63" });
  const region = input("target-region", "text");
  const secure = input("target-secure", "checkbox", { checked: true });
  const credentials = input("target-credentials", "text", { "aria-describedby": "target-keys-help" });
  const keysHelp = h("p", { id: "target-keys-help", class: "help" });
  const localFields = h("div", { class: "stack", id: "target-local" },
    h("label", { for: "target-path" }, t("backups.path")), path,
    h("p", { id: "target-path-help", class: "help" }, t("backups.path_help")));
  const s3Fields = h("div", { class: "stack", id: "target-s3" },
    h("label", { for: "target-endpoint" }, t("backups.endpoint")), endpoint,
    h("label", { for: "target-bucket" }, t("backups.bucket")), bucket,
    h("label", { for: "target-region" }, t("backups.region")), region,
    h("label", { class: "check" }, secure, " ", t("backups.secure")),
    h("label", { for: "target-credentials" }, t("backups.credentials_file")), credentials, keysHelp);
  const button = h("button", { type: "submit", id: "add-target" }, t("backups.add"));
  const form = /** @type {HTMLFormElement} */ (h("form", { id: "target-form", class: "card stack", novalidate: true,
    "aria-labelledby": "target-form-heading" },
    h("h3", { id: "target-form-heading" }, t("backups.add_heading")), message,
    h("label", { for: "target-name" }, t("backups.col.name")), name,
    h("p", { id: "target-name-help", class: "help" }, t("backups.name_help")),
    h("label", { for: "target-kind" }, t("backups.col.kind")), kind,
    localFields, s3Fields, button));

  const sync = () => {
    show(localFields, kind.value === "local");
    show(s3Fields, kind.value === "s3");
    const prefix = envPrefix(name.value.trim() || "name");
    keysHelp.textContent = t("backups.keys_help", { access: `${prefix}_ACCESS_KEY`, secret: `${prefix}_SECRET_KEY` });
  };
  kind.addEventListener("change", sync);
  name.addEventListener("input", sync);
  sync();

  /** The problem the server would refuse the form for, said in the page's language; null when there is none. */
  const problem = () => {
    if (!NAME.test(name.value.trim())) return t("backups.bad_name");
    if (kind.value === "local") return absolute(path.value.trim()) ? null : t("backups.need_path");
    if (!endpoint.value.trim() || !bucket.value.trim()) return t("backups.need_endpoint");
    const file = credentials.value.trim();
    return file && !absolute(file) ? t("backups.need_absolute") : null;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wrong = problem();
    if (wrong) {
      say(message, wrong, "error");
      return;
    }
    const s3 = kind.value === "s3";
    const body = s3
      ? { name: name.value.trim(), kind: "s3", endpoint: endpoint.value.trim(), bucket: bucket.value.trim(),
        region: region.value.trim() || null, secure: secure.checked, credentials_file: credentials.value.trim() || null }
      : { name: name.value.trim(), kind: "local", path: path.value.trim() };
    button.disabled = true;
    try {
      /** @type {{ name: string }} */
      const added = await api("/backups", { method: "POST", body });
      form.reset();
      sync();
      await onChanged();
      say(message, t("backups.added", { target: added.name }), "notice");
    } catch (error) {
      say(message, describe(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * A button that asks once more before it forgets a registered target.
 * @param {string} target
 * @param {(text: string, kind: "notice" | "error") => void} tell
 * @param {() => Promise<void>} onChanged
 */
export function removeButton(target, tell, onChanged) {
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "secondary remove-target",
    "data-target": target, "aria-label": t("backups.remove_on", { target }) }, t("backups.remove")));
  let armed = false;
  const disarm = () => {
    armed = false;
    button.textContent = t("backups.remove");
    button.setAttribute("aria-label", t("backups.remove_on", { target }));
    button.classList.replace("danger", "secondary");
  };
  button.addEventListener("blur", disarm);
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = t("backups.remove_confirm");
      button.setAttribute("aria-label", t("backups.remove_confirm_on", { target }));
      button.classList.replace("secondary", "danger");
      return;
    }
    button.disabled = true;
    try {
      await api(`/backups/${encodeURIComponent(target)}`, { method: "DELETE" });
      await onChanged();
      tell(t("backups.removed", { target }), "notice");
    } catch (error) {
      tell(describe(error), "error");
      button.disabled = false;
      disarm();
    }
  });
  return button;
}
