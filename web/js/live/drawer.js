// The agenda, the documents and the room beside the page: a sidebar on a landscape tablet, a drawer from
// the top bar's button on an upright tablet or a phone (the stylesheet decides which), so that there the
// page has the whole width. The drawer closes itself once something in it is chosen, and opens by itself
// while one has not checked in: the check-in buttons are in it.
import { h, setAttr } from "../dom.js";
import { icon } from "../icons.js";
import { popover } from "../ui.js";
import { canCheckIn } from "./state.js";
import { whenChanged } from "./panel.js";

/** `agenda`, `documents` and `attendance` are the panels the drawer holds. */
export function drawerPanel({ agenda, documents, attendance }) {
  const el = h(
    "aside.sidebar",
    { id: "live-drawer" },
    h("section.side-section", h("h3", { i18n: "live.agenda" }), agenda.el),
    h("section.side-section", h("h3", { i18n: "live.documents" }), documents.el),
    attendance.el
  );
  const toggle = h("button.ghost.drawer-toggle", { type: "button", "aria-controls": "live-drawer" }, icon("menu"));
  setAttr(toggle, "aria-label", "live.drawer");
  // The dimmed page beside the open drawer: a tap there closes the drawer and reaches nothing under it.
  const scrim = h("div.drawer-scrim");
  const drawer = popover(toggle, el);
  el.addEventListener("click", (e) => {
    if (e.target.closest("button")) drawer.close();
  });

  const render = whenChanged((s) => [canCheckIn(s)], (s) => {
    toggle.classList.toggle("attention", canCheckIn(s));
    if (canCheckIn(s)) drawer.open();
  });

  return { el, toggle, scrim, render };
}
