// The speaker queue: the toolbar's chip (who speaks, the countdown, how many wait) and floor button, and
// the sheet with the active item's queue, where the chair gives the floor (with a time of its own if
// chosen), adds a minute, ends speeches and reorders.
import { h, clear, append, setText, setAttr } from "../dom.js";
import { icon } from "../icons.js";
import { busy } from "../ui.js";
import { isChair, isMember, isSpeaking, queuePosition, floorCommand, speechTimer, activeQueue } from "./state.js";
import { whenChanged, sheet } from "./panel.js";

// The speaker's own time the chair may choose when granting, in minutes ("" : the item's or meeting's).
const GRANT_MINUTES = ["", 1, 2, 3, 5, 10];

/** Put the timer's text and look (running, warning: amber, overrun: red) on a `.speak-timer`. */
function showTimer(span, timer) {
  span.textContent = timer.text;
  span.dataset.phase = timer.phase || "";
}

function timer(s) {
  const span = h("span.speak-timer", { role: "timer" });
  showTimer(span, speechTimer(s, performance.now()));
  return span;
}

/** `send(msg)` sends a room command; the sheet opens over `panels`. */
export function speakersPanel({ send, panels }) {
  let state = null;
  let open = null; // the sheet, while shown
  const chip = h("button.speaker-chip", { type: "button", onclick: () => toggle() });
  const floorText = h("span");
  const floor = h("button.floor", { type: "button", onclick: (e) => busy(e.currentTarget, () => send({ type: floorCommand(state) })) }, icon("hand"), floorText);
  const command = (msg) => (e) => busy(e.currentTarget, () => send(msg));
  let grantMinutes = ""; // the chair's choice in the sheet, kept while it is redrawn
  const grant = (userId) => (e) => {
    const msg = { type: "speaker.grant", userId };
    if (grantMinutes !== "") msg.limitSeconds = Number(grantMinutes) * 60;
    busy(e.currentTarget, () => send(msg));
  };

  const renderChip = whenChanged((s) => [s.speakers, s.you, s.role, s.items], (s) => {
    const sp = s.speakers;
    clear(chip);
    if (sp.speaking) chip.append(icon("mic"), h("span.speaker-name", sp.speaking.displayName), timer(s));
    else chip.append(icon("mic"), h("span.muted", { i18n: "speakers.nobody" }));
    const waiting = activeQueue(s).length;
    if (waiting) chip.append(h("span.queue-count", { i18n: ["speakers.waitingCount", { n: waiting }] }));
    chip.classList.toggle("mine", isSpeaking(s));
    const position = queuePosition(s);
    floor.className = `floor ${isSpeaking(s) ? "speaking" : position >= 0 ? "waiting" : ""}`;
    if (isSpeaking(s)) setText(floorText, "speakers.endMine");
    else if (position >= 0) setText(floorText, "speakers.withdraw", { n: position + 1 });
    else setText(floorText, "speakers.request");
    // The chair gives the floor rather than asking for it.
    floor.hidden = !isMember(s) || isChair(s);
  });

  function queueRow(s, w, i) {
    const waiting = activeQueue(s);
    const move = (delta) => (e) => {
      const ids = waiting.map((x) => x.userId);
      ids.splice(i, 1);
      ids.splice(i + delta, 0, w.userId);
      busy(e.currentTarget, () => send({ type: "speaker.reorder", userIds: ids }));
    };
    const up = h("button.ghost.icon-only", { type: "button", disabled: i === 0, onclick: move(-1) }, "↑");
    const down = h("button.ghost.icon-only", { type: "button", disabled: i === waiting.length - 1, onclick: move(1) }, "↓");
    setAttr(up, "aria-label", "speakers.up");
    setAttr(down, "aria-label", "speakers.down");
    return h("li", { dataset: { user: w.userId } }, h("span.queue-name", `${i + 1}. ${w.displayName}`),
      isChair(s) ? h("span.queue-actions", waiting.length > 1 ? [up, down] : null,
        h("button.primary", { type: "button", i18n: "speakers.grant", onclick: grant(w.userId) })) : null);
  }

  function openSheet() {
    const { el, body } = sheet(panels, "speakers-panel", h("h3", { i18n: "speakers.title" }), () => toggle());
    const renderBody = whenChanged((s) => [s.speakers, s.you, s.role, s.items], (s) => {
      const sp = s.speakers;
      const waiting = activeQueue(s);
      // "+1 phút" for a timed speech; an untimed one has no end to move.
      const extend = isChair(s) && sp.limitSeconds != null
        ? h("button.secondary.extend", { type: "button", i18n: "speakers.extend", onclick: command({ type: "speaker.extend" }) })
        : null;
      const choose = h("select.grant-time", { onchange: (e) => { grantMinutes = e.currentTarget.value; } },
        GRANT_MINUTES.map((m) => h("option", { value: String(m), selected: String(m) === String(grantMinutes), i18n: m === "" ? "speakers.timeDefault" : ["speakers.timeMinutes", { n: m }] })));
      setAttr(choose, "aria-label", "speakers.grantTime");
      // dom.js append, which skips the parts left out (null), as Element.append would not.
      append(clear(body), [
        h("h4", { i18n: "speakers.speaking" }),
        sp.speaking
          ? h("div.speaking-now", { dataset: { user: sp.speaking.userId } }, h("strong", sp.speaking.displayName), timer(s),
              h("span.speaking-actions", extend,
                isChair(s) || isSpeaking(s) ? h("button.secondary", { type: "button", i18n: "speakers.end", onclick: command({ type: "speaker.end" }) }) : null))
          : h("p.muted", { i18n: "speakers.nobody" }),
        h("h4", { i18n: ["speakers.queue", { n: waiting.length }] }),
        isChair(s) && waiting.length ? h("label.grant-time-row", h("span", { i18n: "speakers.grantTime" }), choose) : null,
        waiting.length ? h("ol.queue", waiting.map((w, i) => queueRow(s, w, i))) : h("p.muted", { i18n: "speakers.empty" }),
      ]);
    });
    renderBody(state);
    return { el, render: renderBody };
  }

  /** Open the sheet, or close it when open. */
  function toggle() {
    if (open) {
      open.el.remove();
      open = null;
    } else open = openSheet();
  }

  function render(s, options) {
    state = s;
    renderChip(s, options);
    open?.render(s, options);
  }

  /** Count the speaker's time on (down, or the overrun up), once a second. */
  function tick() {
    if (!state) return;
    const now = speechTimer(state, performance.now());
    for (const box of [chip, open?.el]) for (const span of box?.querySelectorAll(".speak-timer") || []) showTimer(span, now);
  }

  return { chip, floor, toggle, render, tick };
}
