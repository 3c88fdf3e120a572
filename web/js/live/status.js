// The top bar's state at a glance: whether the meeting is live, and whether one follows the presenter.
import { h, clear } from "../dom.js";
import { icon } from "../icons.js";
import { meetingBadge } from "../ui.js";
import { isPresenting } from "./state.js";
import { whenChanged } from "./panel.js";

/** `onBack()` returns to the presenter's page after browsing. */
export function statusPanel({ onBack }) {
  const live = h("span.live-state");
  const follow = h("div.follow");

  const renderLive = whenChanged((s) => [s.meeting.status], (s) => clear(live).append(meetingBadge(s.meeting.status)));

  const renderFollow = whenChanged((s) => [s.presenter, s.you, s.following], (s) => {
    clear(follow);
    if (isPresenting(s)) {
      follow.append(h("span.follow-state.presenting", { i18n: "follow.presenting" }));
    } else if (!s.presenter.documentId) {
      follow.append(h("span.follow-state.idle", { i18n: "follow.nobody" }));
    } else if (s.following) {
      follow.append(h("span.follow-state.following", { role: "status" }, icon("follow"), h("span", { i18n: "follow.following" })));
    } else {
      follow.append(h("span.follow-state.browsing", { i18n: "follow.browsing" }),
        h("button.primary.back", { type: "button", onclick: onBack, i18n: "follow.back" }));
    }
  });

  function render(s, options) {
    renderLive(s, options);
    renderFollow(s, options);
  }

  return { nodes: [live, follow], render };
}
