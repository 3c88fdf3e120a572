// The secretary's preparation screen: the meeting's head (state and its actions, the minutes' steps and
// signatures) and tabs, one module each under editor/: details, agenda (drag to reorder), participants,
// roll call, documents.
import { h, clear } from "../dom.js";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { showError, busy, toast, confirmAction, meetingBadge, formatWhen } from "../ui.js";
import { detailsTab } from "../editor/details.js";
import { agendaTab } from "../editor/agenda.js";
import { participantsTab } from "../editor/participants.js";
import { attendanceTab } from "../editor/attendance.js";
import { documentsTab } from "../editor/documents.js";
import { signingSteps } from "../editor/signing.js";

const TABS = ["details", "agenda", "participants", "attendance", "documents"];

export function editorScreen(shell, { id, tab }, { navigate }) {
  shell.main.classList.add("editor-screen");
  const body = h("div.editor-body");
  const tabs = h("nav.tabs", { role: "tablist" });
  const head = h("div.editor-head");
  shell.main.append(h("div.page.wide", head, tabs, body));
  let meeting = null;
  let cleanup = null;

  function renderHead() {
    clear(head);
    if (!meeting) {
      head.append(h("h2", { i18n: "editor.newMeeting" }));
      shell.setTitle(h("h1.title", { i18n: "editor.newMeeting" }));
      return;
    }
    shell.setTitle(h("h1.title", meeting.title));
    shell.setStatus(meetingBadge(meeting.status));
    const actions = h("div.head-actions");
    const status = (target, key, kind = "secondary") =>
      h(`button.${kind}`, {
        type: "button",
        i18n: key,
        onclick: (e) =>
          busy(e.currentTarget, async () => {
            if (target === "cancelled" && !(await confirmAction("editor.confirmCancel", { title: meeting.title }, "editor.cancelMeeting", true))) return;
            meeting = await api("POST", `/api/meetings/${meeting.id}/status`, { status: target });
            renderHead();
            toast(t("editor.statusChanged", { status: t(`meeting.status.${meeting.status}`) }));
          }),
      });
    if (meeting.status === "draft") actions.append(status("scheduled", "editor.schedule", "primary"));
    if (meeting.status === "scheduled") actions.append(status("draft", "editor.backToDraft"));
    if (["draft", "scheduled"].includes(meeting.status)) actions.append(status("cancelled", "editor.cancelMeeting", "ghost.danger"));
    if (["ended", "archived"].includes(meeting.status)) actions.append(...minutesSteps());
    if (meeting.status === "ended" && meeting.minutesStatus === "approved") actions.append(status("archived", "editor.archive"));
    if (["live", "ended", "archived"].includes(meeting.status))
      actions.append(h("a.button.secondary", { href: `/api/meetings/${meeting.id}/minutes/pdf`, target: "_blank", rel: "noopener", i18n: "chair.minutes" }));
    if (meeting.status === "archived") actions.append(h("a.button.secondary", { href: `/api/meetings/${meeting.id}/archive`, download: "", i18n: "editor.archivePackage" }));
    if (["scheduled", "live", "ended"].includes(meeting.status))
      actions.append(h("a.button.primary", { href: `#/meetings/${meeting.id}`, i18n: "editor.openRoom" }));
    head.append(
      h(
        "div.head-info",
        h("p.when", formatWhen(meeting.startsAt, meeting.endsAt, meeting.timezone)),
        meeting.location ? h("p.muted", meeting.location) : null
      ),
      actions
    );
  }

  // After the meeting: the secretary submits the minutes, the chair returns or approves them; approval
  // makes the whole record read-only, so it asks first.
  function minutesSteps() {
    const role = meeting.myRole;
    const step = (path, key, kind, confirmKey) =>
      h(`button.${kind}`, {
        type: "button",
        i18n: key,
        onclick: (e) =>
          busy(e.currentTarget, async () => {
            if (confirmKey && !(await confirmAction(confirmKey, { title: meeting.title }, key))) return;
            await api("POST", `/api/meetings/${meeting.id}/minutes/${path}`);
            meeting = await api("GET", `/api/meetings/${meeting.id}`);
            renderHead();
            toast(t(`minutes.status.${meeting.minutesStatus}`));
          }),
      });
    const steps = [h(`span.badge.minutes-${meeting.minutesStatus}`, { i18n: `minutes.status.${meeting.minutesStatus}` })];
    if (meeting.minutesStatus === "draft" && ["secretary", "chair"].includes(role)) steps.push(step("submit", "minutes.submit", "primary"));
    if (meeting.minutesStatus === "submitted" && role === "chair")
      steps.push(step("return", "minutes.return", "ghost"), step("approve", "minutes.approve", "primary", "minutes.confirmApprove"));
    if (meeting.minutesStatus === "approved")
      steps.push(
        signingSteps(meeting, async () => {
          meeting = await api("GET", `/api/meetings/${meeting.id}`);
          renderHead();
        })
      );
    return steps;
  }

  function renderTabs() {
    clear(tabs);
    for (const name of TABS) {
      const enabled = meeting || name === "details";
      tabs.append(
        h(`a.tab${name === tab ? ".active" : ""}`, {
          role: "tab",
          "aria-selected": String(name === tab),
          "aria-disabled": enabled ? null : "true",
          href: enabled ? `#/meetings/${meeting ? meeting.id : "new"}${meeting ? `/edit/${name}` : ""}` : null,
          i18n: `editor.tab.${name}`,
        })
      );
    }
  }

  async function start() {
    if (id) {
      try {
        meeting = await api("GET", `/api/meetings/${id}`);
      } catch (err) {
        showError(err);
        return;
      }
    }
    renderHead();
    renderTabs();
    const ctx = { meeting, body, navigate, setMeeting: (m) => ((meeting = m), renderHead()) };
    const view = { details: detailsTab, agenda: agendaTab, participants: participantsTab, attendance: attendanceTab, documents: documentsTab }[tab] || detailsTab;
    cleanup = view(ctx);
  }
  start();
  return {
    unmount: () => cleanup?.unmount?.(),
    onLang: () => {
      if (meeting) renderHead(); // dates follow the language
      cleanup?.onLang?.();
    },
  };
}
