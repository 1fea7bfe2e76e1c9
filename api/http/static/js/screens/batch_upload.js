// Uploading scans into a batch: files, a folder or ZIPs, dropped on the zone or chosen with the two pickers
// (buttons, for the keyboard). Each file is one POST /api/v1/batches/{id}/files with its own progress bar; what
// the server refused is listed with its code translated.
import { t } from "../i18n.js";
import { h } from "../ui.js";
import { refusalText, upload, uploadError } from "./batch_common.js";

const ACCEPT = ".tif,.tiff,.png,.jpg,.jpeg,.pdf,.zip";

/**
 * Every file under a dropped entry (folders walked, in name order).
 * @param {FileSystemEntry} entry
 * @returns {Promise<File[]>}
 */
async function filesOf(entry) {
  if (entry.isFile) {
    return [await new Promise((resolve, reject) => (/** @type {FileSystemFileEntry} */ (entry)).file(resolve, reject))];
  }
  const reader = (/** @type {FileSystemDirectoryEntry} */ (entry)).createReader();
  /** @type {FileSystemEntry[]} */
  const entries = [];
  for (;;) { // readEntries answers in chunks until an empty one
    /** @type {FileSystemEntry[]} */
    const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!chunk.length) break;
    entries.push(...chunk);
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const nested = await Promise.all(entries.map(filesOf));
  return nested.flat();
}

/** @param {DataTransfer} data @returns {Promise<File[]>} */
async function droppedFiles(data) {
  const entries = [...data.items].map((item) => (item.kind === "file" ? item.webkitGetAsEntry() : null));
  if (entries.length && entries.every(Boolean)) {
    const nested = await Promise.all(entries.map((e) => filesOf(/** @type {FileSystemEntry} */ (e))));
    return nested.flat();
  }
  return [...data.files];
}

/** @param {File} file */
function displayName(file) {
  return file.webkitRelativePath || file.name;
}

/**
 * The upload zone of a batch; `onUploaded` runs after each file the server took (the screen polls progress).
 * @param {number} batchId
 * @param {() => void} onUploaded
 * @returns {HTMLElement}
 */
export function uploadZone(batchId, onUploaded) {
  const files = h("input", { type: "file", id: "upload-files", multiple: true, accept: ACCEPT, hidden: true, tabindex: -1 });
  const folder = h("input", { type: "file", id: "upload-folder", multiple: true, webkitdirectory: true, hidden: true, tabindex: -1 });
  const rows = h("ul", { id: "upload-list", class: "upload-list", "aria-label": t("batch.upload_list") });
  const summary = h("p", { id: "upload-summary", role: "status", "aria-live": "polite", class: "upload-summary" });
  let queue = Promise.resolve();

  /** @param {File} file */
  async function send(file) {
    const bar = h("progress", { max: 100, value: 0, "aria-label": t("batch.upload_progress", { name: displayName(file) }) });
    const state = h("span", { class: "upload-state" }, t("batch.upload_waiting"));
    const row = h("li", { class: "upload-row" }, h("span", { class: "upload-name" }, displayName(file)), bar, state);
    rows.append(row);
    await (queue = queue.then(async () => {
      state.textContent = t("batch.upload_sending");
      const { status, body } = await upload(`/batches/${batchId}/files`, "files", file, (fraction) => {
        bar.value = Math.round(fraction * 100);
      });
      bar.value = 100;
      if (status === 202 || status === 200) {
        const jobs = Array.isArray(body.jobs) ? body.jobs.length : 0;
        const refusals = [...(body.rejected || []), ...(body.skipped || [])];
        row.classList.add(refusals.length && !jobs ? "upload-refused" : "upload-done");
        state.textContent = t("batch.upload_taken", { count: jobs });
        for (const refusal of refusals) row.append(h("p", { class: "error" }, refusalText(refusal)));
        onUploaded();
      } else {
        row.classList.add("upload-refused");
        state.textContent = t("batch.upload_refused");
        const refusals = (body && Array.isArray(body.rejected) && body.rejected) || [];
        const texts = refusals.length ? refusals.map(refusalText) : [uploadError(status, body)];
        for (const text of texts) row.append(h("p", { class: "error", role: "alert" }, text));
      }
    }));
  }

  let pending = 0;
  /** @param {File[]} chosen */
  async function sendAll(chosen) {
    if (!chosen.length) return;
    pending += chosen.length;
    summary.textContent = t("batch.upload_started", { count: pending });
    await Promise.all(chosen.map(send));
    pending -= chosen.length;
    if (pending) return;
    const all = rows.querySelectorAll(".upload-row").length;
    summary.textContent = t("batch.upload_finished", { done: rows.querySelectorAll(".upload-done").length, count: all });
  }

  files.addEventListener("change", () => {
    void sendAll([...(files.files || [])]);
    files.value = "";
  });
  folder.addEventListener("change", () => {
    void sendAll([...(folder.files || [])]);
    folder.value = "";
  });
  const zone = h("div", { class: "drop-zone", id: "drop-zone" },
    h("p", { class: "drop-hint" }, t("batch.drop_hint")),
    h("div", { class: "drop-buttons" },
      h("button", { type: "button", id: "choose-files", onclick: () => files.click() }, t("batch.choose_files")),
      h("button", { type: "button", id: "choose-folder", onclick: () => folder.click() }, t("batch.choose_folder"))),
    h("p", { class: "help" }, t("batch.upload_help")),
    files, folder);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("drop-over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("drop-over");
    if (event.dataTransfer) void droppedFiles(event.dataTransfer).then(sendAll);
  });
  return h("div", { class: "upload" }, zone, summary, rows);
}
