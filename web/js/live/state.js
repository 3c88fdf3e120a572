// The live screen's state as a pure reducer: apply(state, event, now) → state for every room event
// (docs/protocol.md) and every local action, plus what the panels derive from it. No DOM, no fetch, no
// clock: `now` (milliseconds, the screen's performance.now()) comes in with the event.

const NOBODY = { userId: null, documentId: null, versionId: null, page: 1, viewport: null };
const NO_SPEAKERS = { speaking: null, waiting: [], elapsedSeconds: 0 };
// What a REST load may refresh ("loaded" events); a snapshot carries none of these lists.
const LOADED = ["items", "documents", "polls", "quorum"];

/** The state once the meeting's REST resources are loaded, before the room's snapshot. */
export function initialState({ meetingId, you, meeting, items, documents, polls, quorum }) {
  return {
    meetingId,
    you,
    role: meeting.myRole,
    meeting,
    items,
    documents,
    polls,
    quorum,
    presence: [],
    synced: false, // a snapshot has been applied: the next one comes after a long absence
    presenter: NOBODY,
    speakers: NO_SPEAKERS,
    speakersAt: 0, // `now` when the speakers' elapsedSeconds was true
    following: true,
    view: null, // {doc: {id, title, version}, page, viewport}: what the page viewer shows
    annotations: {}, // id -> annotation of the viewed document version
    pending: {}, // id -> annotation drawn here and not yet stored by the server
    tool: null,
    visibility: "private",
  };
}

/** The state after one event: a room event, or a local one (`loaded`, `view.*`, `ink.*`, `annotation*`). */
export function apply(state, event, now) {
  switch (event.type) {
    case "room.snapshot":
      return snapshot(state, event, now);
    case "loaded":
      return { ...state, ...Object.fromEntries(LOADED.filter((key) => key in event).map((key) => [key, event[key]])) };
    case "meeting.changed":
      // The event is the same for everyone: it carries nobody's own role.
      return { ...state, meeting: { ...event.meeting, myRole: state.meeting.myRole } };
    case "agenda.changed":
      return { ...state, items: event.items };
    case "attendance.changed":
      return { ...state, quorum: event.quorum, presence: updatePresence(state.presence, event.participant.userId, { attendance: event.participant.attendance }) };
    case "presence.changed":
      return { ...state, presence: updatePresence(state.presence, event.userId, { connected: event.connected }) };
    case "participant.changed":
      if (event.participant.userId !== state.you || event.participant.role === state.role) return state;
      return { ...state, role: event.participant.role };
    case "presenter.changed":
    case "page.turn":
      return withPresenter(state, event.presenter);
    case "speaker.queue":
      return withSpeakers(state, event.speakers, now);
    case "document.added":
    case "document.changed":
      return { ...state, documents: [...state.documents.filter((d) => d.id !== event.document.id), event.document] };
    case "document.removed":
      return { ...state, documents: state.documents.filter((d) => d.id !== event.documentId) };
    case "document.render_progress":
      return renderProgress(state, event);
    case "poll.progress":
      // Progress arrives once per ballot: counted here rather than asked of the server each time.
      return { ...state, polls: state.polls.map((p) => (p.id === event.pollId ? { ...p, cast: event.cast, eligible: event.eligible } : p)) };
    case "annotation.add":
    case "annotation.update":
    case "annotation.delete":
      return withAnnotation(state, event.annotation);
    case "annotations.loaded":
      return annotationsLoaded(state, event);
    case "annotation.drawn":
      return withAnnotation({ ...state, pending: { ...state.pending, [event.annotation.id]: event.annotation } }, event.annotation);
    case "annotation.acked": {
      const next = { ...state, pending: without(state.pending, event.id) };
      return event.annotation ? withAnnotation(next, event.annotation) : next;
    }
    case "annotation.refused": {
      const local = state.pending[event.id];
      if (!local) return state;
      return withAnnotation({ ...state, pending: without(state.pending, event.id) }, { ...local, deleted: true });
    }
    case "view.go":
      return goTo(state, event.doc, event.page);
    case "view.follow":
      return backToPresenter(state);
    case "ink.tool":
      return { ...state, tool: event.tool };
    case "ink.visibility":
      return { ...state, visibility: state.visibility === "private" ? "shared" : "private" };
    default:
      return state;
  }
}

function snapshot(state, snap, now) {
  // The snapshot names the active item; the one active before it has been finished meanwhile.
  const active = snap.activeItem;
  const items = active ? state.items.map((i) => (i.id === active.id ? active : i.status === "active" ? { ...i, status: "done" } : i)) : state.items;
  const next = {
    ...state,
    synced: true,
    you: snap.you,
    role: snap.yourRole,
    presence: snap.presence,
    meeting: { ...state.meeting, status: snap.meetingStatus },
    items,
  };
  return withSpeakers(withPresenter(next, snap.presenter), snap.speakers, now);
}

function updatePresence(presence, userId, change) {
  return presence.map((p) => (p.userId === userId ? { ...p, ...change } : p));
}

function withSpeakers(state, speakers, now) {
  return { ...state, speakers: speakers || NO_SPEAKERS, speakersAt: now };
}

/** A new presenter position: followers (and a presenter with nothing open) go there. */
function withPresenter(state, presenter) {
  const next = { ...state, presenter: presenter || NOBODY };
  const mine = isPresenting(next);
  if (mine) next.following = true;
  // The pointer is the presenter's tool only.
  else if (next.tool === "pointer") next.tool = null;
  const { documentId, versionId, page, viewport } = next.presenter;
  if (!documentId || (mine ? state.view : !next.following)) return next;
  const doc = docFor(next, documentId, versionId);
  return doc ? openView(next, doc, page, viewport) : next;
}

/** Go to a page: the presenter moves the room (the screen sends it); anyone else browses on their own. */
function goTo(state, doc, page) {
  if (!doc) return state;
  const target = clampPage(doc, page);
  if (isPresenting(state)) return openView(state, doc, target);
  if (state.view && doc.id === state.view.doc.id && target === state.view.page) return state;
  return openView({ ...state, following: false }, doc, target);
}

function backToPresenter(state) {
  const next = { ...state, following: true };
  const { documentId, versionId, page, viewport } = state.presenter;
  const doc = documentId && docFor(state, documentId, versionId);
  return doc ? openView(next, doc, page, viewport) : next;
}

function openView(state, doc, page, viewport) {
  const view = { doc, page: clampPage(doc, page), viewport: viewport || null };
  const sameVersion = viewKey(state) === versionKey(doc.id, doc.version.id);
  // Another document version starts with no annotations until its list is loaded.
  return { ...state, view, annotations: sameVersion ? state.annotations : {} };
}

function clampPage(doc, page) {
  return Math.min(Math.max(1, page), doc.version.pageCount || 1);
}

function renderProgress(state, { documentId, versionId, renderedPages }) {
  const doc = state.documents.find((d) => d.id === documentId);
  if (!doc || doc.currentVersion.id !== versionId) return state;
  const changed = { ...doc, currentVersion: { ...doc.currentVersion, renderedPages } };
  return { ...state, documents: state.documents.map((d) => (d === doc ? changed : d)) };
}

/** An annotation as it now is (deleted or not), kept when it belongs to the viewed document version. */
function withAnnotation(state, a) {
  if (viewKey(state) !== versionKey(a.documentId, a.versionId)) return state;
  if (!a.deleted) return { ...state, annotations: { ...state.annotations, [a.id]: a } };
  return a.id in state.annotations ? { ...state, annotations: without(state.annotations, a.id) } : state;
}

function annotationsLoaded(state, { documentId, versionId, annotations }) {
  // Still the same document version? The list may come back after a page turn to another document.
  if (viewKey(state) !== versionKey(documentId, versionId)) return state;
  let next = { ...state, annotations: Object.fromEntries(annotations.map((a) => [a.id, a])) };
  // What was drawn while away stays on screen until the server acknowledges it.
  for (const local of Object.values(state.pending)) next = withAnnotation(next, local);
  return next;
}

function without(byId, id) {
  const { [id]: _gone, ...rest } = byId;
  return rest;
}

function versionKey(documentId, versionId) {
  return `${documentId}/${versionId}`;
}

// ------------------------------------------------------------------------------------------ derived

/** "documentId/versionId" of what the viewer shows, or null. */
export function viewKey(state) {
  return state.view ? versionKey(state.view.doc.id, state.view.doc.version.id) : null;
}

export function isPresenting(state) {
  return state.presenter.userId != null && state.presenter.userId === state.you;
}

export function isChair(state) {
  return state.role === "chair";
}

/** The chair and the secretary manage the meeting: start and end it, move through the agenda, conclusions,
 * the polls list, the minutes (the server's rule for each). */
export function isManager(state) {
  return state.role === "chair" || state.role === "secretary";
}

/** Members speak and share notes; guests follow and keep private notes (the server's rule too). */
export function isMember(state) {
  return state.role != null && state.role !== "guest";
}

export function canVote(state) {
  return state.role === "delegate" || state.role === "chair";
}

export function activeItem(state) {
  return state.items.find((i) => i.status === "active") || null;
}

/** The item the chair moves on to: the first not done after the active one (or from the start). */
export function nextItem(state) {
  const activeIndex = state.items.findIndex((i) => i.status === "active");
  return state.items.slice(activeIndex + 1).find((i) => i.status !== "done") || null;
}

/** The documents list: the active item's documents first, then by upload. */
export function sortedDocuments(state) {
  const active = activeItem(state);
  return [...state.documents].sort((a, b) => (b.agendaItemId === active?.id) - (a.agendaItemId === active?.id) || a.id - b.id);
}

/** A document as the viewer opens it: at its current version, or at an older one the presenter shows. */
export function docFor(state, documentId, versionId) {
  const d = state.documents.find((x) => x.id === documentId);
  if (!d) return null;
  const version = versionId && versionId !== d.currentVersion.id
    ? { ...d.currentVersion, id: versionId, pagesUrl: `/api/meetings/${state.meetingId}/documents/${documentId}/versions/${versionId}/pages` }
    : d.currentVersion;
  return { id: d.id, title: d.title, version };
}

/** The presenter shows a document this tablet does not know yet (uploaded after it loaded the list). */
export function missingPresenterDocument(state) {
  const { documentId } = state.presenter;
  return Boolean(documentId) && !state.documents.some((d) => d.id === documentId);
}

/** The viewer shows the presenter's page (where the presenter's pointer belongs). */
export function showingPresenter(state) {
  return Boolean(state.view) && state.presenter.documentId === state.view.doc.id && state.presenter.page === state.view.page;
}

/** A `pointer.move` to show: the presenter's (not one's own), over the page being shown. */
export function showsPointer(state, event) {
  return event.userId === state.presenter.userId && event.userId !== state.you && showingPresenter(state);
}

export function canErase(state, annotation) {
  return annotation.authorId === state.you || (isChair(state) && annotation.visibility === "shared");
}

/** The user may check in: expected (or gone) while the meeting is scheduled or live. */
export function canCheckIn(state) {
  const mine = state.presence.find((p) => p.userId === state.you);
  return Boolean(mine) && ["expected", "left", "absent"].includes(mine.attendance) && ["scheduled", "live"].includes(state.meeting.status);
}

/** Seconds the current speaker has spoken at `now`, counted on from the last queue event. */
export function speakingSeconds(state, now) {
  if (!state.speakers.speaking) return 0;
  return (state.speakers.elapsedSeconds || 0) + (now - state.speakersAt) / 1000;
}

export function isSpeaking(state) {
  return state.speakers.speaking?.userId === state.you;
}

/** The active agenda item's speaker queue: a request stays with the item it was made on, and the
 * server keeps every item's; entries without an `itemId` field (an older server) are all shown. */
export function activeQueue(state) {
  const itemId = activeItem(state)?.id ?? null;
  return state.speakers.waiting.filter((w) => !("itemId" in w) || w.itemId === itemId);
}

/** 0-based place in the active item's queue, -1 when not waiting. */
export function queuePosition(state) {
  return activeQueue(state).findIndex((w) => w.userId === state.you);
}

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** The speaker's timer at `now`, the server's rule (rooms/state.py `timer_phase`): untimed counts up;
 * timed counts down, `warning` (amber) from `warningSeconds` left, `overrun` (red) past the limit,
 * counting the overrun up ("+0:12"). `phase` is null when nobody speaks. */
export function speechTimer(state, now) {
  const sp = state.speakers;
  if (!sp.speaking) return { phase: null, text: "" };
  const spoken = speakingSeconds(state, now);
  if (sp.limitSeconds == null) return { phase: "untimed", text: clock(spoken) };
  const left = sp.limitSeconds - spoken;
  if (left < 0) return { phase: "overrun", text: `+${clock(-left)}` };
  // Rounded up: the last second reads 0:01, and 0:00 only at the limit itself.
  return { phase: left <= (sp.warningSeconds ?? 30) ? "warning" : "running", text: clock(Math.ceil(left)) };
}

/** What the floor button sends: end one's speech, withdraw one's request, or ask for the floor. */
export function floorCommand(state) {
  if (isSpeaking(state)) return "speaker.end";
  return queuePosition(state) >= 0 ? "speaker.withdraw" : "speaker.request";
}
