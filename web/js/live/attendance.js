// The room in the sidebar: the quorum, one's own check-in while not yet present, and who is connected.
import { h, clear } from "../dom.js";
import { api } from "../api.js";
import { busy, quorumLine } from "../ui.js";
import { canCheckIn } from "./state.js";
import { whenChanged } from "./panel.js";

export function attendancePanel({ meetingId }) {
  const el = h("div.side-room");
  const checkIn = (attendance) => (e) => busy(e.currentTarget, () => api("PUT", `/api/meetings/${meetingId}/attendance/me`, { attendance }));

  const render = whenChanged((s) => [s.quorum, s.presence, s.you, s.meeting], (s) => {
    clear(el);
    if (s.quorum) el.append(quorumLine(s.quorum));
    if (canCheckIn(s)) {
      el.append(h("div.checkin", h("p", { i18n: "live.notCheckedIn" }),
        h("div.checkin-buttons", h("button.primary", { type: "button", i18n: "attendance.in_room", onclick: checkIn("in_room") }),
          s.meeting.onlineAllowed ? h("button.secondary", { type: "button", i18n: "attendance.online", onclick: checkIn("online") }) : null)));
    }
    const online = s.presence.filter((p) => p.connected).length;
    if (s.presence.length) el.append(h("p.muted.small.connected-count", { i18n: ["live.connected", { n: online, total: s.presence.length }] }));
  });

  return { el, render };
}
