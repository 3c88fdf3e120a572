// The live meeting: top bar (meeting, live state, follow state), agenda sidebar with the active item,
// the document viewer with annotations and the presenter's pointer, the speaker queue, the vote panel,
// and for the chair a control strip. Everything moves with the room socket (docs/protocol.md).
import { h, clear, setText, setAttr } from "../dom.js";
import { api, session, errorText } from "../api.js";
import { t } from "../i18n.js";
import { Room } from "../room.js";
import { Viewer } from "../viewer.js";
import { icon } from "../icons.js";
import { showError, toast, busy, dialog, meetingBadge, confirmAction } from "../ui.js";
import { field } from "../dom.js";
import { quorumLine } from "./editor.js";
import { VotePanel, PollsPanel, resultView } from "./votes.js";

const TOOLS = [
  ["pen", "tool.pen"],
  ["highlight", "tool.highlight"],
  ["note", "tool.note"],
  ["eraser", "tool.eraser"],
];

function newId() {
  // crypto.randomUUID needs a secure context; a tablet on http://192.168.x.y is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function liveScreen(shell, { id }, { navigate }) {
  const me = session.user;
  const s = {
    meeting: null,
    items: [],
    documents: [],
    snapshot: null,
    presence: [],
    presenter: { userId: null, documentId: null, versionId: null, page: 1, viewport: null },
    speakers: { speaking: null, waiting: [], elapsedSeconds: 0 },
    speakersAt: performance.now(),
    quorum: null,
    following: true,
    presenting: false,
    you: me?.id,
    role: null,
    visibility: "private",
    tool: null,
    polls: [],
    pointerFrom: null,
  };
  shell.main.classList.add("live-screen");
  // In the room every pixel of the top bar goes to the meeting and its state (the name is in the menu).
  document.body.classList.add("in-room");

  // ------------------------------------------------------------------------------------ layout
  const agendaList = h("ol.agenda-live");
  const docsList = h("ul.docs-live");
  const roomBox = h("div.side-room");
  const sidebar = h(
    "aside.sidebar",
    h("section.side-section", h("h3", { i18n: "live.agenda" }), agendaList),
    h("section.side-section", h("h3", { i18n: "live.documents" }), docsList),
    roomBox
  );
  const viewer = new Viewer({
    me: s.you,
    onNavigate: (page) => goTo(s.viewDoc, page),
    onDraw: draw,
    onErase: erase,
    onPointer: (x, y) => {
      if (!s.presenting) return;
      // The server keeps at most 30 positions a second and drops the rest silently: send the "hide"
      // a moment later so it is not the one dropped.
      if (x == null) setTimeout(() => room?.post({ type: "pointer.move", x: null, y: null }), 120);
      else room?.post({ type: "pointer.move", x, y });
    },
    canErase: (a) => a.authorId === s.you || (s.role === "chair" && a.visibility === "shared"),
    onNoteText: askNote,
  });
  // The presenter's zoom and scroll move the room too, once the hand rests (and only the newest counts).
  let viewportTimer = null;
  const sendViewport = () => {
    if (!s.presenting || !s.viewDoc) return;
    clearTimeout(viewportTimer);
    viewportTimer = setTimeout(() => {
      const doc = s.viewDoc;
      room?.send({ type: "page.turn", documentId: doc.id, versionId: doc.version.id, page: viewer.page, viewport: viewer.viewport() }, { latest: true }).catch(() => {});
    }, 350);
  };
  viewer.scroller.addEventListener("scroll", sendViewport, { passive: true });
  viewer.onZoom = sendViewport;
  const stageEmpty = h("div.stage-empty");
  const panels = h("div.panels");
  const stage = h("section.stage", stageEmpty, viewer.el, panels);
  viewer.el.hidden = true;

  const toolbar = h("footer.toolbar");
  const chairStrip = h("div.chair-strip", { hidden: true });
  shell.main.append(h("div.live-body", sidebar, stage), viewer.thumbs, chairStrip, toolbar);

  const followBox = h("div.follow");
  shell.setStatus(h("span.live-state"), followBox);

  // Toolbar pieces, built once and updated in place (no layout jumps).
  const prevBtn = h("button.nav", { type: "button", onclick: () => goTo(s.viewDoc, viewer.page - 1) }, icon("prev"));
  const nextBtn = h("button.nav", { type: "button", onclick: () => goTo(s.viewDoc, viewer.page + 1) }, icon("next"));
  setAttr(prevBtn, "aria-label", "viewer.prev");
  setAttr(nextBtn, "aria-label", "viewer.next");
  const thumbsBtn = h("button.tool", { type: "button", "aria-pressed": "false", onclick: () => (viewer.thumbs.hidden = !viewer.thumbs.hidden, thumbsBtn.setAttribute("aria-pressed", String(!viewer.thumbs.hidden))) }, icon("pages"), h("span", { i18n: "viewer.pages" }));
  const zoomOut = h("button.tool.icon-only", { type: "button", onclick: () => viewer.setZoom(viewer.zoom - 0.25) }, icon("zoomOut"));
  const zoomIn = h("button.tool.icon-only", { type: "button", onclick: () => viewer.setZoom(viewer.zoom + 0.25) }, icon("zoomIn"));
  setAttr(zoomOut, "aria-label", "viewer.zoomOut");
  setAttr(zoomIn, "aria-label", "viewer.zoomIn");
  const toolButtons = TOOLS.map(([tool, key]) =>
    h("button.tool", { type: "button", dataset: { tool }, "aria-pressed": "false", onclick: () => setTool(s.tool === tool ? null : tool) }, icon(tool), h("span", { i18n: key }))
  );
  const pointerBtn = h("button.tool", { type: "button", dataset: { tool: "pointer" }, "aria-pressed": "false", hidden: true, onclick: () => setTool(s.tool === "pointer" ? null : "pointer") }, icon("pointer", "laser-icon"), h("span", { i18n: "tool.pointer" }));
  const visibilityBtn = h("button.tool.visibility", { type: "button", onclick: toggleVisibility });
  const searchBtn = h("button.tool", { type: "button", onclick: () => openSearch() }, icon("search"), h("span", { i18n: "search.short" }));
  setAttr(searchBtn, "aria-label", "search.title");
  const speakerChip = h("button.speaker-chip", { type: "button", onclick: () => openSpeakers() });
  const floorText = h("span");
  const floorBtn = h("button.floor", { type: "button", onclick: floorAction }, icon("hand"), floorText);
  const docTools = h("div.tool-group.doc-tools", prevBtn, viewer.pageLabel, nextBtn, thumbsBtn);
  // Zoom floats on the page's corner: the toolbar keeps its room for the tools.
  viewer.el.append(h("div.zoom-controls", zoomIn, zoomOut));
  toolbar.append(docTools, h("div.tool-group.ink-tools", toolButtons, pointerBtn, visibilityBtn), h("div.tool-group.end", searchBtn, speakerChip, floorBtn));

  // ----------------------------------------------------------------------------------- the room
  let room = null;
  let timer = null;
  const votePanel = new VotePanel({ meetingId: id, panels, onChange: () => renderChair() });
  let pollsPanel = null;

  async function loadRest() {
    const [meeting, items, documents, attendance, polls] = await Promise.all([
      api("GET", `/api/meetings/${id}`),
      api("GET", `/api/meetings/${id}/agenda/`),
      api("GET", `/api/meetings/${id}/documents`).catch(() => []),
      api("GET", `/api/meetings/${id}/attendance`).catch(() => null),
      api("GET", `/api/meetings/${id}/polls`).catch(() => []),
    ]);
    Object.assign(s, { meeting, items, documents, polls, quorum: attendance?.quorum || null });
    s.role = meeting.myRole;
    shell.setTitle(h("h1.title", meeting.title));
  }

  async function start() {
    try {
      await loadRest();
    } catch (err) {
      showError(err);
      if (err.status === 404) navigate("#/");
      return;
    }
    renderAll();
    room = new Room(id, {
      onSnapshot: applySnapshot,
      onEvent: applyEvent,
      onReconnected: () => {
        reloadAnnotations();
        refreshPolls();
      },
      onFatal: (reason) => {
        toast(t(`room.closed.${reason}`), "error");
        if (reason === "unauthenticated") {
          session.clear();
          navigate("#/login");
        } else navigate("#/");
      },
    });
    timer = setInterval(tick, 1000);
    addEventListener("keydown", onKey);
  }

  function onKey(e) {
    if (e.target.closest("input, textarea, select, dialog")) return;
    if (!s.viewDoc) return;
    if (e.key === "ArrowRight" || e.key === "PageDown") goTo(s.viewDoc, viewer.page + 1);
    else if (e.key === "ArrowLeft" || e.key === "PageUp") goTo(s.viewDoc, viewer.page - 1);
    else return;
    e.preventDefault();
  }

  function applySnapshot(snap) {
    const again = Boolean(s.snapshot);
    if (again) {
      // A fresh snapshot after a long absence: what it does not carry may have changed too.
      Promise.all([
        api("GET", `/api/meetings/${id}/agenda/`).then((items) => (s.items = items)),
        api("GET", `/api/meetings/${id}/documents`).then((docs) => (s.documents = docs)),
        api("GET", `/api/meetings/${id}/attendance`).then((a) => (s.quorum = a.quorum)),
      ]).then(renderAll, showError);
    }
    s.snapshot = snap;
    s.you = snap.you;
    viewer.me = snap.you;
    s.role = snap.yourRole;
    s.presence = snap.presence;
    s.meeting = { ...s.meeting, status: snap.meetingStatus };
    if (snap.activeItem) s.items = s.items.map((i) => (i.id === snap.activeItem.id ? snap.activeItem : i.status === "active" ? { ...i, status: "done" } : i));
    setPresenter(snap.presenter);
    setSpeakers(snap.speakers);
    refreshPolls();
    renderAll();
    // A snapshot carries no annotations either: shared ones added or erased meanwhile are only in the list.
    if (again) reloadAnnotations();
  }

  function applyEvent(ev) {
    switch (ev.type) {
      case "meeting.changed":
        s.meeting = { ...ev.meeting, myRole: s.meeting.myRole };
        renderAll();
        if (ev.meeting.status === "ended") toast(t("live.meetingEnded"));
        break;
      case "agenda.changed":
        s.items = ev.items;
        renderAgenda();
        renderStageEmpty();
        renderChair();
        break;
      case "attendance.changed":
        s.quorum = ev.quorum;
        s.presence = s.presence.map((p) => (p.userId === ev.participant.userId ? { ...p, attendance: ev.participant.attendance } : p));
        renderRoom();
        renderChair();
        break;
      case "presence.changed":
        s.presence = s.presence.map((p) => (p.userId === ev.userId ? { ...p, connected: ev.connected } : p));
        renderRoom();
        break;
      case "presenter.changed":
      case "page.turn":
        setPresenter(ev.presenter);
        break;
      case "pointer.move":
        if (ev.userId === s.presenter.userId && ev.userId !== s.you && isShowingPresenter()) {
          viewer.showPointer(ev.x, ev.y);
          // Positions are never stored and may be dropped: a still pointer fades by itself.
          clearTimeout(s.pointerTimer);
          s.pointerTimer = setTimeout(() => viewer.showPointer(null), 5000);
        }
        break;
      case "annotation.add":
      case "annotation.update":
      case "annotation.delete":
        viewer.applyAnnotation(ev.annotation);
        break;
      case "speaker.queue":
        setSpeakers(ev.speakers);
        if (ev.action === "grant" && ev.userId === s.you) toast(t("speakers.yourTurn"), "accent");
        break;
      case "participant.removed":
        if (ev.userId === s.you) {
          toast(t("room.closed.forbidden"), "error");
          navigate("#/");
        }
        break;
      case "participant.changed":
        if (ev.participant.userId === s.you && ev.participant.role !== s.role) {
          s.role = ev.participant.role;
          renderAll();
        }
        break;
      case "document.added":
      case "document.changed":
        s.documents = [...s.documents.filter((d) => d.id !== ev.document.id), ev.document];
        renderDocs();
        break;
      case "document.removed":
        s.documents = s.documents.filter((d) => d.id !== ev.documentId);
        renderDocs();
        break;
      case "document.render_progress": {
        const doc = s.documents.find((d) => d.id === ev.documentId);
        if (doc && doc.currentVersion.id === ev.versionId) doc.currentVersion.renderedPages = ev.renderedPages;
        break;
      }
      default:
        if (ev.type.startsWith("poll.")) {
          votePanel.event(ev);
          // Progress arrives once per ballot: update in place rather than ask the server each time.
          if (ev.type === "poll.progress") {
            s.polls = s.polls.map((p) => (p.id === ev.pollId ? { ...p, cast: ev.cast, eligible: ev.eligible } : p));
            pollsPanel?.render(s.polls);
          } else refreshPolls();
        } else if (ev.type.startsWith("conclusion.")) itemSheet?.refresh?.();
    }
  }

  async function refreshPolls() {
    try {
      s.polls = await api("GET", `/api/meetings/${id}/polls`);
    } catch {
      return;
    }
    votePanel.update(s.polls, { canVote: ["delegate", "chair"].includes(s.role) });
    pollsPanel?.render(s.polls);
    renderChair();
  }

  // ---------------------------------------------------------------------------- presenter, follow
  function setPresenter(p) {
    s.presenter = p || { userId: null, documentId: null };
    if (s.presenter.documentId && !s.documents.some((d) => d.id === s.presenter.documentId)) {
      // A document uploaded after this tablet loaded the list: fetch the list, then follow.
      api("GET", `/api/meetings/${id}/documents`).then((docs) => {
        s.documents = docs;
        renderDocs();
        if (docs.some((d) => d.id === s.presenter.documentId)) setPresenter(s.presenter);
      }, showError);
    }
    s.presenting = s.presenter.userId === s.you && s.presenter.userId != null;
    if (s.presenting) s.following = true;
    if (s.following && s.presenter.documentId && !s.presenting) {
      const doc = docFor(s.presenter.documentId, s.presenter.versionId);
      if (doc) openDoc(doc, s.presenter.page, s.presenter.viewport);
    } else if (s.presenting && s.presenter.documentId && !s.viewDoc) {
      const doc = docFor(s.presenter.documentId, s.presenter.versionId);
      if (doc) openDoc(doc, s.presenter.page, s.presenter.viewport);
    }
    if (!isShowingPresenter()) viewer.showPointer(null);
    renderFollow();
    renderTools();
    renderChair();
  }

  function isShowingPresenter() {
    return s.viewDoc && s.presenter.documentId === s.viewDoc.id && s.presenter.page === viewer.page;
  }

  function docFor(documentId, versionId) {
    const d = s.documents.find((x) => x.id === documentId);
    if (!d) return null;
    const version = versionId && versionId !== d.currentVersion.id
      ? { ...d.currentVersion, id: versionId, pagesUrl: `/api/meetings/${id}/documents/${documentId}/versions/${versionId}/pages` }
      : d.currentVersion;
    return { id: d.id, title: d.title, version };
  }

  function openDoc(doc, page, viewport) {
    const changed = !s.viewDoc || s.viewDoc.id !== doc.id || s.viewDoc.version.id !== doc.version.id;
    s.viewDoc = doc;
    viewer.el.hidden = false;
    stageEmpty.hidden = true;
    viewer.show(doc, page, viewport);
    if (changed) reloadAnnotations();
    renderDocs();
    renderTools();
    renderFollow();
    renderChair();
  }

  /** Go to a page: the presenter moves the room; anyone else browses on their own. */
  function goTo(doc, page) {
    if (!doc) return;
    page = Math.min(Math.max(1, page), doc.version.pageCount);
    if (s.presenting) {
      openDoc(doc, page);
      room
        .send({ type: "page.turn", documentId: doc.id, versionId: doc.version.id, page, viewport: viewer.viewport() }, { latest: true })
        .catch((err) => toast(errorText(err), "error"));
      return;
    }
    if (s.viewDoc && doc.id === s.viewDoc.id && page === viewer.page) return;
    s.following = false;
    openDoc(doc, page);
  }

  function backToPresenter() {
    s.following = true;
    const doc = s.presenter.documentId && docFor(s.presenter.documentId, s.presenter.versionId);
    if (doc) openDoc(doc, s.presenter.page, s.presenter.viewport);
    renderFollow();
  }

  function presentThis() {
    if (!s.viewDoc) return;
    const doc = s.viewDoc;
    room
      .send({ type: "page.turn", documentId: doc.id, versionId: doc.version.id, page: viewer.page, viewport: viewer.viewport() })
      .catch((err) => toast(errorText(err), "error"));
  }

  function stopPresenting() {
    room.send({ type: "presenter.set", userId: null }).catch((err) => toast(errorText(err), "error"));
  }

  // ----------------------------------------------------------------------------------- annotations
  async function reloadAnnotations() {
    const doc = s.viewDoc;
    if (!doc) return;
    try {
      const res = await api("GET", `/api/meetings/${id}/documents/${doc.id}/versions/${doc.version.id}/annotations`);
      // Still the same document version? (Each page turn makes a new `viewDoc` object for it.)
      if (s.viewDoc?.id !== doc.id || s.viewDoc.version.id !== doc.version.id) return;
      viewer.setAnnotations(res.pages.flatMap((p) => p.annotations));
      // What was drawn while away stays on screen until the server acknowledges it.
      for (const pending of s.pendingAnnotations?.values() || []) viewer.applyAnnotation(pending);
    } catch (err) {
      showError(err);
    }
  }

  function draw(draft) {
    const doc = s.viewDoc;
    const a = { id: newId(), documentId: doc.id, versionId: doc.version.id, page: draft.page, kind: draft.kind, visibility: s.visibility, payload: draft.payload };
    const local = { ...a, authorId: s.you, deleted: false };
    s.pendingAnnotations ??= new Map();
    s.pendingAnnotations.set(a.id, local);
    viewer.applyAnnotation(local);
    room
      .send({ type: "annotation.add", ...a }, { keep: true })
      .then((stored) => {
        s.pendingAnnotations.delete(a.id);
        if (stored) viewer.applyAnnotation(stored);
      })
      .catch((err) => {
        s.pendingAnnotations.delete(a.id);
        viewer.applyAnnotation({ ...local, deleted: true });
        toast(errorText(err), "error");
      });
  }

  function erase(a) {
    viewer.applyAnnotation({ ...a, deleted: true });
    room.send({ type: "annotation.delete", id: a.id }, { keep: true }).catch((err) => {
      viewer.applyAnnotation(a);
      toast(errorText(err), "error");
    });
  }

  async function askNote() {
    const text = h("textarea", { rows: 4, maxlength: 2000 });
    const ok = await dialog({
      titleKey: s.visibility === "private" ? "note.titlePrivate" : "note.titleShared",
      body: field("note.text", text),
      buttons: [
        { key: "common.cancel", value: false },
        { key: "note.add", value: true, kind: "primary" },
      ],
    });
    return ok && text.value.trim() ? text.value.trim() : null;
  }

  function setTool(tool) {
    s.tool = tool;
    viewer.setTool(tool);
    renderTools();
  }

  function toggleVisibility() {
    s.visibility = s.visibility === "private" ? "shared" : "private";
    viewer.visibility = s.visibility;
    renderTools();
  }

  // ----------------------------------------------------------------------------------- speakers
  function setSpeakers(sp) {
    s.speakers = sp || { speaking: null, waiting: [], elapsedSeconds: 0 };
    s.speakersAt = performance.now();
    renderSpeakers();
    speakersPanel?.render();
  }

  function elapsed() {
    if (!s.speakers.speaking) return 0;
    return (s.speakers.elapsedSeconds || 0) + (performance.now() - s.speakersAt) / 1000;
  }

  function clock(seconds) {
    const m = Math.floor(seconds / 60);
    const sec = Math.floor(seconds % 60);
    return `${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  }

  function tick() {
    const text = clock(elapsed());
    for (const el of document.querySelectorAll(".speak-timer")) el.textContent = text;
  }

  function floorAction(e) {
    const waiting = s.speakers.waiting.some((w) => w.userId === s.you);
    const speaking = s.speakers.speaking?.userId === s.you;
    const type = speaking ? "speaker.end" : waiting ? "speaker.withdraw" : "speaker.request";
    busy(e.currentTarget, () => room.send({ type }).catch((err) => toast(errorText(err), "error")));
  }

  function renderSpeakers() {
    const sp = s.speakers;
    clear(speakerChip);
    if (sp.speaking) {
      speakerChip.append(icon("mic"), h("span.speaker-name", sp.speaking.displayName), h("span.speak-timer", clock(elapsed())));
    } else speakerChip.append(icon("mic"), h("span.muted", { i18n: "speakers.nobody" }));
    if (sp.waiting.length) speakerChip.append(h("span.queue-count", { i18n: ["speakers.waitingCount", { n: sp.waiting.length }] }));
    speakerChip.classList.toggle("mine", sp.speaking?.userId === s.you);
    const position = sp.waiting.findIndex((w) => w.userId === s.you);
    const speaking = sp.speaking?.userId === s.you;
    floorBtn.className = `floor ${speaking ? "speaking" : position >= 0 ? "waiting" : ""}`;
    if (speaking) setText(floorText, "speakers.endMine");
    else if (position >= 0) setText(floorText, "speakers.withdraw", { n: position + 1 });
    else setText(floorText, "speakers.request");
    // The chair gives the floor rather than asking for it.
    floorBtn.hidden = !s.role || s.role === "chair";
  }

  let speakersPanel = null;
  function openSpeakers() {
    if (speakersPanel) return speakersPanel.close();
    const body = h("div.panel-body");
    const panel = h("section.panel.speakers-panel", h("header.panel-head", h("h3", { i18n: "speakers.title" }), h("button.ghost", { type: "button", i18n: "common.close", onclick: () => speakersPanel.close() })), body);
    panels.append(panel);
    speakersPanel = {
      close() {
        panel.remove();
        speakersPanel = null;
      },
      render() {
        clear(body);
        const sp = s.speakers;
        const chair = s.role === "chair";
        body.append(
          h("h4", { i18n: "speakers.speaking" }),
          sp.speaking
            ? h("div.speaking-now", { dataset: { user: sp.speaking.userId } }, h("strong", sp.speaking.displayName), h("span.speak-timer", clock(elapsed())),
                chair || sp.speaking.userId === s.you ? h("button.secondary", { type: "button", i18n: "speakers.end", onclick: (e) => busy(e.currentTarget, () => room.send({ type: "speaker.end" }).catch((err) => toast(errorText(err), "error"))) }) : null)
            : h("p.muted", { i18n: "speakers.nobody" }),
          h("h4", { i18n: ["speakers.queue", { n: sp.waiting.length }] }),
          sp.waiting.length
            ? h("ol.queue", sp.waiting.map((w, i) => {
                const move = (delta) => (e) => {
                  const ids = sp.waiting.map((x) => x.userId);
                  ids.splice(i, 1);
                  ids.splice(i + delta, 0, w.userId);
                  busy(e.currentTarget, () => room.send({ type: "speaker.reorder", userIds: ids }).catch((err) => toast(errorText(err), "error")));
                };
                const up = h("button.ghost.icon-only", { type: "button", disabled: i === 0, onclick: move(-1) }, "↑");
                const down = h("button.ghost.icon-only", { type: "button", disabled: i === sp.waiting.length - 1, onclick: move(1) }, "↓");
                setAttr(up, "aria-label", "speakers.up");
                setAttr(down, "aria-label", "speakers.down");
                return h("li", { dataset: { user: w.userId } }, h("span.queue-name", `${i + 1}. ${w.displayName}`),
                  chair ? h("span.queue-actions", sp.waiting.length > 1 ? [up, down] : null,
                    h("button.primary", { type: "button", i18n: "speakers.grant", onclick: (e) => busy(e.currentTarget, () => room.send({ type: "speaker.grant", userId: w.userId }).catch((err) => toast(errorText(err), "error"))) })) : null);
              }))
            : h("p.muted", { i18n: "speakers.empty" })
        );
      },
    };
    speakersPanel.render();
  }

  // ------------------------------------------------------------------------------------- search
  let searchPanel = null;
  function openSearch() {
    if (searchPanel) return searchPanel.remove(), (searchPanel = null);
    const input = h("input", { type: "search", name: "q", maxlength: 200 });
    setAttr(input, "placeholder", "search.placeholder");
    const results = h("ul.search-results");
    const run = async () => {
      const q = input.value.trim();
      if (!q) return;
      try {
        const hits = await api("GET", `/api/meetings/${id}/search?q=${encodeURIComponent(q)}`);
        clear(results);
        if (!hits.length) results.append(h("li.muted", { i18n: "search.none" }));
        for (const hit of hits) {
          const snippet = h("span.snippet");
          // The server escapes the text and adds only <mark>; anything else is stripped to be sure.
          snippet.innerHTML = hit.snippet.replace(/<(?!\/?mark>)[^>]*>/g, "");
          results.append(h("li", h("button.hit", { type: "button", onclick: () => {
            const doc = docFor(hit.documentId, hit.versionId);
            if (doc) goTo(doc, hit.page);
          } }, h("strong", hit.title), h("span.muted", { i18n: ["viewer.page", { n: hit.page }] }), snippet)));
        }
      } catch (err) {
        showError(err);
      }
    };
    searchPanel = h("section.panel.search-panel",
      h("header.panel-head", h("h3", { i18n: "search.title" }), h("button.ghost", { type: "button", i18n: "common.close", onclick: () => openSearch() })),
      h("form.search-form", { onsubmit: (e) => (e.preventDefault(), run()) }, input, h("button.primary", { type: "submit", i18n: "search.go" })),
      results);
    panels.append(searchPanel);
    input.focus();
  }

  // ---------------------------------------------------------------------------------- item sheet
  let itemSheet = null;
  function openItem(item) {
    itemSheet?.close();
    const body = h("div.panel-body");
    const panel = h("section.panel.item-panel", h("header.panel-head", h("h3", item.title), h("button.ghost", { type: "button", i18n: "common.close", onclick: () => itemSheet.close() })), body);
    panels.append(panel);
    const manager = s.role === "chair" || s.role === "secretary";
    async function refresh() {
      let conclusion = null;
      try {
        // The list answers 200 even when this item has none yet (the single one would be a 404).
        conclusion = (await api("GET", `/api/meetings/${id}/conclusions`)).find((c) => c.itemId === item.id) || null;
      } catch {
        conclusion = null;
      }
      clear(body);
      if (item.presenter) body.append(h("p.muted", item.presenter));
      if (item.description) body.append(h("p.description", item.description));
      const docs = s.documents.filter((d) => d.agendaItemId === item.id);
      if (docs.length) body.append(h("h4", { i18n: "live.documents" }), h("ul.docs-live", docs.map(docRow)));
      const polls = s.polls.filter((p) => p.itemId === item.id && p.result);
      for (const p of polls) body.append(resultView(p));
      body.append(h("h4", { i18n: "conclusion.title" }));
      if (manager) {
        const text = h("textarea", { rows: 6, name: "conclusion" });
        text.value = conclusion?.text || "";
        body.append(text, h("div.form-actions", h("button.primary", { type: "button", i18n: "conclusion.save", onclick: (e) => busy(e.currentTarget, async () => {
          await api("PUT", `/api/meetings/${id}/agenda/${item.id}/conclusion`, { text: text.value, baseVersion: conclusion?.version ?? null });
          toast(t("common.saved"));
          refresh();
        }) })));
      } else body.append(conclusion?.text ? h("p.conclusion", conclusion.text) : h("p.muted", { i18n: "conclusion.none" }));
    }
    itemSheet = { close: () => (panel.remove(), (itemSheet = null)), refresh };
    refresh();
  }

  // -------------------------------------------------------------------------------------- render
  function renderAll() {
    renderLiveState();
    renderAgenda();
    renderDocs();
    renderRoom();
    renderStageEmpty();
    renderFollow();
    renderTools();
    renderSpeakers();
    renderChair();
  }

  function renderLiveState() {
    const box = shell.statusSlot.querySelector(".live-state");
    if (box) clear(box).append(meetingBadge(s.meeting.status));
  }

  function renderAgenda() {
    clear(agendaList);
    const chair = s.role === "chair";
    const live = s.meeting.status === "live";
    const tops = s.items.filter((i) => !i.parentId);
    tops.forEach((item, index) => {
      const row = (it, num) =>
        h(`li.item-${it.status}`, { dataset: { id: it.id, status: it.status } },
          h("button.item-open", { type: "button", onclick: () => openItem(it) },
            h("span.num", num), h("span.item-title", it.title),
            it.status === "done" ? h("span.done-mark", { "aria-label": t("item.status.done") }, "✓") : null,
            it.status === "active" ? h("span.active-mark", "●") : null),
          chair && live && it.status !== "active"
            ? h("button.ghost.activate", { type: "button", i18n: "live.activate", onclick: (e) => busy(e.currentTarget, () => room.send({ type: "agenda.item", itemId: it.id, status: "active" }).catch((err) => toast(errorText(err), "error"))) })
            : null);
      agendaList.append(row(item, `${index + 1}.`));
      s.items.filter((c) => c.parentId === item.id).forEach((c, ci) => agendaList.append(row(c, `${index + 1}.${ci + 1}`)));
    });
    for (const li of agendaList.children) if (s.items.find((i) => i.id === Number(li.dataset.id))?.parentId) li.classList.add("sub");
  }

  function docRow(d) {
    const open = s.viewDoc?.id === d.id;
    return h(`li${open ? ".open" : ""}`, { dataset: { id: d.id } },
      h("button.doc-open", { type: "button", onclick: () => goTo(docFor(d.id), open ? viewer.page : 1) },
        h("span.doc-icon", "▸"), h("span.doc-title", d.title), h("span.muted.small", { i18n: ["documents.pages", { n: d.currentVersion.pageCount }] })));
  }

  function renderDocs() {
    clear(docsList);
    const active = s.items.find((i) => i.status === "active");
    const sorted = [...s.documents].sort((a, b) => (b.agendaItemId === active?.id) - (a.agendaItemId === active?.id) || a.id - b.id);
    if (!sorted.length) docsList.append(h("li.muted.small", { i18n: "documents.none" }));
    for (const d of sorted) docsList.append(docRow(d));
  }

  function renderRoom() {
    clear(roomBox);
    if (s.quorum) roomBox.append(quorumLine(s.quorum));
    const mine = s.presence.find((p) => p.userId === s.you);
    const canCheckIn = mine && ["expected", "left", "absent"].includes(mine.attendance) && ["scheduled", "live"].includes(s.meeting.status);
    if (canCheckIn) {
      const checkIn = (attendance) => (e) => busy(e.currentTarget, () => api("PUT", `/api/meetings/${id}/attendance/me`, { attendance }));
      roomBox.append(h("div.checkin", h("p", { i18n: "live.notCheckedIn" }),
        h("div.checkin-buttons", h("button.primary", { type: "button", i18n: "attendance.in_room", onclick: checkIn("in_room") }),
          s.meeting.onlineAllowed ? h("button.secondary", { type: "button", i18n: "attendance.online", onclick: checkIn("online") }) : null)));
    }
    const online = s.presence.filter((p) => p.connected).length;
    if (s.presence.length) roomBox.append(h("p.muted.small.connected-count", { i18n: ["live.connected", { n: online, total: s.presence.length }] }));
  }

  function renderStageEmpty() {
    clear(stageEmpty);
    const active = s.items.find((i) => i.status === "active");
    if (s.meeting.status !== "live") {
      stageEmpty.append(h("div.stage-card", h("p.kicker", meetingBadge(s.meeting.status)), h("h2", s.meeting.title),
        h("p.muted", { i18n: s.meeting.status === "ended" ? "live.ended" : s.role === "chair" ? "live.waitChair" : "live.waitStart" })));
      return;
    }
    if (!active) {
      stageEmpty.append(h("div.stage-card", h("h2", s.meeting.title), h("p.muted", { i18n: "live.noActiveItem" })));
      return;
    }
    stageEmpty.append(h("div.stage-card", h("p.kicker", { i18n: "live.activeItem" }), h("h2", active.title), active.presenter ? h("p.muted", active.presenter) : null,
      active.description ? h("p.description", active.description) : null, h("p.muted.small", { i18n: "live.pickDocument" })));
  }

  function renderFollow() {
    clear(followBox);
    if (s.presenting) {
      followBox.append(h("span.follow-state.presenting", { i18n: "follow.presenting" }));
    } else if (!s.presenter.documentId) {
      followBox.append(h("span.follow-state.idle", { i18n: "follow.nobody" }));
    } else if (s.following) {
      followBox.append(h("span.follow-state.following", { role: "status" }, icon("follow"), h("span", { i18n: "follow.following" })));
    } else {
      followBox.append(h("span.follow-state.browsing", { i18n: "follow.browsing" }),
        h("button.primary.back", { type: "button", onclick: backToPresenter, i18n: "follow.back" }));
    }
  }

  function renderTools() {
    const hasDoc = Boolean(s.viewDoc);
    for (const el of [prevBtn, nextBtn, thumbsBtn, zoomIn, zoomOut, ...toolButtons, visibilityBtn]) el.disabled = !hasDoc;
    for (const b of [...toolButtons, pointerBtn]) b.setAttribute("aria-pressed", String(b.dataset.tool === s.tool));
    pointerBtn.hidden = !s.presenting;
    if (!s.presenting && s.tool === "pointer") setTool(null);
    visibilityBtn.classList.toggle("shared", s.visibility === "shared");
    visibilityBtn.dataset.visibility = s.visibility;
    clear(visibilityBtn).append(icon(s.visibility === "private" ? "lock" : "users"), h("span", { i18n: s.visibility === "private" ? "tool.private" : "tool.shared" }));
  }

  function renderChair() {
    const manager = s.role === "chair" || s.role === "secretary";
    chairStrip.hidden = !manager;
    if (!manager) return;
    clear(chairStrip);
    const chair = s.role === "chair";
    const status = s.meeting.status;
    const send = (msg) => (e) => busy(e.currentTarget, () => room.send(msg).catch((err) => toast(errorText(err), "error")));
    const group = h("div.tool-group");
    if (chair && status === "scheduled") group.append(h("button.primary", { type: "button", i18n: "chair.start", onclick: send({ type: "meeting.status", status: "live" }) }));
    if (chair && status === "live") {
      const tops = s.items;
      const activeIndex = tops.findIndex((i) => i.status === "active");
      const next = tops.slice(activeIndex + 1).find((i) => i.status !== "done") || (activeIndex < 0 ? tops.find((i) => i.status === "pending") : null);
      if (next) group.append(h("button.secondary", { type: "button", onclick: send({ type: "agenda.item", itemId: next.id, status: "active" }) }, h("span", { i18n: "chair.nextItem" }), h("span.muted.small.next-title", next.title)));
      else if (activeIndex >= 0) group.append(h("button.secondary", { type: "button", i18n: "chair.finishItem", onclick: send({ type: "agenda.item", itemId: tops[activeIndex].id, status: "done" }) }));
      if (s.viewDoc && !s.presenting) group.append(h("button.primary.present", { type: "button", i18n: "chair.present", onclick: presentThis }));
      if (s.presenting) group.append(h("button.secondary", { type: "button", i18n: "chair.stopPresenting", onclick: stopPresenting }));
    }
    if (status === "live" || status === "scheduled") group.append(h("button.secondary", { type: "button", onclick: () => openSpeakers() }, h("span", { i18n: "chair.speakers" }), s.speakers.waiting.length ? h("span.count-badge", String(s.speakers.waiting.length)) : null));
    group.append(h("button.secondary", { type: "button", onclick: openPolls }, h("span", { i18n: "chair.polls" }), s.polls.some((p) => p.state === "open") ? h("span.count-badge", "●") : null));
    group.append(h("a.button.ghost", { href: `/api/meetings/${id}/minutes/pdf`, target: "_blank", rel: "noopener", i18n: "chair.minutes" }));
    if (chair && status === "live") group.append(h("button.ghost.danger", { type: "button", i18n: "chair.end", onclick: async (e) => {
      if (await confirmAction("chair.confirmEnd", null, "chair.end", true)) send({ type: "meeting.status", status: "ended" })(e);
    } }));
    chairStrip.append(group);
  }

  function openPolls() {
    if (pollsPanel) return pollsPanel.close();
    pollsPanel = new PollsPanel({
      meetingId: id,
      panels,
      items: () => s.items,
      chair: s.role === "chair",
      onClose: () => (pollsPanel = null),
      refresh: refreshPolls,
    });
    pollsPanel.render(s.polls);
  }

  start();
  return {
    unmount() {
      document.body.classList.remove("in-room");
      room?.close();
      clearInterval(timer);
      removeEventListener("keydown", onKey);
    },
    onLang() {
      if (s.meeting) renderAll();
      votePanel.render();
      pollsPanel?.render(s.polls);
      speakersPanel?.render();
    },
  };
}
