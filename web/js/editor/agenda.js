// The editor's agenda tab: items and sub-items, added and edited in place, reordered by dragging their
// handle (or with the arrow keys).
import { h, clear, field, setAttr } from "../dom.js";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { showError, busy, toast, confirmAction } from "../ui.js";

export function agendaTab({ meeting, body }) {
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

  function itemData(title, presenter, minutes, parentId, speaking) {
    const data = { title: title.value.trim(), presenter: presenter.value.trim() };
    if (minutes.value !== "") data.plannedMinutes = Number(minutes.value);
    // The item's speaking time, in minutes; empty: the meeting's.
    if (speaking) data.speakingLimitSeconds = speaking.value === "" ? null : Math.min(7200, Math.max(10, Math.round(Number(speaking.value) * 60)));
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
    const speaking = h("input", { type: "number", min: 0.5, max: 120, step: 0.5, value: parentId || item.speakingLimitSeconds == null ? "" : String(item.speakingLimitSeconds / 60) });
    const save = h("button.primary", { type: "submit", i18n: parentId ? "agenda.add" : "common.save" });
    const form = h(
      "form.inline-form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          if (!title.value.trim()) return title.focus();
          busy(save, async () => {
            if (parentId) await api("POST", `/api/meetings/${meeting.id}/agenda/`, itemData(title, presenter, minutes, parentId, speaking));
            else {
              const data = itemData(title, presenter, minutes, null, speaking);
              if (minutes.value === "") data.plannedMinutes = null;
              await api("PATCH", `/api/meetings/${meeting.id}/agenda/${item.id}`, data);
            }
            await load();
          });
        },
      },
      h("div.add-row", field("agenda.field.title", title), field("agenda.field.presenter", presenter), field("agenda.field.minutes", minutes), field("agenda.field.speakingLimit", speaking), save, h("button.ghost", { type: "button", onclick: () => form.remove(), i18n: "common.cancel" }))
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
