// Page images and thumbnails: the image routes want the bearer token, so an <img> cannot fetch them itself. An
// ImageLoader fetches each one with the token (api.js `call`), shows it from a blob: URL (the CSP's img-src
// allows blob:), loads thumbnails only when they scroll into view, and frees every URL when the screen goes.
import { call } from "./api.js";

export class ImageLoader {
  constructor() {
    /** @type {Set<string>} */
    this.urls = new Set();
    /** @type {Map<Element, string>} */
    this.waiting = new Map();
    this.controller = new AbortController();
    this.observer = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const path = this.waiting.get(entry.target);
        this.waiting.delete(entry.target);
        if (this.observer) this.observer.unobserve(entry.target);
        if (path !== undefined) void this.load(/** @type {HTMLImageElement} */ (entry.target), path);
      }
    }, { rootMargin: "200px" });
  }

  /**
   * Fetch the image now and show it in `img`; resolves false (and marks the img data-state="failed") when the
   * route answers an error, so the caller can show a fallback.
   * @param {HTMLImageElement} img
   * @param {string} path an /api/v1/... image link
   * @returns {Promise<boolean>}
   */
  async load(img, path) {
    img.dataset.state = "loading";
    try {
      const response = await call(path, { signal: this.controller.signal });
      const url = URL.createObjectURL(await response.blob());
      this.urls.add(url);
      img.src = url;
      await img.decode().catch(() => undefined);
      img.dataset.state = "loaded";
      return true;
    } catch {
      if (!this.controller.signal.aborted) img.dataset.state = "failed";
      return false;
    }
  }

  /** Load the image when it comes near the viewport. @param {HTMLImageElement} img @param {string} path */
  lazy(img, path) {
    if (!this.observer) {
      void this.load(img, path);
      return;
    }
    this.waiting.set(img, path);
    this.observer.observe(img);
  }

  /** Stop pending loads and free every blob: URL made so far. */
  dispose() {
    this.controller.abort();
    if (this.observer) this.observer.disconnect();
    this.waiting.clear();
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}

/**
 * Save a file fetched with the bearer token (a PDF/A copy, an original) under `filename`.
 * @param {string} path an /api/v1/... file link
 * @param {string} filename
 */
export async function download(path, filename) {
  const response = await call(path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60 * 1000);
}
