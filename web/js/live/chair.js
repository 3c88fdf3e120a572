// The chair's control strip: start and end the meeting, move through the agenda, present, and open the
// speakers and polls sheets; the minutes. The secretary has the same strip but for presenting (the
// server's rules: the meeting's and the items' status are the managers', presenting the chair's). On a
// phone the rare actions (the minutes, ending the meeting) fold into a "more" menu (the stylesheet decides).
import { h, clear, setAttr } from "../dom.js";
import { icon } from "../icons.js";
import { busy, confirmAction, popover } from "../ui.js";
import { isChair, isManager, isPresenting, activeItem, nextItem, activeQueue } from "./state.js";
import { whenChanged } from "./panel.js";

/** `send(msg)` sends a room command; `onPresent`, `onStopPresenting`, `onSpeakers`, `onPolls` act on the screen. */
export function chairPanel({ meetingId, send, onPresent, onStopPresenting, onSpeakers, onPolls }) {
  const el = h("div.chair-strip", { hidden: true });
  const command = (msg) => (e) => busy(e.currentTarget, () => send(msg));
  const moreButton = h("button.secondary.chair-more-toggle", { type: "button", "aria-controls": "chair-more" }, icon("more"));
  setAttr(moreButton, "aria-label", "chair.more");
  const more = h("div.chair-more", { id: "chair-more" });
  const moreMenu = popover(moreButton, more);
  more.addEventListener("click", (e) => {
    if (e.target.closest("button, a")) moreMenu.close();
  });

  const pick = (s) => [s.role, s.meeting.status, s.items, Boolean(s.view), isPresenting(s), activeQueue(s).length, s.polls];
  const render = whenChanged(pick, (s) => {
    el.hidden = !isManager(s);
    if (el.hidden) return;
    clear(el);
    const chair = isChair(s);
    const { status } = s.meeting;
    const group = h("div.tool-group");
    if (status === "scheduled") group.append(h("button.primary", { type: "button", i18n: "chair.start", onclick: command({ type: "meeting.status", status: "live" }) }));
    if (status === "live") {
      const next = nextItem(s);
      const active = activeItem(s);
      if (next) group.append(h("button.secondary", { type: "button", onclick: command({ type: "agenda.item", itemId: next.id, status: "active" }) }, h("span", { i18n: "chair.nextItem" }), h("span.muted.small.next-title", next.title)));
      else if (active) group.append(h("button.secondary", { type: "button", i18n: "chair.finishItem", onclick: command({ type: "agenda.item", itemId: active.id, status: "done" }) }));
      if (chair && s.view && !isPresenting(s)) group.append(h("button.primary.present", { type: "button", i18n: "chair.present", onclick: onPresent }));
      if (chair && isPresenting(s)) group.append(h("button.secondary", { type: "button", i18n: "chair.stopPresenting", onclick: onStopPresenting }));
    }
    const waiting = activeQueue(s).length;
    if (status === "live" || status === "scheduled") group.append(h("button.secondary", { type: "button", onclick: onSpeakers }, h("span", { i18n: "chair.speakers" }), waiting ? h("span.count-badge", String(waiting)) : null));
    group.append(h("button.secondary", { type: "button", onclick: onPolls }, h("span", { i18n: "chair.polls" }), s.polls.some((p) => p.state === "open") ? h("span.count-badge", "●") : null));
    clear(more).append(h("a.button.ghost", { href: `/api/meetings/${meetingId}/minutes/pdf`, target: "_blank", rel: "noopener", i18n: "chair.minutes" }));
    if (status === "live") more.append(h("button.ghost.danger", { type: "button", i18n: "chair.end", onclick: async (e) => {
      if (await confirmAction("chair.confirmEnd", null, "chair.end", true)) command({ type: "meeting.status", status: "ended" })(e);
    } }));
    group.append(moreButton, more);
    el.append(group);
  });

  return { el, render };
}
