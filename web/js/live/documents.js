// The meeting materials in the sidebar, the active item's first; a tap opens one in the viewer.
import { h, clear } from "../dom.js";
import { sortedDocuments } from "./state.js";
import { whenChanged } from "./panel.js";

/** One document's row; `onOpen(documentId, open)` is told whether it is the one already open. */
export function documentRow(state, d, onOpen) {
  const open = state.view?.doc.id === d.id;
  return h(`li${open ? ".open" : ""}`, { dataset: { id: d.id } },
    h("button.doc-open", { type: "button", onclick: () => onOpen(d.id, open) },
      h("span.doc-icon", "▸"),
      h("span.doc-title", d.title),
      marks(d),
      h("span.muted.small", { i18n: ["documents.pages", { n: d.currentVersion.pageCount }] })));
}

/** What a reader must know before opening it: confidential; a resolution, signed or still a draft. */
function marks(d) {
  if (d.classification !== "confidential" && !d.resolution) return null;
  const resolution = d.currentVersion.signed ? "documents.signedResolutionBadge" : "documents.resolutionBadge";
  return h("span.doc-marks",
    d.classification === "confidential" ? h("span.badge.confidential", { i18n: "documents.confidentialBadge" }) : null,
    d.resolution ? h("span.badge.resolution", { i18n: resolution }) : null);
}

export function documentsPanel({ onOpen }) {
  const el = h("ul.docs-live");

  const render = whenChanged((s) => [s.documents, s.items, s.view?.doc.id], (s) => {
    clear(el);
    const sorted = sortedDocuments(s);
    if (!sorted.length) el.append(h("li.muted.small", { i18n: "documents.none" }));
    for (const d of sorted) el.append(documentRow(s, d, onOpen));
  });

  return { el, render };
}
