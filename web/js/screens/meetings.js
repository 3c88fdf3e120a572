// My meetings: live first, then upcoming, then past; secretaries can create one.
import { h, clear } from "../dom.js";
import { api, session } from "../api.js";
import { showError, formatWhen, meetingBadge } from "../ui.js";

const GROUPS = [
  ["live", ["live"]],
  ["upcoming", ["scheduled", "draft"]],
  ["past", ["ended", "archived", "cancelled"]],
];

export function meetingsScreen(shell, _params, { navigate }) {
  const user = session.user;
  const canCreate = user && (user.role === "admin" || user.role === "secretary");
  shell.setTitle(h("h1.title", { i18n: "meetings.title" }));
  const list = h("div.meeting-groups", h("p.muted.loading", { i18n: "common.loading" }));
  shell.main.classList.add("meetings-screen");
  shell.main.append(
    h(
      "div.page",
      h(
        "div.page-head",
        h("h2", { i18n: ["meetings.greeting", { name: user?.displayName || "" }] }),
        h("a.button.secondary.search-everywhere-open", { href: "#/search", i18n: "meetings.search" }),
        canCreate ? h("button.primary", { type: "button", onclick: () => navigate("#/meetings/new"), i18n: "meetings.create" }) : null
      ),
      list
    )
  );
  let meetings = null;

  function render() {
    clear(list);
    const now = Date.now();
    for (const [group, statuses] of GROUPS) {
      let items = meetings.filter((m) => statuses.includes(m.status));
      if (group === "past") items = items.reverse();
      list.append(
        h(
          `section.meeting-group.group-${group}`,
          h("h3", { i18n: `meetings.group.${group}` }, h("span.count", ` ${items.length}`)),
          items.length
            ? h("ul.meeting-list", items.map((m) => card(m, now)))
            : h("p.muted.empty", { i18n: `meetings.empty.${group}` })
        )
      );
    }
  }

  function card(m, now) {
    const manager = m.myRole === "chair" || m.myRole === "secretary" || user.role === "admin";
    const open = () => navigate(m.status === "draft" && manager ? `#/meetings/${m.id}/edit` : `#/meetings/${m.id}`);
    return h(
      "li.meeting-card",
      { dataset: { id: m.id, status: m.status } },
      h(
        "button.meeting-open",
        { type: "button", onclick: open },
        h("span.meeting-when", formatWhen(m.startsAt, m.endsAt, m.timezone)),
        h("span.meeting-title", m.title),
        m.location ? h("span.meeting-where", m.location) : null,
        h(
          "span.meeting-tags",
          meetingBadge(m.status),
          m.myRole ? h("span.badge.role", { i18n: `role.${m.myRole}` }) : null,
          m.status === "live" ? h("span.badge.join", { i18n: "meetings.join" }) : null
        )
      ),
      manager && !["archived", "cancelled"].includes(m.status)
        ? h("a.button.secondary.prepare", { href: `#/meetings/${m.id}/edit`, i18n: "meetings.prepare" })
        : null
    );
  }

  async function load(quiet) {
    try {
      const rows = await api("GET", "/api/meetings/");
      if (JSON.stringify(rows) !== JSON.stringify(meetings)) {
        meetings = rows;
        render();
      }
    } catch (err) {
      if (!quiet) showError(err);
    }
  }
  load(false);
  // No socket on this screen: look again now and then, so a meeting going live shows up by itself.
  const timer = setInterval(() => load(true), 20000);

  return {
    unmount: () => clearInterval(timer),
    onLang() {
      if (meetings) render(); // dates follow the language
    },
  };
}
