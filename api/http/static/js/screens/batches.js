// Batches: the archivist's units of work (GET /api/v1/batches) and a form to create one (POST /api/v1/batches):
// fonds, series, box, year, level, languages, OCR engine, and a manifest CSV file read in the browser.
import { api, describe } from "../api.js";
import { formatDate, t } from "../i18n.js";
import * as session from "../session.js";
import { busy, errorState, h, messageBox, say, table } from "../ui.js";
import { label, placeOf } from "./batch_common.js";

/** @typedef {import("./batch_common.js").BatchSummary} BatchSummary */

const LEVELS = ["public", "internal", "confidential", "secret", "top_secret"];
const ENGINES = ["", "auto", "tesseract", "ppocr", "null"];
const LANGUAGE_CHOICES = ["chi_sim+eng", "chi_sim", "eng"];

/**
 * A labelled field in the create form.
 * @param {string} id @param {string} text @param {HTMLElement} control @param {string} [help]
 */
function field(id, text, control, help) {
  control.id = id;
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  return h("div", { class: "form-field" }, h("label", { for: id }, text), control,
    help ? h("p", { class: "help", id: `${id}-help` }, help) : null);
}

/** @param {string[]} values @param {(value: string) => string} text @param {string} [selected] */
function select(values, text, selected) {
  return h("select", {}, values.map((v) => h("option", { value: v, selected: v === selected }, text(v))));
}

/** @param {(id: number) => void} created */
function createForm(created) {
  const message = messageBox("notice", "create-message");
  const fonds = h("input", { name: "fonds", required: true, autocomplete: "off", maxlength: 40 });
  const series = h("input", { name: "series", autocomplete: "off", maxlength: 40 });
  const box = h("input", { name: "box", autocomplete: "off", maxlength: 40 });
  const year = h("input", { name: "year", type: "number", min: 1, max: 9999, inputmode: "numeric" });
  const itemLabel = h("input", { name: "label", autocomplete: "off", maxlength: 200 });
  const level = select(LEVELS, (v) => t(`common.level.${v}`), "internal");
  const languages = select(LANGUAGE_CHOICES, (v) => t(`batches.languages.${v.replace(/\+/g, "_")}`), "chi_sim+eng");
  const engine = select(ENGINES, (v) => t(`batches.engine.${v || "default"}`), "");
  const manifest = h("input", { type: "file",
    accept: ".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const button = h("button", { type: "submit", id: "create-batch" }, t("batches.create"));
  const form = h("form", { id: "create-form", class: "form-grid", novalidate: true },
    field("batch-fonds", t("batches.fonds"), fonds, t("batches.fonds_help")),
    field("batch-series", t("batches.series"), series),
    field("batch-box", t("batches.box"), box),
    field("batch-year", t("batches.year"), year),
    field("batch-label", t("batches.label"), itemLabel),
    field("batch-level", t("batches.level"), level),
    field("batch-languages", t("batches.languages"), languages),
    field("batch-engine", t("batches.engine"), engine, t("batches.engine_help")),
    field("batch-manifest", t("batches.manifest"), manifest, t("batches.manifest_help")),
    h("div", { class: "form-actions" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!fonds.value.trim()) {
      say(message, t("batches.fonds_required"), "error");
      fonds.focus();
      return;
    }
    button.disabled = true;
    try {
      const file = manifest.files && manifest.files[0];
      const body = {
        fonds: fonds.value.trim(),
        series: series.value.trim() || undefined,
        box: box.value.trim() || undefined,
        label: itemLabel.value.trim() || undefined,
        year: year.value ? Number(year.value) : undefined,
        level: level.value,
        languages: languages.value,
        engine: engine.value || undefined,
        manifest_csv: file && !isWorkbook(file) ? await file.text() : undefined,
        manifest_xlsx: file && isWorkbook(file) ? base64Of(await file.arrayBuffer()) : undefined,
      };
      /** @type {BatchSummary} */
      const batch = await api("/batches", { method: "POST", body });
      created(batch.id);
    } catch (error) {
      say(message, describe(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card batch-section", id: "create", "aria-labelledby": "create-heading" },
    h("h2", { id: "create-heading" }, t("batches.create_heading")), message, form);
}

/** @param {BatchSummary[]} batches */
function batchTable(batches) {
  return table({
    caption: t("batches.caption"),
    empty: t("batches.none"),
    rows: [...batches].sort((a, b) => b.id - a.id),
    columns: [
      { key: "id", label: t("batches.col_id"), numeric: true, cell: (b) => String(b.id) },
      { key: "label", label: t("batches.col_label"), cell: (b) =>
        h("a", { href: `#/batches/${b.id}`, class: "batch-link" }, b.label || t("batches.untitled", { id: b.id })) },
      { key: "place", label: t("batches.col_place"), cell: (b) => placeOf(b) },
      { key: "status", label: t("batches.col_status"), cell: (b) =>
        h("span", { class: `state state-${b.status}` }, label("status", b.status)) },
      { key: "level", label: t("batches.col_level"), cell: (b) => t(`common.level.${b.level}`) },
      { key: "created", label: t("batches.col_created"), cell: (b) => `${formatDate(b.created_at)} · ${b.created_by}` },
    ],
  });
}

/** @type {import("../types.js").Screen} */
export const screen = {
  id: "batches",
  catalogue: "batches",
  route: "/batches",
  title: "batches.title",
  nav: { label: "batches.nav", action: "work.read" },
  async render(root, _params, ctx) {
    const list = h("div", { id: "batch-list" });
    root.append(h("h1", { id: "batches-heading" }, t("batches.heading")));
    if (session.may("ingest.submit")) root.append(createForm((id) => ctx.navigate(`#/batches/${id}`)));
    root.append(h("section", { class: "batch-section", "aria-labelledby": "batches-heading" }, list));
    await busy(list, async () => {
      try {
        /** @type {{ batches: BatchSummary[] }} */
        const answer = await api("/batches");
        list.replaceChildren(batchTable(answer.batches));
      } catch (error) {
        list.replaceChildren(errorState(describe(error)));
      }
    });
  },
};

/** An Excel 目录 (.xlsx) rather than a CSV manifest. @param {File} file */
function isWorkbook(file) {
  return /\.xlsx$/i.test(file.name);
}

/** The bytes of a file as base64 text, for a JSON body. @param {ArrayBuffer} buffer */
function base64Of(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}
