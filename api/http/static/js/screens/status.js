// The system's status (system administrator; archivists see the parts they may): the data disks against the
// reserve, jobs, workers, storage use, the search index with its size and last rebuild, each backup target's
// last run and the last verification (GET /api/v1/status); starting a reindex and following its progress
// (POST / GET /api/v1/index/rebuild, polled each second while it runs).
import { api, describe } from "../api.js";
import { filled, has, language, t } from "../i18n.js";
import * as session from "../session.js";
import { count, facts, formatBytes, gradeBadge, when } from "../report.js";
import { h, messageBox, say, table } from "../ui.js";

const POLL_MS = 1000;

/**
 * @typedef {{ state: string, started_by: string | null, started_at: string | null, finished_at: string | null,
 *             done: number, total: number, engine: string | null, error: string | null }} Rebuild
 * @typedef {{ place: string, free_bytes: number | null, reserve_bytes: number, state: string }} Place
 * @typedef {{ target: string, last_run_id: number | null, started_at: string | null, finished_at: string | null,
 *             status: string | null, grade: string | null }} BackupStatus
 * @typedef {{ code: string, params: Record<string, string | number | boolean | null> }} Coded
 * @typedef {{ state: string, places: Place[], warnings: string[], warning_codes?: Coded[],
 *             jobs: { queued: number, processing: number, retrying: number, stuck: number, failed: number },
 *             workers: { runner_alive: boolean, worker_processes: number, busy_workers: number },
 *             storage: { backend: string, objects: number, bytes: number },
 *             index: { engine: string, state: string, problem: string | null, pages_indexed: number | null,
 *                      pages_in_catalogue: number, documents_in_catalogue: number, bytes: number | null,
 *                      last_rebuild_at: string | null, last_rebuild_by: string | null, rebuild: Rebuild },
 *             backups: BackupStatus[] | null,
 *             last_verification: { id: number, started_at: string, level: string, store: string, grade: string,
 *                                  status: string } | null }} Status
 */

/** The translation of `key`, or the value itself when the catalogue has none. @param {string} key @param {string} value */
function word(key, value) {
  return has(key) ? t(key) : value;
}

/**
 * A warning in the page's language: status.warning.<code> with its values (places in the page's words, sizes for
 * the language); the server's English when the catalogue lacks it or it lacks a value.
 * @param {string} english @param {Coded | undefined} coded
 */
function warningText(english, coded) {
  if (!coded) return english;
  /** @type {import("../i18n.js").Params} */
  const values = {};
  for (const [name, value] of Object.entries(coded.params)) {
    if (typeof value === "number") values[name] = name.endsWith("_bytes") ? formatBytes(value) : value;
    else if (typeof value === "string") values[name] = value;
  }
  if (typeof coded.params.places === "string") {
    const places = coded.params.places.split(", ").map((place) => word(`status.place.${place}`, place));
    values.places = new Intl.ListFormat(language(), { type: "conjunction" }).format(places);
  }
  return filled(`status.warning.${coded.code}`, values) ?? english;
}

/** @param {string} id @param {string} title @param {...import("../ui.js").Child} body */
function card(id, title, ...body) {
  return h("section", { class: "card panel", id, "aria-labelledby": `${id}-heading` },
    h("h2", { id: `${id}-heading` }, title), ...body);
}

/** @param {Rebuild} r */
function rebuildLine(r) {
  const bar = h("progress", { id: "rebuild-progress", max: Math.max(1, r.total), value: r.done,
    "aria-label": t("status.rebuild_progress") });
  return h("div", { id: "rebuild-state", "data-state": r.state },
    h("p", {}, word(`status.rebuild.${r.state}`, r.state),
      r.state === "running" || r.state === "finished" ? ` — ${t("status.rebuild_done", { done: r.done, total: r.total })}` : "",
      r.error ? ` — ${r.error}` : ""),
    r.state === "running" ? bar : null,
    r.finished_at ? h("p", { class: "help" }, t("status.rebuild_finished", { at: when(r.finished_at),
      who: r.started_by || "—" })) : null);
}

/** @param {Status} s */
function sections(s) {
  const places = table({
    caption: t("status.places_caption"),
    rows: s.places,
    columns: [
      { key: "place", label: t("status.col.place"), cell: (p) => word(`status.place.${p.place}`, p.place) },
      { key: "free", label: t("status.col.free"), numeric: true, cell: (p) => formatBytes(p.free_bytes) },
      { key: "reserve", label: t("status.col.reserve"), numeric: true, cell: (p) => formatBytes(p.reserve_bytes) },
      { key: "state", label: t("status.col.state"),
        cell: (p) => h("span", { class: `space space-${p.state}` }, word(`status.space.${p.state}`, p.state)) },
    ],
  });
  const i = s.index;
  const out = [
    h("p", { id: "status-overall", class: s.state === "ok" ? "notice" : "error", role: "status" },
      t("status.overall", { state: word(`status.space.${s.state}`, s.state) })),
    s.warnings.length ? h("ul", { id: "status-warnings", class: "warnings", "aria-label": t("status.warnings") },
      s.warnings.map((w, n) => h("li", { "data-code": s.warning_codes?.[n]?.code ?? "" },
        warningText(w, s.warnings.length === s.warning_codes?.length ? s.warning_codes[n] : undefined)))) : null,
    h("div", { class: "panels" },
      card("status-workers", t("status.workers"), facts([
        [t("status.runner"), s.workers.runner_alive ? t("status.runner_alive") : t("status.runner_down")],
        [t("status.worker_processes"), count(s.workers.worker_processes)],
        [t("status.busy_workers"), count(s.workers.busy_workers)],
      ])),
      card("status-jobs", t("status.jobs"), facts([
        [t("status.job.queued"), count(s.jobs.queued)],
        [t("status.job.processing"), count(s.jobs.processing)],
        [t("status.job.retrying"), count(s.jobs.retrying)],
        [t("status.job.stuck"), count(s.jobs.stuck)],
        [t("status.job.failed"), count(s.jobs.failed)],
      ])),
      card("status-storage", t("status.storage"), facts([
        [t("status.backend"), s.storage.backend],
        [t("status.objects"), count(s.storage.objects)],
        [t("status.bytes"), formatBytes(s.storage.bytes)],
      ])),
      card("status-index", t("status.index"), facts([
        [t("status.engine"), i.engine],
        [t("status.index_state"), h("span", { id: "index-state" }, word(`status.index_state_value.${i.state}`, i.state))],
        [t("status.pages_indexed"), t("status.pages_of", { indexed: i.pages_indexed ?? 0, total: i.pages_in_catalogue })],
        [t("status.documents"), count(i.documents_in_catalogue)],
        [t("status.index_size"), formatBytes(i.bytes)],
        [t("status.last_rebuild"), i.last_rebuild_at ? t("status.by", { at: when(i.last_rebuild_at),
          who: i.last_rebuild_by || "—" }) : "—"],
      ]))),
    card("status-places", t("status.places"), places),
  ];
  if (s.backups !== null) {
    out.push(card("status-backups", t("status.backups"), table({
      caption: t("status.backups_caption"),
      rows: s.backups,
      empty: t("status.no_targets"),
      columns: [
        { key: "target", label: t("status.col.target"), cell: (b) => h("a", { href: "#/backups" }, b.target) },
        { key: "status", label: t("status.col.run_status"), cell: (b) => b.status ? word(`status.run.${b.status}`, b.status) : t("status.never") },
        { key: "grade", label: t("status.col.grade"), cell: (b) => gradeBadge(b.grade) },
        { key: "finished", label: t("status.col.finished"), cell: (b) => when(b.finished_at || b.started_at) },
      ],
    })));
  }
  const v = s.last_verification;
  if (session.may("verify.read")) {
    out.push(card("status-verification", t("status.last_verification"), v
      ? facts([
          [t("status.verification_run"), h("a", { href: `#/verification?run=${v.id}` }, t("status.run_number", { id: v.id }))],
          [t("status.verification_when"), when(v.started_at)],
          [t("status.verification_level"), word(`status.level.${v.level}`, v.level)],
          [t("status.verification_store"), v.store],
          [t("status.col.grade"), gradeBadge(v.grade)],
        ])
      : h("p", { class: "empty" }, t("status.no_verification"))));
  }
  return out;
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "status",
  catalogue: "status",
  route: "/status",
  title: "status.title",
  nav: { label: "status.nav", action: "system.status" },
  render(root) {
    const message = messageBox("error", "status-message");
    const body = h("div", { id: "status-body" });
    const rebuildMessage = messageBox("error", "rebuild-message");
    const rebuildBox = h("div", { id: "rebuild-box", "aria-live": "polite" });
    const start = h("button", { type: "button", id: "start-rebuild" }, t("status.start_rebuild"));
    const reindex = session.may("index.rebuild")
      ? card("status-rebuild", t("status.rebuild_heading"), h("p", { class: "help" }, t("status.rebuild_help")),
          start, rebuildMessage, rebuildBox)
      : null;
    const refresh = h("button", { type: "button", id: "refresh-status", class: "secondary" }, t("status.refresh"));
    root.append(h("section", { class: "officer", "aria-labelledby": "status-heading" },
      h("div", { class: "toolbar" }, h("h1", { id: "status-heading" }, t("status.heading")), refresh),
      message, body, reindex));

    /** @type {number | undefined} */
    let timer;
    let gone = false;
    const load = async () => {
      body.setAttribute("aria-busy", "true");
      try {
        /** @type {Status} */
        const status = await api("/status");
        if (gone) return;
        body.replaceChildren(...sections(status).filter((n) => n !== null));
        if (reindex) showRebuild(status.index.rebuild);
        say(message, "");
      } catch (error) {
        say(message, describe(error), "error");
      } finally {
        body.removeAttribute("aria-busy");
      }
    };
    /** @param {Rebuild} r */
    const showRebuild = (r) => {
      rebuildBox.replaceChildren(rebuildLine(r));
      start.disabled = r.state === "running";
      window.clearTimeout(timer);
      if (r.state === "running" && !gone) timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    const poll = async () => {
      try {
        /** @type {Rebuild} */
        const r = await api("/index/rebuild");
        if (gone) return;
        if (r.state !== "running") await load();
        else showRebuild(r);
      } catch (error) {
        say(rebuildMessage, describe(error), "error");
      }
    };
    start.addEventListener("click", async () => {
      start.disabled = true;
      say(rebuildMessage, "");
      try {
        showRebuild(await api("/index/rebuild", { method: "POST" }));
      } catch (error) {
        start.disabled = false;
        say(rebuildMessage, describe(error), "error");
      }
    });
    refresh.addEventListener("click", () => void load());
    void load();
    return { destroy() { gone = true; window.clearTimeout(timer); } };
  },
};
