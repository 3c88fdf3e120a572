// The agenda in the sidebar: items and sub-items with their state; the chair or secretary activates one from here.
import { h, clear } from "../dom.js";
import { t } from "../i18n.js";
import { busy } from "../ui.js";
import { isManager } from "./state.js";
import { whenChanged } from "./panel.js";

/** `send(msg)` sends a room command; `onOpen(item)` opens the item's sheet. */
export function agendaPanel({ send, onOpen }) {
  const el = h("ol.agenda-live");

  const render = whenChanged((s) => [s.items, s.role, s.meeting.status], (s) => {
    clear(el);
    const activate = isManager(s) && s.meeting.status === "live";
    const row = (it, num) =>
      h(`li.item-${it.status}${it.parentId ? ".sub" : ""}`, { dataset: { id: it.id, status: it.status } },
        h("button.item-open", { type: "button", onclick: () => onOpen(it) },
          h("span.num", num), h("span.item-title", it.title),
          it.status === "done" ? h("span.done-mark", { "aria-label": t("item.status.done") }, "✓") : null,
          it.status === "active" ? h("span.active-mark", "●") : null),
        activate && it.status !== "active"
          ? h("button.ghost.activate", { type: "button", i18n: "live.activate", onclick: (e) => busy(e.currentTarget, () => send({ type: "agenda.item", itemId: it.id, status: "active" })) })
          : null);
    s.items.filter((i) => !i.parentId).forEach((item, index) => {
      el.append(row(item, `${index + 1}.`));
      s.items.filter((c) => c.parentId === item.id).forEach((c, ci) => el.append(row(c, `${index + 1}.${ci + 1}`)));
    });
  });

  return { el, render };
}
