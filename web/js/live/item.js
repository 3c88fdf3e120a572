// The sheet of one agenda item: who presents it, its description, documents and published results, and
// its conclusion, written by the chair or secretary and read by everyone else.
import { h, clear } from "../dom.js";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { busy, toast } from "../ui.js";
import { isManager } from "./state.js";
import { sheet } from "./panel.js";
import { documentRow } from "./documents.js";
import { resultView } from "./votes.js";

/** Open `item`'s sheet over `panels`; `current()` is the screen's state when the sheet is drawn again,
 * `onOpenDocument(documentId, open)` opens a document, `onClose()` is told when it closes. */
export function openItemSheet({ meetingId, panels, item, current, onOpenDocument, onClose }) {
  const { el, body } = sheet(panels, "item-panel", h("h3", item.title), () => close());
  const manager = isManager(current());

  function close() {
    el.remove();
    onClose();
  }

  async function refresh() {
    let conclusion = null;
    try {
      // The list answers 200 even when this item has none yet (the single one would be a 404).
      conclusion = (await api("GET", `/api/meetings/${meetingId}/conclusions`)).find((c) => c.itemId === item.id) || null;
    } catch {
      conclusion = null;
    }
    const s = current();
    clear(body);
    if (item.presenter) body.append(h("p.muted", item.presenter));
    if (item.description) body.append(h("p.description", item.description));
    const docs = s.documents.filter((d) => d.agendaItemId === item.id);
    if (docs.length) body.append(h("h4", { i18n: "live.documents" }), h("ul.docs-live", docs.map((d) => documentRow(s, d, onOpenDocument))));
    for (const p of s.polls.filter((p) => p.itemId === item.id && p.result)) body.append(resultView(p));
    body.append(h("h4", { i18n: "conclusion.title" }));
    if (manager) {
      const text = h("textarea", { rows: 6, name: "conclusion" });
      text.value = conclusion?.text || "";
      body.append(text, h("div.form-actions", h("button.primary", { type: "button", i18n: "conclusion.save", onclick: (e) => busy(e.currentTarget, async () => {
        await api("PUT", `/api/meetings/${meetingId}/agenda/${item.id}/conclusion`, { text: text.value, baseVersion: conclusion?.version ?? null });
        toast(t("common.saved"));
        refresh();
      }) })));
    } else body.append(conclusion?.text ? h("p.conclusion", conclusion.text) : h("p.muted", { i18n: "conclusion.none" }));
  }

  refresh();
  return { close, refresh };
}
