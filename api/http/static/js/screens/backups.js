// Backups (system administrator): the targets (registering and removing them: backup_target_form.js), running
// a backup or a restore drill on one, verifying what a target holds, and the runs and drills with their graded
// results (GET /api/v1/backups, /backups/runs, /backups/drills; POST /backups/{target}/run,
// /backups/{target}/drill, /verify with level "backup").
import { api, describe } from "../api.js";
import { formatNumber, has, t } from "../i18n.js";
import * as session from "../session.js";
import { count, facts, findingsTable, formatBytes, formatSeconds, gradeBadge, severitySummary, when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";
import { removeButton, targetForm } from "./backup_target_form.js";

/**
 * @typedef {{ name: string, kind: string, source: string, path: string | null, endpoint: string | null,
 *             bucket: string | null }} Target
 * @typedef {import("../report.js").Finding} Finding
 * @typedef {{ id: number, target: string, status: string, grade: string | null, severity_counts: Record<string, number> | null,
 *             started_at: string, finished_at: string | null, objects_copied: number, bytes_copied: number,
 *             manifest_key: string | null, report: { objects_total: number | null, failed: { key: string, error: string }[],
 *             error: string | null }, findings: Finding[], actor: string }} Run
 * @typedef {{ id: number, target: string, backup_run_id: number, grade: string, severity_counts: Record<string, number>,
 *             objects: { restored: number, bytes: number, missing: string[], hash_mismatch: string[] },
 *             rpo_seconds: number | null, rto_seconds_per_gb: number | null, seconds: number, findings: Finding[] }} Drill
 * @typedef {{ run_id: number | null, grade: string, severity_counts: Record<string, number>, objects_checked: number,
 *             findings: Finding[] }} Verification
 */

/** @param {string} status */
function runStatus(status) {
  return has(`backups.status.${status}`) ? t(`backups.status.${status}`) : status;
}

/** @param {Run} run */
function runDetail(run) {
  return h("section", { id: "run-detail", class: "card report", "aria-labelledby": "run-detail-heading",
    "data-status": run.status, "data-grade": run.grade || "" },
    h("h2", { id: "run-detail-heading" }, t("backups.run_heading", { id: run.id, target: run.target }), " ",
      gradeBadge(run.grade)),
    facts([
      [t("backups.col.status"), runStatus(run.status)],
      [t("backups.col.started"), when(run.started_at)],
      [t("backups.col.finished"), when(run.finished_at)],
      [t("backups.col.objects"), t("backups.copied_of", { copied: run.objects_copied, total: run.report.objects_total ?? 0 })],
      [t("backups.col.bytes"), formatBytes(run.bytes_copied)],
      [t("backups.manifest"), run.manifest_key ? h("code", {}, run.manifest_key) : "—"],
      [t("backups.by"), run.actor],
      [t("backups.summary"), severitySummary(run.severity_counts)],
    ], "run-facts"),
    run.report.error ? h("p", { class: "error", role: "alert" }, run.report.error) : null,
    run.report.failed.length ? table({ caption: t("backups.failed_caption"), rows: run.report.failed, columns: [
      { key: "key", label: t("backups.col.key"), cell: (f) => h("code", {}, f.key) },
      { key: "error", label: t("backups.col.error"), cell: (f) => f.error },
    ] }) : null,
    findingsTable(run.findings, t("backups.run_findings")));
}

/** @param {Drill} d */
function drillDetail(d) {
  return h("section", { id: "drill-detail", class: "card report", "aria-labelledby": "drill-detail-heading",
    "data-grade": d.grade },
    h("h2", { id: "drill-detail-heading" }, t("backups.drill_heading", { id: d.id, target: d.target }), " ",
      gradeBadge(d.grade)),
    facts([
      [t("backups.drill_of_run"), formatNumber(d.backup_run_id)],
      [t("backups.restored"), t("backups.restored_value", { count: d.objects.restored, size: formatBytes(d.objects.bytes) })],
      [t("backups.missing"), count(d.objects.missing.length)],
      [t("backups.mismatch"), count(d.objects.hash_mismatch.length)],
      [t("backups.rpo"), formatSeconds(d.rpo_seconds)],
      [t("backups.rto"), formatSeconds(d.rto_seconds_per_gb)],
      [t("backups.took"), formatSeconds(d.seconds)],
      [t("backups.summary"), severitySummary(d.severity_counts)],
    ]),
    findingsTable(d.findings, t("backups.drill_findings")));
}

/** @param {Verification} v @param {string} target */
function verificationDetail(v, target) {
  return h("section", { id: "backup-verification", class: "card report", "aria-labelledby": "backup-verification-heading",
    "data-grade": v.grade },
    h("h2", { id: "backup-verification-heading" }, t("backups.verified_heading", { target }), " ", gradeBadge(v.grade)),
    facts([
      [t("backups.objects_checked"), count(v.objects_checked)],
      [t("backups.summary"), severitySummary(v.severity_counts)],
    ]),
    v.run_id !== null ? h("p", {}, h("a", { id: "verification-link", href: `#/verification?run=${v.run_id}` },
      t("backups.open_report", { id: v.run_id }))) : null,
    findingsTable(v.findings, t("backups.verification_findings")));
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "backups",
  catalogue: "backups",
  route: "/backups",
  title: "backups.title",
  nav: { label: "backups.nav", action: "backup.read" },
  render(root) {
    const canRun = session.may("backup.run");
    const canVerify = session.may("verify.run");
    const message = messageBox("error", "backups-message");
    const targetsBox = h("div", { id: "targets" });
    const detail = h("div", { id: "backup-detail", "aria-live": "polite", tabindex: "-1" });
    const runsBox = h("div", { id: "runs" });
    const drillsBox = h("div", { id: "drills" });
    root.append(h("section", { class: "officer", "aria-labelledby": "backups-heading" },
      h("h1", { id: "backups-heading" }, t("backups.heading")), message,
      h("h2", {}, t("backups.targets")), targetsBox, canRun ? targetForm(() => load()) : null, detail,
      h("h2", {}, t("backups.runs")), runsBox,
      h("h2", {}, t("backups.drills")), drillsBox));

    /** @type {Run[]} */
    let runs = [];
    /** @type {Drill[]} */
    let drills = [];

    /** @param {HTMLElement} node */
    const showDetail = (node) => {
      detail.replaceChildren(node);
      detail.focus();
    };

    /**
     * @param {HTMLButtonElement} button
     * @param {() => Promise<HTMLElement>} work
     */
    const act = async (button, work) => {
      for (const b of root.querySelectorAll("#targets button")) /** @type {HTMLButtonElement} */ (b).disabled = true;
      say(message, "");
      button.setAttribute("aria-busy", "true");
      try {
        const node = await work();
        await load();
        showDetail(node);
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        button.removeAttribute("aria-busy");
        for (const b of root.querySelectorAll("#targets button")) /** @type {HTMLButtonElement} */ (b).disabled = false;
      }
    };

    /** @param {Target} target */
    const targetActions = (target) => {
      const run = h("button", { type: "button", class: "run-backup", "data-target": target.name,
        "aria-label": t("backups.run_on", { target: target.name }) }, t("backups.run"));
      run.addEventListener("click", () => void act(run, async () =>
        runDetail(await api(`/backups/${encodeURIComponent(target.name)}/run`, { method: "POST" }))));
      const drill = h("button", { type: "button", class: "secondary run-drill", "data-target": target.name,
        "aria-label": t("backups.drill_on", { target: target.name }) }, t("backups.drill"));
      drill.addEventListener("click", () => void act(drill, async () =>
        drillDetail(await api(`/backups/${encodeURIComponent(target.name)}/drill`, { method: "POST", body: {} }))));
      const verify = h("button", { type: "button", class: "secondary verify-backup", "data-target": target.name,
        "aria-label": t("backups.verify_on", { target: target.name }) }, t("backups.verify"));
      verify.addEventListener("click", () => void act(verify, async () => verificationDetail(
        await api("/verify", { method: "POST", body: { level: "backup", target: target.name } }), target.name)));
      const remove = canRun && target.source === "catalogue"
        ? removeButton(target.name, (text, kind) => say(message, text, kind), () => load()) : null;
      return h("div", { class: "actions" }, canRun ? [run, drill] : null, canVerify ? verify : null, remove);
    };

    const load = async () => {
      try {
        const [targets, runList, drillList] = await Promise.all([
          /** @type {Promise<{ targets: Target[] }>} */ (api("/backups")),
          /** @type {Promise<{ runs: Run[] }>} */ (api("/backups/runs", { params: { limit: 20 } })),
          /** @type {Promise<{ drills: Drill[] }>} */ (api("/backups/drills", { params: { limit: 20 } })),
        ]);
        runs = runList.runs;
        drills = drillList.drills;
        targetsBox.replaceChildren(table({ caption: t("backups.targets_caption"), rows: targets.targets,
          empty: t("backups.no_targets"), columns: [
            { key: "name", label: t("backups.col.name"), cell: (x) => x.name },
            { key: "kind", label: t("backups.col.kind"), cell: (x) => t(`backups.kind.${x.kind === "s3" ? "s3" : "local"}`) },
            { key: "where", label: t("backups.col.where"),
              cell: (x) => h("code", {}, x.kind === "s3" ? `${x.endpoint ?? ""}/${x.bucket ?? ""}` : x.path ?? "") },
            { key: "source", label: t("backups.col.source"),
              cell: (x) => has(`backups.source.${x.source}`) ? t(`backups.source.${x.source}`) : x.source },
            { key: "last", label: t("backups.col.last"), cell: (x) => {
              const last = runs.find((r) => r.target === x.name);
              return last ? [runStatus(last.status), " ", gradeBadge(last.grade)] : t("backups.never");
            } },
            { key: "actions", label: t("backups.col.actions"), cell: targetActions },
          ] }));
        runsBox.replaceChildren(table({ caption: t("backups.runs_caption"), rows: runs, empty: t("backups.no_runs"),
          columns: [
            { key: "id", label: t("backups.col.run"), cell: (r) => h("button", { type: "button", class: "link open-run",
              onclick: () => showDetail(runDetail(r)) }, t("backups.run_number", { id: r.id })) },
            { key: "target", label: t("backups.col.target"), cell: (r) => r.target },
            { key: "status", label: t("backups.col.status"), cell: (r) => runStatus(r.status) },
            { key: "grade", label: t("backups.col.grade"), cell: (r) => gradeBadge(r.grade) },
            { key: "started", label: t("backups.col.started"), cell: (r) => when(r.started_at) },
            { key: "objects", label: t("backups.col.objects"), numeric: true, cell: (r) => count(r.objects_copied) },
            { key: "bytes", label: t("backups.col.bytes"), numeric: true, cell: (r) => formatBytes(r.bytes_copied) },
          ] }));
        drillsBox.replaceChildren(table({ caption: t("backups.drills_caption"), rows: drills,
          empty: t("backups.no_drills"), columns: [
            { key: "id", label: t("backups.col.drill"), cell: (d) => h("button", { type: "button", class: "link open-drill",
              onclick: () => showDetail(drillDetail(d)) }, t("backups.drill_number", { id: d.id })) },
            { key: "target", label: t("backups.col.target"), cell: (d) => d.target },
            { key: "grade", label: t("backups.col.grade"), cell: (d) => gradeBadge(d.grade) },
            { key: "restored", label: t("backups.restored"), numeric: true, cell: (d) => count(d.objects.restored) },
            { key: "rpo", label: t("backups.rpo"), numeric: true, cell: (d) => formatSeconds(d.rpo_seconds) },
          ] }));
      } catch (error) {
        say(message, describe(error), "error");
      }
    };
    void load();
  },
};
