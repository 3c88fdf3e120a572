// Search every meeting's materials I may read: words, then narrowed by meeting and by date; a hit
// opens its meeting. The server decides what I may see; a body (council, committee) filter joins later.
import { h, clear, setAttr } from "../dom.js";
import { api } from "../api.js";
import { showError } from "../ui.js";

/** A date input's day as the instant it starts, in the tablet's time zone ("" stays empty). */
function dayStart(value, plusDays = 0) {
  if (!value) return "";
  const day = new Date(`${value}T00:00:00`);
  day.setDate(day.getDate() + plusDays);
  return day.toISOString();
}

export function searchScreen(shell, _params, { navigate }) {
  shell.setTitle(h("h1.title", { i18n: "search.everywhere" }));
  shell.main.classList.add("search-screen");
  const input = h("input", { type: "search", name: "q", maxlength: 200, required: true });
  setAttr(input, "placeholder", "search.placeholder");
  setAttr(input, "aria-label", "search.everywhere");
  const meeting = h("select", { name: "meetingId" }, h("option", { value: "", i18n: "search.allMeetings" }));
  const from = h("input", { type: "date", name: "from" });
  const to = h("input", { type: "date", name: "to" });
  const results = h("ul.search-results");
  const status = h("p.muted.search-status", { role: "status" });

  // Named by aria-label: a wrapping label would name the select by its chosen option too.
  const field = (key, control) => (setAttr(control, "aria-label", key), h("label.search-field", h("span", { i18n: key, "aria-hidden": "true" }), control));
  const form = h(
    "form.search-form.search-everywhere",
    { onsubmit: (e) => (e.preventDefault(), run()) },
    h("div.search-words", input, h("button.primary", { type: "submit", i18n: "search.go" })),
    h("div.search-filters", field("search.meeting", meeting), field("search.from", from), field("search.to", to))
  );
  shell.main.append(
    h(
      "div.page",
      h("div.page-head", h("a.button.secondary", { href: "#/", i18n: "search.back" })),
      form,
      status,
      results
    )
  );

  async function loadMeetings() {
    try {
      const rows = await api("GET", "/api/meetings/");
      for (const m of [...rows].reverse()) meeting.append(h("option", { value: String(m.id) }, m.title));
    } catch (err) {
      showError(err);
    }
  }

  async function run() {
    const q = input.value.trim();
    if (!q) return;
    const params = new URLSearchParams({ q });
    if (meeting.value) params.set("meetingId", meeting.value);
    // "To" includes its whole day: the search asks for meetings starting before the next one.
    if (from.value) params.set("from", dayStart(from.value));
    if (to.value) params.set("to", dayStart(to.value, 1));
    try {
      const hits = await api("GET", `/api/search?${params}`);
      clear(results);
      clear(status);
      status.append(h("span", { i18n: hits.length ? ["search.count", { n: hits.length }] : "search.none" }));
      for (const hit of hits) {
        const snippet = h("span.snippet");
        // The server escapes the text and adds only <mark>; anything else is stripped to be sure.
        snippet.innerHTML = hit.snippet.replace(/<(?!\/?mark>)[^>]*>/g, "");
        results.append(
          h(
            "li",
            h(
              "button.hit",
              { type: "button", dataset: { meeting: hit.meetingId }, onclick: () => navigate(`#/meetings/${hit.meetingId}`) },
              h("span.hit-meeting.muted", hit.meetingTitle),
              h(
                "span.hit-head",
                h("strong", hit.title),
                " ",
                h("span.muted", { i18n: ["viewer.page", { n: hit.page }] }),
                hit.classification === "confidential" ? h("span.badge.confidential", { i18n: "documents.confidentialBadge" }) : null
              ),
              snippet
            )
          )
        );
      }
    } catch (err) {
      showError(err);
    }
  }

  loadMeetings();
  input.focus();
  return {};
}
