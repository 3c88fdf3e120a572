// The editor's roll call: each participant present, online or absent (with a reason), and the quorum.
import { h, clear, field } from "../dom.js";
import { api } from "../api.js";
import { showError, dialog, quorumLine } from "../ui.js";

export function attendanceTab({ meeting, body }) {
  const box = h("div.attendance");
  body.append(box);
  const open = ["scheduled", "live"].includes(meeting.status);

  async function load() {
    try {
      render(await api("GET", `/api/meetings/${meeting.id}/attendance`));
    } catch (err) {
      showError(err);
    }
  }

  function render({ participants, quorum }) {
    clear(box);
    box.append(quorumLine(quorum));
    if (!open) box.append(h("p.notice", { i18n: "error.attendanceNotOpen" }));
    const rows = h("ul.rollcall");
    for (const p of participants) {
      const set = (attendance, reason = "") =>
        api("PUT", `/api/meetings/${meeting.id}/participants/${p.id}/attendance`, { attendance, reason }).then(load, showError);
      const choice = (value, key) =>
        h(`button.seg${p.attendance === value ? ".on" : ""}`, {
          type: "button",
          "aria-pressed": String(p.attendance === value),
          disabled: !open,
          dataset: { value },
          i18n: key,
          onclick: async () => {
            if (value !== "absent") return set(value);
            const reason = h("textarea", { rows: 3, maxlength: 500 });
            const ok = await dialog({
              titleKey: "attendance.reasonTitle",
              titleParams: { name: p.displayName },
              body: field("attendance.reason", reason),
              buttons: [
                { key: "common.cancel", value: false },
                { key: "attendance.markAbsent", value: true, kind: "primary" },
              ],
            });
            if (ok) set("absent", reason.value.trim());
          },
        });
      rows.append(
        h(
          "li",
          { dataset: { user: p.username, attendance: p.attendance } },
          h(
            "div.who",
            h("strong", p.displayName),
            h("span.muted.small", { i18n: `role.${p.role}` }),
            p.voting ? null : h("span.badge", { i18n: "participants.nonVoting" }),
            p.absenceReason ? h("span.muted.small.reason", `“${p.absenceReason}”`) : null
          ),
          h(
            "div.segmented",
            { role: "group" },
            choice("in_room", "attendance.in_room"),
            meeting.onlineAllowed ? choice("online", "attendance.online") : null,
            choice("absent", "attendance.absent")
          )
        )
      );
    }
    box.append(rows);
  }
  load();
}
