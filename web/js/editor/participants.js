// The editor's participants tab: who takes part in which role and who votes; accounts are added from a
// filtered list.
import { h, clear, field, setAttr } from "../dom.js";
import { api, session, errorText } from "../api.js";
import { t } from "../i18n.js";
import { showError, busy, toast, confirmAction } from "../ui.js";
import { invitationsPanel } from "./invitations.js";

const ROLES = ["chair", "secretary", "delegate", "guest"];

export function participantsTab({ meeting, body }) {
  const table = h("tbody");
  const pickerList = h("ul.user-picker");
  const filter = h("input", { type: "search", name: "userFilter" });
  setAttr(filter, "placeholder", "participants.filter");
  const role = h("select", { name: "newRole" }, ROLES.map((r) => h("option", { value: r, selected: r === "delegate", i18n: `role.${r}` })));
  let participants = [];
  let users = null;
  const manage = meeting.myRole === "chair" || meeting.myRole === "secretary" || session.user?.role === "admin";
  // Who was sent what by e-mail: the organisers' business, as the route says.
  const mail = manage ? invitationsPanel(meeting) : null;

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
            "div.side-stack",
            h(
              "section.card.picker",
              h("h3", { i18n: "participants.add" }),
              h("div.picker-controls", field("participants.filterLabel", filter), field("participants.roleLabel", role)),
              pickerList
            ),
            mail.panel
          )
        : null
    )
  );
  filter.addEventListener("input", renderPicker);

  async function load() {
    try {
      participants = await api("GET", `/api/meetings/${meeting.id}/participants`);
      renderTable();
      mail?.load();
      if (manage && users === null) {
        try {
          users = await api("GET", "/api/users/");
        } catch (err) {
          users = [];
          clear(pickerList).append(h("li.muted", errorText(err)));
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
        onchange: (e) => update(p, { voting: e.target.checked }),
      });
      table.append(
        h(
          "tr",
          { dataset: { user: p.username } },
          h("td", h("strong", p.displayName), h("div.muted.small", p.username)),
          h("td", roleSelect),
          // The column's heading names the box; a phone, which shows no headings, shows this label.
          h("td", h("label.check.compact", voting, h("span.cell-label.visually-hidden", { i18n: "participants.voting" }))),
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
  // The panel's times are written in the language's format: redraw it in the new one.
  return { onLang: () => mail?.load() };
}
