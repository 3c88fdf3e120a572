// The live meeting, wired: the room socket's events (docs/protocol.md) and the screen's own actions go
// through the pure reducer in live/state.js, then every panel under live/ renders from the new state.
// What an event sets off beyond the state (reloads, toasts, leaving the room) is decided here.
import { h } from "../dom.js";
import { api, session, errorText } from "../api.js";
import { t } from "../i18n.js";
import { Room } from "../room.js";
import { showError, toast } from "../ui.js";
import { initialState, apply, isChair, isPresenting, canVote, docFor, missingPresenterDocument, viewKey } from "../live/state.js";
import { whenChanged } from "../live/panel.js";
import { annotationCommands } from "../live/annotations.js";
import { statusPanel } from "../live/status.js";
import { agendaPanel } from "../live/agenda.js";
import { documentsPanel } from "../live/documents.js";
import { attendancePanel } from "../live/attendance.js";
import { drawerPanel } from "../live/drawer.js";
import { stagePanel } from "../live/stage.js";
import { viewerPanel } from "../live/viewer.js";
import { inkPanel } from "../live/ink.js";
import { speakersPanel } from "../live/speakers.js";
import { searchPanel } from "../live/search.js";
import { chairPanel } from "../live/chair.js";
import { openItemSheet } from "../live/item.js";
import { VotePanel, PollsPanel } from "../live/votes.js";

export function liveScreen(shell, { id }, { navigate }) {
  let state = null;
  let room = null;
  let timer = null;
  let itemSheet = null;
  let pollsSheet = null;
  shell.main.classList.add("live-screen");
  // In the room every pixel of the top bar goes to the meeting and its state (the name is in the menu).
  document.body.classList.add("in-room");

  // ------------------------------------------------------------------------------------ commands
  /** Send a room command; a refusal is told in a toast. */
  const send = (msg, options) => room.send(msg, options).catch((err) => toast(errorText(err), "error"));
  const turn = (doc, page) => ({ type: "page.turn", documentId: doc.id, versionId: doc.version.id, page, viewport: viewer.viewport() });

  /** Apply a room or local event; redraw what it changed, and load the annotations of a newly viewed version. */
  function dispatch(event) {
    const before = state;
    state = apply(state, event, performance.now());
    if (state === before) return;
    render();
    if (viewKey(state) !== viewKey(before)) annotations.reload();
  }

  /** Go to a page: the presenter moves the room; anyone else browses on their own. */
  function goTo(doc, page) {
    if (!doc) return;
    dispatch({ type: "view.go", doc, page });
    if (isPresenting(state)) send(turn(doc, state.view.page), { latest: true });
  }

  const openDocument = (documentId, open) => goTo(docFor(state, documentId), open ? state.view.page : 1);

  function presentThis() {
    if (state.view) send(turn(state.view.doc, state.view.page));
  }

  const annotations = annotationCommands({ meetingId: id, send: (msg, options) => room.send(msg, options), dispatch, current: () => state });

  // ------------------------------------------------------------------------------------ layout
  const status = statusPanel({ onBack: () => dispatch({ type: "view.follow" }) });
  const agenda = agendaPanel({ send, onOpen: openItem });
  const documents = documentsPanel({ onOpen: openDocument });
  const attendance = attendancePanel({ meetingId: id });
  const drawer = drawerPanel({ agenda, documents, attendance });
  const stage = stagePanel();
  const viewer = viewerPanel({
    onNavigate: goTo,
    onDraw: annotations.draw,
    onErase: annotations.erase,
    // The newest position wins; a refused one needs no word (the next page turn will tell).
    onViewport: () => state.view && room?.send(turn(state.view.doc, state.view.page), { latest: true }).catch(() => {}),
    post: (msg) => room?.post(msg),
  });
  const ink = inkPanel({ onTool: (tool) => dispatch({ type: "ink.tool", tool }), onVisibility: () => dispatch({ type: "ink.visibility" }) });
  const panels = h("div.panels");
  const votes = new VotePanel({ meetingId: id, panels });
  const speakers = speakersPanel({ send, panels });
  const search = searchPanel({ meetingId: id, panels, onOpen: (documentId, versionId, page) => goTo(docFor(state, documentId, versionId), page) });
  const chair = chairPanel({
    meetingId: id,
    send,
    onPresent: presentThis,
    onStopPresenting: () => send({ type: "presenter.set", userId: null }),
    onSpeakers: speakers.toggle,
    onPolls: togglePolls,
  });
  const renderPolls = whenChanged((s) => [s.polls], (s) => pollsSheet?.render(s.polls));

  const toolbar = h("footer.toolbar", viewer.tools, ink.el, h("div.tool-group.end", search.button, h("div.tool-group.floor-tools", speakers.chip, speakers.floor)));
  shell.main.append(h("div.live-body", drawer.el, h("section.stage", stage.el, viewer.el, panels), drawer.scrim), viewer.thumbs, chair.el, toolbar);
  shell.setStatus(...status.nodes);

  function render(options) {
    for (const panel of [status, agenda, documents, attendance, drawer, stage, viewer, ink, speakers, chair]) panel.render(state, options);
    renderPolls(state, options);
  }

  function openItem(item) {
    itemSheet?.close();
    itemSheet = openItemSheet({ meetingId: id, panels, item, current: () => state, onOpenDocument: openDocument, onClose: () => (itemSheet = null) });
  }

  function togglePolls() {
    if (pollsSheet) return pollsSheet.close();
    pollsSheet = new PollsPanel({ meetingId: id, panels, items: () => state.items, chair: isChair(state), onClose: () => (pollsSheet = null), refresh: refreshPolls });
    pollsSheet.render(state.polls);
  }

  // ----------------------------------------------------------------------------------- the room
  async function load() {
    const [meeting, items, docs, attendanceNow, polls] = await Promise.all([
      api("GET", `/api/meetings/${id}`),
      api("GET", `/api/meetings/${id}/agenda/`),
      api("GET", `/api/meetings/${id}/documents`).catch(() => []),
      api("GET", `/api/meetings/${id}/attendance`).catch(() => null),
      api("GET", `/api/meetings/${id}/polls`).catch(() => []),
    ]);
    return { meeting, items, documents: docs, polls, quorum: attendanceNow?.quorum || null };
  }

  async function start() {
    let loaded;
    try {
      loaded = await load();
    } catch (err) {
      showError(err);
      if (err.status === 404) navigate("#/");
      return;
    }
    state = initialState({ meetingId: id, you: session.user?.id, ...loaded });
    shell.setTitle(drawer.toggle, h("h1.title", loaded.meeting.title));
    render();
    room = new Room(id, {
      onSnapshot: receive,
      onEvent: receive,
      onReconnected: () => {
        annotations.reload();
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
    timer = setInterval(() => speakers.tick(), 1000);
    addEventListener("keydown", onKey);
  }

  /** An event from the room: into the state, then what it sets off beyond it. */
  function receive(event) {
    const before = state;
    dispatch(event);
    switch (event.type) {
      case "room.snapshot":
        if (before.synced) {
          // A fresh snapshot after a long absence: what it does not carry may have changed too, and it
          // carries no annotations either (shared ones added or erased meanwhile are only in the list).
          reloadLists();
          annotations.reload();
        }
        followUnknownDocument();
        refreshPolls();
        break;
      case "presenter.changed":
      case "page.turn":
        followUnknownDocument();
        break;
      case "pointer.move":
        viewer.pointer(event);
        break;
      case "meeting.changed":
        if (event.meeting.status === "ended") toast(t("live.meetingEnded"));
        break;
      case "speaker.queue":
        if (event.action === "grant" && event.userId === state.you) toast(t("speakers.yourTurn"), "accent");
        break;
      case "participant.removed":
        if (event.userId === state.you) {
          toast(t("room.closed.forbidden"), "error");
          navigate("#/");
        }
        break;
      default:
        if (event.type.startsWith("poll.")) {
          votes.event(event);
          // Progress is counted by the reducer; anything else may change a poll's state or result.
          if (event.type !== "poll.progress") refreshPolls();
        } else if (event.type.startsWith("conclusion.")) itemSheet?.refresh();
    }
  }

  function reloadLists() {
    Promise.all([
      api("GET", `/api/meetings/${id}/agenda/`),
      api("GET", `/api/meetings/${id}/documents`),
      api("GET", `/api/meetings/${id}/attendance`),
    ]).then(([items, docs, attendanceNow]) => dispatch({ type: "loaded", items, documents: docs, quorum: attendanceNow.quorum }), showError);
  }

  /** The presenter shows a document uploaded after this tablet loaded the list: fetch it, then follow. */
  function followUnknownDocument() {
    if (!missingPresenterDocument(state)) return;
    api("GET", `/api/meetings/${id}/documents`).then((docs) => {
      dispatch({ type: "loaded", documents: docs });
      if (docs.some((d) => d.id === state.presenter.documentId)) dispatch({ type: "presenter.changed", presenter: state.presenter });
    }, showError);
  }

  async function refreshPolls() {
    let polls;
    try {
      polls = await api("GET", `/api/meetings/${id}/polls`);
    } catch {
      return;
    }
    dispatch({ type: "loaded", polls });
    votes.update(state.polls, { canVote: canVote(state) });
  }

  function onKey(e) {
    if (e.target.closest("input, textarea, select, dialog")) return;
    if (!state.view) return;
    if (e.key === "ArrowRight" || e.key === "PageDown") goTo(state.view.doc, state.view.page + 1);
    else if (e.key === "ArrowLeft" || e.key === "PageUp") goTo(state.view.doc, state.view.page - 1);
    else return;
    e.preventDefault();
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
      if (state) render({ force: true });
      votes.render();
      pollsSheet?.render(state.polls);
    },
  };
}
