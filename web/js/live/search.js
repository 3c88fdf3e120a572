// Full-text search over the meeting's documents: the toolbar button and the sheet of hits; a hit opens
// its page in the viewer.
import { h, clear, setAttr } from "../dom.js";
import { api } from "../api.js";
import { icon } from "../icons.js";
import { showError } from "../ui.js";
import { sheet } from "./panel.js";

/** `onOpen(documentId, versionId, page)` shows a hit; the sheet opens over `panels`. */
export function searchPanel({ meetingId, panels, onOpen }) {
  let open = null; // the sheet, while shown
  const button = h("button.tool.search-open", { type: "button", onclick: () => toggle() }, icon("search"), h("span", { i18n: "search.short" }));
  setAttr(button, "aria-label", "search.title");

  function openSheet() {
    const { el, body } = sheet(panels, "search-panel", h("h3", { i18n: "search.title" }), () => toggle());
    const input = h("input", { type: "search", name: "q", maxlength: 200 });
    setAttr(input, "placeholder", "search.placeholder");
    const results = h("ul.search-results");
    const run = async () => {
      const q = input.value.trim();
      if (!q) return;
      try {
        const hits = await api("GET", `/api/meetings/${meetingId}/search?q=${encodeURIComponent(q)}`);
        clear(results);
        if (!hits.length) results.append(h("li.muted", { i18n: "search.none" }));
        for (const hit of hits) {
          const snippet = h("span.snippet");
          // The server escapes the text and adds only <mark>; anything else is stripped to be sure.
          snippet.innerHTML = hit.snippet.replace(/<(?!\/?mark>)[^>]*>/g, "");
          results.append(h("li", h("button.hit", { type: "button", onclick: () => onOpen(hit.documentId, hit.versionId, hit.page) },
            h("strong", hit.title), h("span.muted", { i18n: ["viewer.page", { n: hit.page }] }), snippet)));
        }
      } catch (err) {
        showError(err);
      }
    };
    body.append(h("form.search-form", { onsubmit: (e) => (e.preventDefault(), run()) }, input, h("button.primary", { type: "submit", i18n: "search.go" })), results);
    input.focus();
    return el;
  }

  /** Open the sheet, or close it when open. */
  function toggle() {
    if (open) {
      open.remove();
      open = null;
    } else open = openSheet();
  }

  return { button };
}
