// The stage's card while no document is open: the meeting's state, else the active item to pick from.
import { h, clear } from "../dom.js";
import { meetingBadge } from "../ui.js";
import { activeItem, isManager } from "./state.js";
import { whenChanged } from "./panel.js";

export function stagePanel() {
  const el = h("div.stage-empty");

  const card = whenChanged((s) => [s.meeting, s.items, s.role], (s) => {
    clear(el);
    const { meeting } = s;
    const active = activeItem(s);
    if (meeting.status !== "live") {
      el.append(h("div.stage-card", h("p.kicker", meetingBadge(meeting.status)), h("h2", meeting.title),
        h("p.muted", { i18n: meeting.status === "ended" ? "live.ended" : meeting.status === "scheduled" && isManager(s) ? "live.waitChair" : "live.waitStart" })));
    } else if (!active) {
      el.append(h("div.stage-card", h("h2", meeting.title), h("p.muted", { i18n: "live.noActiveItem" })));
    } else {
      el.append(h("div.stage-card", h("p.kicker", { i18n: "live.activeItem" }), h("h2", active.title), active.presenter ? h("p.muted", active.presenter) : null,
        active.description ? h("p.description", active.description) : null, h("p.muted.small", { i18n: "live.pickDocument" })));
    }
  });

  function render(s, options) {
    // Once a document is open the page has the stage.
    el.hidden = Boolean(s.view);
    card(s, options);
  }

  return { el, render };
}
