// Verifying the access log (security auditor; the system administrator may too): POST /api/v1/audit/verify
// checks the hash chain and the signed checkpoints and answers a graded report (tampering is an error, events
// no checkpoint covers yet a warning), shown with its findings; sealing a checkpoint now (audit.seal) covers them.
import { api, describe } from "../api.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { count, facts, findingsTable, gradeBadge, severitySummary, when } from "../report.js";
import { h, messageBox, say } from "../ui.js";

/**
 * @typedef {{ grade: string, exit_code: number, severity_counts: Record<string, number>, ok: boolean,
 *             events_checked: number, checkpoints_checked: number, anchor_event_id: number, last_event_id: number,
 *             sealed_through: number | null, first_bad_event_id: number | null,
 *             findings: import("../report.js").Finding[] }} Verification
 * @typedef {{ sequence: number, last_event_id: number, event_count: number, created_at: string }} Checkpoint
 */

/** @param {Verification} v */
function reportOf(v) {
  return h("section", { id: "verification-result", class: "card report", "aria-labelledby": "result-heading",
    "data-grade": v.grade },
    h("h2", { id: "result-heading" }, t("logcheck.result"), " ", gradeBadge(v.grade)),
    h("p", { class: v.ok ? "notice" : "error", role: "status" },
      v.ok ? t(`logcheck.verdict_ok_${v.grade === "clean" ? "clean" : "warnings"}`) : t("logcheck.verdict_bad",
        { event: v.first_bad_event_id ?? "—" })),
    facts([
      [t("logcheck.events_checked"), count(v.events_checked)],
      [t("logcheck.checkpoints_checked"), count(v.checkpoints_checked)],
      [t("logcheck.range"), t("logcheck.range_value", { first: v.anchor_event_id, last: v.last_event_id })],
      [t("logcheck.sealed_through"), v.sealed_through === null ? t("logcheck.never_sealed") : count(v.sealed_through)],
      [t("logcheck.first_bad"), v.first_bad_event_id === null ? "—" : count(v.first_bad_event_id)],
      [t("logcheck.summary"), severitySummary(v.severity_counts)],
    ]),
    findingsTable(v.findings, t("logcheck.findings"), "verification-findings"));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "logcheck",
  catalogue: "logcheck",
  route: "/audit/verify",
  title: "logcheck.title",
  nav: { label: "logcheck.nav", action: "audit.verify" },
  render(root) {
    const message = messageBox("error", "logcheck-message");
    const verify = h("button", { type: "button", id: "verify-log" }, t("logcheck.verify"));
    const seal = session.may("audit.seal")
      ? h("button", { type: "button", id: "seal-log", class: "secondary" }, t("logcheck.seal")) : null;
    const result = h("div", { id: "logcheck-result", "aria-live": "polite" });
    root.append(h("section", { class: "officer", "aria-labelledby": "logcheck-heading" },
      h("h1", { id: "logcheck-heading" }, t("logcheck.heading")),
      h("p", { class: "help" }, t("logcheck.intro")),
      h("div", { class: "actions" }, verify, seal),
      message, result));

    verify.addEventListener("click", async () => {
      verify.disabled = true;
      say(message, "");
      result.setAttribute("aria-busy", "true");
      try {
        /** @type {Verification} */
        const answer = await api("/audit/verify", { method: "POST" });
        result.replaceChildren(reportOf(answer));
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        verify.disabled = false;
        result.removeAttribute("aria-busy");
      }
    });
    if (seal) {
      seal.addEventListener("click", async () => {
        seal.disabled = true;
        say(message, "");
        try {
          /** @type {Checkpoint} */
          const sealed = await api("/audit/checkpoints", { method: "POST" });
          say(message, t("logcheck.sealed", { sequence: sealed.sequence, event: sealed.last_event_id,
            at: when(sealed.created_at) }), "notice");
        } catch (error) {
          say(message, describe(error), "error");
        } finally {
          seal.disabled = false;
        }
      });
    }
  },
};
