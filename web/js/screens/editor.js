// The secretary's preparation screen: details, agenda (drag to reorder), participants, roll call.
import { h, clear, setText, field, setAttr } from "../dom.js";
import { api, session } from "../api.js";
import { t } from "../i18n.js";
import { showError, busy, toast, confirmAction, dialog, meetingBadge, formatWhen } from "../ui.js";
import { toLocalInput, fromLocalInput } from "../time.js";
import { documentsTab } from "./documents.js";

const TABS = ["details", "agenda", "participants", "attendance", "documents"];
const ROLES = ["chair", "secretary", "delegate", "guest"];
const DEFAULT_ZONE = "Asia/Ho_Chi_Minh";

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
    if (["live", "ended", "archived"].includes(meeting.status))
      actions.append(h("a.button.secondary", { href: `/api/meetings/${meeting.id}/minutes/pdf`, target: "_blank", rel: "noopener", i18n: "chair.minutes" }));
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

// ------------------------------------------------------------------------------------------- details

function detailsTab({ meeting, body, navigate, setMeeting }) {
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
            error.textContent = (await import("../api.js")).errorText(err);
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
    h("p.muted.small", { i18n: ["editor.timezoneNote", { zone }] }),
    error,
    readOnly ? h("p.muted", { i18n: "error.meetingClosed" }) : h("div.form-actions", save)
  );
  if (readOnly) for (const el of form.querySelectorAll("input,textarea")) el.disabled = true;
  body.append(form);
  if (!meeting) title.focus();
}

// -------------------------------------------------------------------------------------------- agenda

function agendaTab({ meeting, body }) {
  const list = h("ol.agenda-edit", { "aria-label": t("editor.tab.agenda") });
  let items = [];
  const editable = ["draft", "scheduled", "live"].includes(meeting.status);

  const newTitle = h("input", { name: "itemTitle", maxlength: 300 });
  const newPresenter = h("input", { name: "itemPresenter", maxlength: 200 });
  const newMinutes = h("input", { name: "itemMinutes", type: "number", min: 0, max: 1440, inputmode: "numeric" });
  setAttr(newTitle, "placeholder", "agenda.titlePlaceholder");
  setAttr(newPresenter, "placeholder", "agenda.presenterPlaceholder");
  setAttr(newMinutes, "placeholder", "agenda.minutesPlaceholder");
  const addButton = h("button.primary", { type: "submit", i18n: "agenda.add" });
  const addForm = h(
    "form.card.agenda-add",
    {
      onsubmit: (e) => {
        e.preventDefault();
        if (!newTitle.value.trim()) return newTitle.focus();
        busy(addButton, async () => {
          await api("POST", `/api/meetings/${meeting.id}/agenda/`, itemData(newTitle, newPresenter, newMinutes));
          newTitle.value = newPresenter.value = newMinutes.value = "";
          await load();
          newTitle.focus();
        });
      },
    },
    h("h3", { i18n: "agenda.addTitle" }),
    h("div.add-row", field("agenda.field.title", newTitle), field("agenda.field.presenter", newPresenter), field("agenda.field.minutes", newMinutes), addButton)
  );

  body.append(
    h("div.agenda-editor", h("p.muted", { i18n: editable ? "agenda.dragHint" : "error.meetingClosed" }), list, editable ? addForm : null)
  );

  function itemData(title, presenter, minutes, parentId) {
    const data = { title: title.value.trim(), presenter: presenter.value.trim() };
    if (minutes.value !== "") data.plannedMinutes = Number(minutes.value);
    if (parentId) data.parentId = parentId;
    return data;
  }

  async function load() {
    try {
      items = await api("GET", `/api/meetings/${meeting.id}/agenda/`);
      render();
    } catch (err) {
      showError(err);
    }
  }

  function render() {
    clear(list);
    const tops = items.filter((i) => !i.parentId);
    if (!tops.length) list.append(h("li.empty.muted", { i18n: "agenda.empty" }));
    tops.forEach((item, index) => {
      const children = items.filter((c) => c.parentId === item.id);
      const childList = h("ol.agenda-children");
      children.forEach((child, ci) => childList.append(row(child, `${index + 1}.${ci + 1}`)));
      const li = row(item, `${index + 1}.`, childList);
      list.append(li);
    });
  }

  function row(item, number, childList) {
    const li = h("li.agenda-row", { dataset: { id: item.id, status: item.status } });
    const handle = h("button.handle", {
      type: "button",
      "aria-label": t("agenda.dragHandle", { title: item.title }),
      onpointerdown: (e) => editable && startDrag(e, li),
      onkeydown: (e) => editable && keyMove(e, li),
    }, "⠿");
    const meta = [item.presenter, item.plannedMinutes != null ? t("agenda.minutes", { n: item.plannedMinutes }) : null].filter(Boolean).join(" · ");
    const line = h(
      "div.agenda-line",
      editable ? handle : null,
      h("span.num", number),
      h("div.agenda-text", h("span.agenda-title", item.title), meta ? h("span.agenda-meta", meta) : null),
      item.status !== "pending" ? h(`span.badge.item-${item.status}`, { i18n: `item.status.${item.status}` }) : null,
      editable
        ? h(
            "div.row-actions",
            childList ? h("button.ghost", { type: "button", onclick: () => subForm(li, item), i18n: "agenda.addSub" }) : null,
            h("button.ghost", { type: "button", onclick: () => editForm(li, item), i18n: "common.edit" }),
            h("button.ghost.danger", {
              type: "button",
              i18n: "common.delete",
              onclick: (e) =>
                busy(e.currentTarget, async () => {
                  if (!(await confirmAction("agenda.confirmDelete", { title: item.title }, "common.delete", true))) return;
                  await api("DELETE", `/api/meetings/${meeting.id}/agenda/${item.id}`);
                  await load();
                }),
            })
          )
        : null
    );
    li.append(line);
    if (childList) li.append(childList);
    return li;
  }

  function inlineForm(li, item, parentId) {
    li.querySelector(".inline-form")?.remove();
    const title = h("input", { maxlength: 300, value: parentId ? "" : item.title });
    const presenter = h("input", { maxlength: 200, value: parentId ? "" : item.presenter });
    const minutes = h("input", { type: "number", min: 0, max: 1440, value: parentId || item.plannedMinutes == null ? "" : item.plannedMinutes });
    const save = h("button.primary", { type: "submit", i18n: parentId ? "agenda.add" : "common.save" });
    const form = h(
      "form.inline-form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          if (!title.value.trim()) return title.focus();
          busy(save, async () => {
            if (parentId) await api("POST", `/api/meetings/${meeting.id}/agenda/`, itemData(title, presenter, minutes, parentId));
            else {
              const data = itemData(title, presenter, minutes);
              if (minutes.value === "") data.plannedMinutes = null;
              await api("PATCH", `/api/meetings/${meeting.id}/agenda/${item.id}`, data);
            }
            await load();
          });
        },
      },
      h("div.add-row", field("agenda.field.title", title), field("agenda.field.presenter", presenter), field("agenda.field.minutes", minutes), save, h("button.ghost", { type: "button", onclick: () => form.remove(), i18n: "common.cancel" }))
    );
    li.querySelector(".agenda-line").after(form);
    title.focus();
  }
  const subForm = (li, item) => inlineForm(li, item, item.id);
  const editForm = (li, item) => inlineForm(li, item, null);

  // Drag with pointer events (touch, pen and mouse alike): the row follows the finger and swaps
  // places with a sibling once its centre passes the sibling's; the order is saved on release.
  function startDrag(event, li) {
    if (event.button !== 0) return;
    event.preventDefault();
    const handle = event.currentTarget;
    handle.setPointerCapture(event.pointerId);
    const container = li.parentElement;
    const startY = event.clientY;
    const startTop = li.offsetTop;
    const before = orderKey();
    li.classList.add("dragging");
    container.classList.add("drag-active");
    let shift = 0;

    const move = (e) => {
      shift = e.clientY - startY - (li.offsetTop - startTop);
      li.style.transform = `translateY(${shift}px)`;
      const centre = li.offsetTop + shift + li.offsetHeight / 2;
      const prev = li.previousElementSibling;
      const next = li.nextElementSibling;
      if (prev && centre < prev.offsetTop + prev.offsetHeight / 2) container.insertBefore(li, prev);
      else if (next && centre > next.offsetTop + next.offsetHeight / 2) container.insertBefore(next, li);
      else return;
      shift = e.clientY - startY - (li.offsetTop - startTop);
      li.style.transform = `translateY(${shift}px)`;
    };
    const end = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", end);
      handle.removeEventListener("pointercancel", end);
      li.classList.remove("dragging");
      container.classList.remove("drag-active");
      li.style.transform = "";
      if (orderKey() !== before) saveOrder();
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  function keyMove(e, li) {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    e.preventDefault();
    const container = li.parentElement;
    if (e.key === "ArrowUp" && li.previousElementSibling) container.insertBefore(li, li.previousElementSibling);
    else if (e.key === "ArrowDown" && li.nextElementSibling) container.insertBefore(li.nextElementSibling, li);
    else return;
    saveOrder().then(() => list.querySelector(`li[data-id="${li.dataset.id}"] .handle`)?.focus());
  }

  function currentOrder() {
    return [...list.children]
      .filter((li) => li.dataset.id)
      .map((li) => ({
        id: Number(li.dataset.id),
        children: [...(li.querySelector(".agenda-children")?.children || [])].map((c) => Number(c.dataset.id)),
      }));
  }
  const orderKey = () => JSON.stringify(currentOrder());

  async function saveOrder() {
    try {
      items = await api("PUT", `/api/meetings/${meeting.id}/agenda/order`, { items: currentOrder() });
      toast(t("agenda.orderSaved"));
    } catch (err) {
      showError(err);
      await load();
      return;
    }
    render();
  }

  load();
}

// -------------------------------------------------------------------------------------- participants

function participantsTab({ meeting, body }) {
  const table = h("tbody");
  const pickerList = h("ul.user-picker");
  const filter = h("input", { type: "search", name: "userFilter" });
  setAttr(filter, "placeholder", "participants.filter");
  const role = h("select", { name: "newRole" }, ROLES.map((r) => h("option", { value: r, selected: r === "delegate", i18n: `role.${r}` })));
  let participants = [];
  let users = null;
  const manage = meeting.myRole === "chair" || meeting.myRole === "secretary" || session.user?.role === "admin";

  body.append(
    h(
      "div.two-col",
      h(
        "section.card",
        h("h3", { i18n: "participants.title" }),
        h(
          "table.table.participants",
          h("thead", h("tr", h("th", { i18n: "participants.name" }), h("th", { i18n: "participants.role" }), h("th", { i18n: "participants.voting" }), h("th"))),
          table
        )
      ),
      manage
        ? h(
            "section.card.picker",
            h("h3", { i18n: "participants.add" }),
            h("div.picker-controls", field("participants.filterLabel", filter), field("participants.roleLabel", role)),
            pickerList
          )
        : null
    )
  );
  filter.addEventListener("input", renderPicker);

  async function load() {
    try {
      participants = await api("GET", `/api/meetings/${meeting.id}/participants`);
      renderTable();
      if (manage && users === null) {
        try {
          users = await api("GET", "/api/users/");
        } catch (err) {
          users = [];
          clear(pickerList).append(h("li.muted", { i18n: err.status === 403 ? "error.cannotListUsers" : "error.unexpected" }));
          return;
        }
      }
      renderPicker();
    } catch (err) {
      showError(err);
    }
  }

  function renderTable() {
    clear(table);
    for (const p of participants) {
      const roleSelect = h(
        "select",
        {
          "aria-label": t("participants.role"),
          disabled: !manage,
          onchange: (e) => update(p, { role: e.target.value }),
        },
        ROLES.map((r) => h("option", { value: r, selected: r === p.role, i18n: `role.${r}` }))
      );
      const voting = h("input", {
        type: "checkbox",
        checked: p.voting,
        disabled: !manage || p.role === "guest",
        "aria-label": t("participants.voting"),
        onchange: (e) => update(p, { voting: e.target.checked }),
      });
      table.append(
        h(
          "tr",
          { dataset: { user: p.username } },
          h("td", h("strong", p.displayName), h("div.muted.small", p.username)),
          h("td", roleSelect),
          h("td", h("label.check.compact", voting)),
          h(
            "td.actions",
            manage
              ? h("button.ghost.danger", {
                  type: "button",
                  i18n: "participants.remove",
                  onclick: (e) =>
                    busy(e.currentTarget, async () => {
                      if (!(await confirmAction("participants.confirmRemove", { name: p.displayName }, "common.remove", true))) return;
                      await api("DELETE", `/api/meetings/${meeting.id}/participants/${p.id}`);
                      await load();
                    }),
                })
              : null
          )
        )
      );
    }
  }

  async function update(p, data) {
    try {
      await api("PATCH", `/api/meetings/${meeting.id}/participants/${p.id}`, data);
      toast(t("common.saved"));
    } catch (err) {
      showError(err);
    }
    await load();
  }

  function renderPicker() {
    if (!users) return;
    clear(pickerList);
    const taken = new Set(participants.map((p) => p.userId));
    const q = filter.value.trim().toLowerCase();
    const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").toLowerCase();
    const candidates = users.filter((u) => u.isActive && !taken.has(u.id) && (!q || fold(`${u.displayName} ${u.username}`).includes(fold(q))));
    if (!candidates.length) pickerList.append(h("li.muted.empty", { i18n: "participants.noneToAdd" }));
    for (const u of candidates) {
      pickerList.append(
        h(
          "li",
          { dataset: { user: u.username } },
          h("div", h("strong", u.displayName), h("div.muted.small", u.username)),
          h("button.secondary", {
            type: "button",
            i18n: "participants.addButton",
            onclick: (e) =>
              busy(e.currentTarget, async () => {
                await api("POST", `/api/meetings/${meeting.id}/participants`, { userId: u.id, role: role.value });
                await load();
              }),
          })
        )
      );
    }
  }

  load();
}

// ---------------------------------------------------------------------------------------- attendance

export function quorumLine(q) {
  return h(
    `div.quorum.${q.met ? "met" : "not-met"}`,
    { role: "status" },
    h("strong", { i18n: [q.met ? "quorum.lineMet" : "quorum.lineNotMet", { present: q.present, total: q.votingMembers }] }),
    h("span.muted.small", { i18n: ["quorum.required", { required: q.required }] })
  );
}

function attendanceTab({ meeting, body }) {
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
            h("span.muted.small", { i18n: `role.${p.role}` }, p.voting ? "" : ""),
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
