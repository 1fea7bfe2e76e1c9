// What the archivist's screens (batches, batch, review, sample) share: the batch status as the API answers it,
// page images fetched with the session's token (shown from blob: URLs; the page text stands in when there is no
// image), one page's text, uploads with progress (XMLHttpRequest), downloads of the batch report, and labels.
import { ApiError, api, call, describe, errorOf } from "../api.js";
import { has, t } from "../i18n.js";
import { token } from "../session.js";
import { h } from "../ui.js";

/**
 * @typedef {{ id: number, label: string, fonds: string, series: string | null, box: string | null, status: string,
 *   languages: string, level: string, year: number | null, retention: string, profile: string,
 *   manifest_rows: number, decision: string | null, decided_by: string | null, decided_at: string | null,
 *   created_by: string, created_at: string, process?: BatchProcess | null,
 *   links: { self: string, report: string } }} BatchSummary
 * @typedef {{ kind: string, done_at: string, done_by: string, result: string, next_due: string | null,
 *   notes: string | null }} Maintenance
 * @typedef {{ device: string | null, device_name?: string | null, device_make?: string | null,
 *   device_model?: string | null, settings: { dpi: number | null, colour_mode: string | null,
 *   bit_depth: number | null, file_format: string | null }, operator: string | null, scan_started: string | null,
 *   scan_ended: string | null, calibration: Maintenance | null, warnings: string[],
 *   warning_codes: { code: string, params: Record<string, string | number> }[] }} BatchProcess
 * @typedef {{ page_id: number, document_id: number, reference_code: string, page: number, findings: string[] }} HeldPage
 * @typedef {{ file: string, page: number, page_id: number, document_id: number, reference_code: string,
 *   check: string, severity: string, measured: number, threshold: number, message: string, review?: string }} Finding
 * @typedef {{ manifest_item_id: number, row_number: number, item_number: number | null,
 *   reference_code: string | null, expected_pages: number | null, title: string }} MissingItem
 * @typedef {{ source_name: string, item_number: number | null, reference_code: string | null, state: string,
 *   page_count: number | null, document_id: number | null }} ExtraItem
 * @typedef {{ row_number: number, item_number: number | null, reference_code: string | null, source_name: string,
 *   expected_pages: number | null, received_pages: number | null }} Mismatch
 * @typedef {{ has_manifest: boolean, missing_items: MissingItem[], extra_items: ExtraItem[],
 *   page_count_mismatches: Mismatch[], numbering_gaps: number[],
 *   duplicate_pages: { first: string, second: string, kind: string, distance: number }[], clean: boolean }} Reconciliation
 * @typedef {BatchSummary & { jobs: Record<string, number>, items: number, pages: number,
 *   pages_by_review: Record<string, number>, findings: Record<string, number>,
 *   failed_jobs: { job: number, item: string, error: string | null }[], held_pages: HeldPage[],
 *   page_findings: Finding[], reconciliation: Reconciliation }} BatchStatus
 * @typedef {{ page_id: number, document_id: number, page: number, reference_code: string, changed: boolean,
 *   verdict: "pass" | "fail" | null, defect: string | null, reviewer: string | null }} SampleRow
 * @typedef {{ sample_id: number, reason: string, seed: number, percent: number, minimum: number,
 *   population: number, drawn_by: string, drawn_at: string, pages: SampleRow[], reviewed: number,
 *   passed: number }} Sample
 */

/** Job states still moving: the screens poll while any job is in one. */
export const MOVING = ["queued", "processing", "retrying"];
export const POLL_MS = 2000;
export const CHECKS = ["resolution", "blank", "skew", "blur", "too_dark", "too_light", "low_contrast", "clipped",
  "black_border", "ocr_confidence", "no_text", "near_duplicate", "capture_dpi", "capture_device", "capture_mode"];
/** Defect types of a failed verdict; the first is the default, so a critical one is never chosen by accident. */
export const DEFECTS = ["illegible", "skewed", "cropped", "blank", "duplicate", "wrong_order", "metadata_error",
  "missing_page", "wrong_reference_code", "other"];

/** @param {number | string} id @returns {Promise<BatchStatus>} */
export function batchStatus(id) {
  return api(`/batches/${encodeURIComponent(String(id))}`);
}

/** A catalogue label for a value of a vocabulary (`batch.status.open`), the value itself when there is none.
 * @param {string} group @param {string | null | undefined} value */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = `batch.${group}.${value}`;
  return has(key) ? t(key) : value;
}

/** The batch's place in the hierarchy: "A12 / WS / 7". @param {BatchSummary} batch */
export function placeOf(batch) {
  return [batch.fonds, batch.series, batch.box].filter(Boolean).join(" / ");
}

/**
 * A page image (kind "image", long side 1600 px, or "thumbnail", 200 px) fetched with the token and shown from a
 * blob: URL; when there is none (no image route, not drawable) the figure says so and `fallback`, if given, fills it.
 * @param {number} documentId @param {number} page @param {"image" | "thumbnail"} kind @param {string} alt
 * @param {() => Promise<Node>} [fallback]
 * @returns {HTMLElement}
 */
export function pageImage(documentId, page, kind, alt, fallback) {
  const figure = h("div", { class: `page-${kind}`, "aria-busy": "true" });
  const url = `/api/v1/documents/${documentId}/pages/${page}/${kind}`;
  /** @type {Record<string, string>} */
  const headers = {};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  void fetch(url, { headers, cache: "no-cache" }).then(async (response) => {
    if (!response.ok) throw new Error(String(response.status));
    const blob = await response.blob();
    const img = h("img", { alt, src: URL.createObjectURL(blob), loading: "lazy" });
    img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
    figure.replaceChildren(img);
  }).catch(async () => {
    figure.replaceChildren(h("p", { class: "no-image" }, t("batch.no_image")));
    if (fallback) figure.append(await fallback());
  }).finally(() => figure.removeAttribute("aria-busy"));
  return figure;
}

/** The text of one page of a record ("" when it has none). @param {number} documentId @param {number} page */
export async function pageText(documentId, page) {
  const response = await call(`/documents/${documentId}/text`, { params: { page } });
  return response.text();
}

/** The page's text in a scrollable block, or the reason it cannot be read. @param {number} documentId @param {number} page */
export async function pageTextBlock(documentId, page) {
  try {
    const text = (await pageText(documentId, page)).trim();
    return h("pre", { class: "page-text" }, text || t("batch.no_text"));
  } catch (error) {
    return h("p", { class: "error", role: "alert" }, describe(error));
  }
}

/**
 * POST one file as multipart (`field`) with upload progress. Resolves with the status and the JSON body;
 * a network failure resolves with status 0.
 * @param {string} path under /api/v1 @param {string} field @param {File} file
 * @param {(fraction: number) => void} onProgress
 * @returns {Promise<{ status: number, body: any }>}
 */
export function upload(path, field, file, onProgress) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1${path}`);
    request.setRequestHeader("Accept", "application/json");
    const bearer = token();
    if (bearer) request.setRequestHeader("Authorization", `Bearer ${bearer}`);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* not JSON */
      }
      resolve({ status: request.status, body });
    });
    request.addEventListener("error", () => resolve({ status: 0, body: null }));
    const form = new FormData();
    form.append(field, file, file.name);
    request.send(form);
  });
}

/** The error of an upload's answer (its code translated). @param {number} status @param {any} body */
export function uploadError(status, body) {
  if (status === 0) return describe(new ApiError(0, "network", ""));
  return describe(errorOf(status, body));
}

/**
 * A refusal of one item of an upload: its reason or code translated.
 * @param {{ item: string, error: string, message: string, reason?: string | null, params?: Record<string, unknown> | null }} refusal
 */
export function refusalText(refusal) {
  return `${refusal.item}: ${describe(errorOf(400, refusal))}`;
}

/**
 * Fetch a file with the token and hand it to the browser as a download.
 * @param {string} path @param {Record<string, string>} params @param {string} filename
 */
export async function download(path, params, filename) {
  const response = await call(path, { params });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A section with a heading (h2) and an id for its heading. @param {string} id @param {string} title @param {...Node} children */
export function section(id, title, ...children) {
  return h("section", { class: "card batch-section", id, "aria-labelledby": `${id}-heading` },
    h("h2", { id: `${id}-heading` }, title), ...children);
}
