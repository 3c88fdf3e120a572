// The editor's details tab: title, times in the meeting's time zone, place, description, online
// attendance and quorum; creating a meeting starts here.
import { h, setText, field, setAttr } from "../dom.js";
import { api, errorText } from "../api.js";
import { t } from "../i18n.js";
import { busy, toast } from "../ui.js";
import { toLocalInput, fromLocalInput } from "../time.js";

const DEFAULT_ZONE = "Asia/Ho_Chi_Minh";

export function detailsTab({ meeting, body, navigate, setMeeting }) {
  const zone = meeting?.timezone || DEFAULT_ZONE;
  const tomorrow = new Date(Date.now() + 86400000);
  const defaultStart = toLocalInput(tomorrow.toISOString(), zone).slice(0, 11) + "08:00";
  const defaultEnd = defaultStart.slice(0, 11) + "11:30";
  const title = h("input", { name: "title", required: true, maxlength: 200, value: meeting?.title || "" });
  const location = h("input", { name: "location", maxlength: 200, value: meeting?.location || "" });
  const starts = h("input", { name: "startsAt", type: "datetime-local", required: true, value: meeting ? toLocalInput(meeting.startsAt, zone) : defaultStart });
  const ends = h("input", { name: "endsAt", type: "datetime-local", required: true, value: meeting ? toLocalInput(meeting.endsAt, zone) : defaultEnd });
  const description = h("textarea", { name: "description", rows: 4 });
  description.value = meeting?.description || "";
  const online = h("input", { name: "onlineAllowed", type: "checkbox", checked: meeting ? meeting.onlineAllowed : true });
  const quorum = h("input", { name: "quorum", type: "number", min: 1, max: 100, step: 1, value: Math.round((meeting?.quorumFraction ?? 0.5) * 100) });
  // Minutes in the form, seconds on the wire; empty: speeches are untimed.
  const limit = meeting?.speakingLimitSeconds;
  const speaking = h("input", { name: "speakingLimit", type: "number", min: 0.5, max: 120, step: 0.5, value: limit == null ? "" : String(limit / 60) });
  const save = h("button.primary", { type: "submit", i18n: meeting ? "common.save" : "editor.createAndContinue" });
  const error = h("p.form-error", { role: "alert", hidden: true });
  setAttr(title, "placeholder", "editor.titlePlaceholder");
  const readOnly = meeting && !["draft", "scheduled"].includes(meeting.status);

  const form = h(
    "form.card.details-form",
    {
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        error.hidden = true;
        if (!title.value.trim()) {
          error.hidden = false;
          setText(error, "editor.titleRequired");
          title.focus();
          return;
        }
        const data = {
          title: title.value.trim(),
          location: location.value.trim(),
          description: description.value,
          startsAt: fromLocalInput(starts.value, zone),
          endsAt: fromLocalInput(ends.value, zone),
          onlineAllowed: online.checked,
          quorumFraction: Math.min(1, Math.max(0.01, Number(quorum.value) / 100)),
          speakingLimitSeconds: speaking.value === "" ? null : Math.min(7200, Math.max(10, Math.round(Number(speaking.value) * 60))),
        };
        if (!data.startsAt || !data.endsAt) {
          error.hidden = false;
          setText(error, "editor.timesRequired");
          return;
        }
        busy(save, async () => {
          try {
            if (meeting) {
              setMeeting(await api("PATCH", `/api/meetings/${meeting.id}`, data));
              toast(t("common.saved"));
            } else {
              const created = await api("POST", "/api/meetings/", { ...data, timezone: zone });
              navigate(`#/meetings/${created.id}/edit/agenda`);
            }
          } catch (err) {
            error.hidden = false;
            error.textContent = errorText(err);
          }
        });
      },
    },
    field("editor.field.title", title),
    h("div.row2", field("editor.field.startsAt", starts), field("editor.field.endsAt", ends)),
    field("editor.field.location", location),
    field("editor.field.description", description),
    h(
      "div.row2",
      h("label.check", online, h("span", { i18n: "editor.field.onlineAllowed" })),
      field("editor.field.quorum", quorum, "editor.field.quorumHint")
    ),
    field("editor.field.speakingLimit", speaking, "editor.field.speakingLimitHint"),
    h("p.muted.small", { i18n: ["editor.timezoneNote", { zone }] }),
    error,
    readOnly ? h("p.muted.read-only", { i18n: meeting.status === "live" ? "editor.detailsLive" : "error.meetingClosed" }) : h("div.form-actions", save)
  );
  if (readOnly) for (const el of form.querySelectorAll("input,textarea")) el.disabled = true;
  body.append(form);
  if (!meeting) title.focus();
}
