// The participants tab's mail panel: for the chair and secretary, what each participant was sent by
// e-mail (invitation, update, cancellation, reminder) and how it went — sent, failed with the server's
// reason, or when it is tried again. Says so plainly when the server has no mail configured.
import { h, clear } from "../dom.js";
import { api, errorText } from "../api.js";
import { formatDateTime, formatTime } from "../ui.js";

/** The panel's element and `load()`, which fetches and redraws it (after a participant changes, say). */
export function invitationsPanel(meeting) {
  const status = h("div.mail-status");
  const list = h("ul.mail-list");
  const refresh = h("button.ghost", { type: "button", i18n: "mail.refresh", onclick: () => load() });
  const panel = h(
    "section.card.mail-panel",
    { "aria-live": "polite" },
    h("div.card-head", h("h3", { i18n: "mail.title" }), refresh),
    status,
    list
  );
  // "13:07 03/12" in the meeting's time zone: the day matters for retries and reminders.
  const when = (iso) => `${formatTime(iso, meeting.timezone)} ${formatDateTime(iso, meeting.timezone, { day: "2-digit", month: "2-digit" })}`;

  function describe(message) {
    switch (message.state) {
      case "sent":
        return ["mail.state.sent", { time: when(message.sentAt) }];
      case "failed":
        return ["mail.state.failed", { reason: message.lastError }];
      case "sending":
        return ["mail.state.sending"];
      case "superseded":
        return ["mail.state.superseded"];
      default:
        return message.attempts > 0
          ? ["mail.state.retrying", { time: when(message.nextAttemptAt), attempts: message.attempts, reason: message.lastError }]
          : ["mail.state.queued", { time: when(message.nextAttemptAt) }];
    }
  }

  function row(person, mailEnabled) {
    // The newest message that still means something; a replaced one only when there is nothing else.
    const shown = [...person.messages].reverse().find((m) => m.state !== "superseded") || person.messages.at(-1);
    let state;
    if (!person.email) state = h("span.muted", { i18n: "mail.noAddress" });
    else if (shown) {
      state = h(
        "span.mail-state",
        { dataset: { state: shown.state } },
        h("span.badge", { i18n: `mail.kind.${shown.kind}` }),
        " ",
        h("span", { i18n: describe(shown) })
      );
    } else state = h("span.muted", { i18n: mailEnabled ? "mail.notSent" : "mail.off.short" });
    return h(
      "li",
      { dataset: { user: String(person.userId), state: shown?.state || "none" } },
      h(
        "div.mail-who",
        h("strong", person.displayName),
        person.participantId === null ? h("span.muted.small", { i18n: "mail.removed" }) : null,
        h("div.muted.small", person.email || "")
      ),
      h("div.mail-what", state)
    );
  }

  async function load() {
    let read;
    try {
      read = await api("GET", `/api/meetings/${meeting.id}/invitations`);
    } catch (err) {
      clear(status).append(h("p.form-error", errorText(err)));
      return;
    }
    clear(status);
    if (!read.mailEnabled) status.append(h("p.notice.mail-off", { i18n: "mail.off" }));
    else {
      if (meeting.status === "draft") status.append(h("p.hint", { i18n: "mail.draftHint" }));
      status.append(
        h("p.hint.small", { i18n: read.reminderHours > 0 ? ["mail.reminders", { hours: read.reminderHours }] : "mail.noReminders" })
      );
    }
    clear(list);
    for (const person of read.participants) list.append(row(person, read.mailEnabled));
  }

  return { panel, load };
}
