// The live screen's reducer (web/js/live/state.js): for each event a starting state, the event and the
// state expected after it; apply never changes its input. Run with `node --test tests/web/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  initialState, apply, activeItem, nextItem, sortedDocuments, docFor, speakingSeconds, floorCommand,
  speechTimer, activeQueue, queuePosition,
  canCheckIn, showsPointer, canErase, missingPresenterDocument, viewKey, isMember,
} from "../../web/js/live/state.js";

const ME = 5;
const CHAIR = 4;
const NOBODY = { userId: null, documentId: null, versionId: null, page: 1, viewport: null };
const NO_SPEAKERS = { speaking: null, waiting: [], elapsedSeconds: 0 };

const version = (id, documentId, pageCount) => ({ id, pageCount, renderedPages: pageCount, pagesUrl: `/api/meetings/1/documents/${documentId}/versions/${id}/pages` });
const REPORT = { id: 7, title: "Báo cáo kinh tế - xã hội", agendaItemId: 4, currentVersion: version(12, 7, 24) };
const BUDGET = { id: 8, title: "Dự toán ngân sách", agendaItemId: 3, currentVersion: version(13, 8, 5) };
const ITEMS = [
  { id: 3, parentId: null, title: "Khai mạc", status: "done" },
  { id: 4, parentId: null, title: "Báo cáo", status: "active" },
  { id: 6, parentId: 4, title: "Thảo luận", status: "pending" },
  { id: 5, parentId: null, title: "Dự toán", status: "pending" },
];
const POLL = { id: 2, itemId: 4, state: "open", cast: 3, eligible: 25 };
const MEETING = { id: 1, title: "Kỳ họp thứ 12", status: "live", myRole: "delegate", onlineAllowed: true };

const base = initialState({ meetingId: 1, you: ME, meeting: MEETING, items: ITEMS, documents: [REPORT, BUDGET], polls: [POLL], quorum: null });
const presenter = (page, extra = {}) => ({ userId: CHAIR, documentId: 7, versionId: 12, page, viewport: { x: 0, y: 0.25, zoom: 1.5 }, ...extra });
const reportDoc = { id: 7, title: REPORT.title, version: REPORT.currentVersion };
const budgetDoc = { id: 8, title: BUDGET.title, version: BUDGET.currentVersion };
const view = (doc, page, viewport = null) => ({ doc, page, viewport });
const ink = (id, extra = {}) => ({ id, documentId: 7, versionId: 12, page: 3, kind: "ink", visibility: "shared", authorId: ME, payload: { points: [[0.1, 0.2]] }, deleted: false, ...extra });
// Someone presents page 3 of the report and this tablet follows it there.
const following = { ...base, synced: true, presenter: presenter(3), view: view(reportDoc, 3, presenter(3).viewport) };
const presence = [
  { userId: CHAIR, displayName: "Chủ tọa", role: "chair", attendance: "in_room", connected: true },
  { userId: ME, displayName: "Đại biểu 1", role: "delegate", attendance: "expected", connected: true },
];
const speaking = { speaking: { userId: 6, displayName: "Đại biểu 2" }, waiting: [{ userId: ME, displayName: "Đại biểu 1" }], elapsedSeconds: 75 };

function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// [name, starting state, event, expected state (or "same": the very same object back, nothing to redraw)]
const CASES = [
  ["a first snapshot sets who I am, the room, and follows the presenter",
    base,
    { type: "room.snapshot", seq: 41, you: ME, yourRole: "chair", presence, meetingStatus: "live", activeItem: { ...ITEMS[3], status: "active" }, presenter: presenter(3), speakers: speaking },
    { ...base, synced: true, you: ME, role: "chair", presence, meeting: { ...MEETING, status: "live" },
      items: [ITEMS[0], { ...ITEMS[1], status: "done" }, ITEMS[2], { ...ITEMS[3], status: "active" }],
      presenter: presenter(3), view: view(reportDoc, 3, presenter(3).viewport), speakers: speaking, speakersAt: 1000 }],
  ["a snapshot without presenter or speakers resets both",
    following,
    { type: "room.snapshot", you: ME, yourRole: "delegate", presence: [], meetingStatus: "ended", activeItem: null, presenter: null, speakers: null },
    { ...following, presence: [], meeting: { ...MEETING, status: "ended" }, presenter: NOBODY, speakers: NO_SPEAKERS, speakersAt: 1000 }],
  ["loaded replaces the lists it carries and nothing else",
    base,
    { type: "loaded", items: [ITEMS[0]], quorum: { met: true }, role: "chair" },
    { ...base, items: [ITEMS[0]], quorum: { met: true } }],
  ["meeting.changed keeps my own role",
    base,
    { type: "meeting.changed", meeting: { ...MEETING, status: "ended", myRole: null } },
    { ...base, meeting: { ...MEETING, status: "ended" } }],
  ["agenda.changed replaces the items",
    base,
    { type: "agenda.changed", items: [ITEMS[3]] },
    { ...base, items: [ITEMS[3]] }],
  ["attendance.changed sets the quorum and the participant's attendance",
    { ...base, presence },
    { type: "attendance.changed", quorum: { met: true, present: 2 }, participant: { userId: ME, attendance: "in_room" } },
    { ...base, quorum: { met: true, present: 2 }, presence: [presence[0], { ...presence[1], attendance: "in_room" }] }],
  ["presence.changed marks the user connected or not",
    { ...base, presence },
    { type: "presence.changed", userId: CHAIR, connected: false },
    { ...base, presence: [{ ...presence[0], connected: false }, presence[1]] }],
  ["participant.changed for me changes my role",
    base,
    { type: "participant.changed", participant: { userId: ME, role: "guest" } },
    { ...base, role: "guest" }],
  ["participant.changed for someone else changes nothing",
    base,
    { type: "participant.changed", participant: { userId: CHAIR, role: "guest" } },
    "same"],
  ["page.turn moves a follower to the presenter's page",
    following,
    { type: "page.turn", presenter: presenter(4) },
    { ...following, presenter: presenter(4), view: view(reportDoc, 4, presenter(4).viewport) }],
  ["page.turn past the end shows the last page",
    following,
    { type: "page.turn", presenter: presenter(99) },
    { ...following, presenter: presenter(99), view: view(reportDoc, 24, presenter(99).viewport) }],
  ["page.turn leaves someone browsing where they are",
    { ...following, following: false, view: view(budgetDoc, 2) },
    { type: "page.turn", presenter: presenter(4) },
    { ...following, following: false, view: view(budgetDoc, 2), presenter: presenter(4) }],
  ["presenter.changed to an unknown document shows nothing new yet",
    following,
    { type: "presenter.changed", presenter: presenter(1, { documentId: 99, versionId: 100 }) },
    { ...following, presenter: presenter(1, { documentId: 99, versionId: 100 }) }],
  ["presenter.changed to an older version opens that version's pages",
    base,
    { type: "presenter.changed", presenter: presenter(2, { versionId: 11 }) },
    { ...base, presenter: presenter(2, { versionId: 11 }),
      view: view({ ...reportDoc, version: { ...REPORT.currentVersion, id: 11, pagesUrl: "/api/meetings/1/documents/7/versions/11/pages" } }, 2, presenter(2).viewport) }],
  ["becoming presenter while browsing follows again but keeps the page in front of me",
    { ...following, following: false, view: view(budgetDoc, 2) },
    { type: "presenter.changed", presenter: presenter(3, { userId: ME }) },
    { ...following, following: true, view: view(budgetDoc, 2), presenter: presenter(3, { userId: ME }) }],
  ["becoming presenter with nothing open opens the presented page",
    base,
    { type: "presenter.changed", presenter: presenter(3, { userId: ME }) },
    { ...base, presenter: presenter(3, { userId: ME }), view: view(reportDoc, 3, presenter(3).viewport) }],
  ["no longer presenting puts the pointer down",
    { ...following, presenter: presenter(3, { userId: ME }), tool: "pointer" },
    { type: "presenter.changed", presenter: null },
    { ...following, presenter: NOBODY, tool: null }],
  ["speaker.queue sets the queue and when it was true",
    base,
    { type: "speaker.queue", action: "request", userId: ME, speakers: speaking },
    { ...base, speakers: speaking, speakersAt: 1000 }],
  ["document.added appends the document",
    { ...base, documents: [BUDGET] },
    { type: "document.added", document: REPORT },
    { ...base, documents: [BUDGET, REPORT] }],
  ["document.changed replaces the document",
    base,
    { type: "document.changed", document: { ...REPORT, title: "Báo cáo (sửa)" } },
    { ...base, documents: [BUDGET, { ...REPORT, title: "Báo cáo (sửa)" }] }],
  ["document.removed drops the document",
    base,
    { type: "document.removed", documentId: 7 },
    { ...base, documents: [BUDGET] }],
  ["document.render_progress counts the current version's pages",
    base,
    { type: "document.render_progress", documentId: 8, versionId: 13, renderedPages: 2 },
    { ...base, documents: [REPORT, { ...BUDGET, currentVersion: { ...BUDGET.currentVersion, renderedPages: 2 } }] }],
  ["document.render_progress of an old version changes nothing",
    base,
    { type: "document.render_progress", documentId: 8, versionId: 9, renderedPages: 2 },
    "same"],
  ["poll.progress counts the ballots",
    base,
    { type: "poll.progress", pollId: 2, cast: 4, eligible: 25 },
    { ...base, polls: [{ ...POLL, cast: 4 }] }],
  ["annotation.add of the viewed version shows it",
    following,
    { type: "annotation.add", annotation: ink("a1") },
    { ...following, annotations: { a1: ink("a1") } }],
  ["annotation.add of another document is not kept",
    following,
    { type: "annotation.add", annotation: ink("a1", { documentId: 8, versionId: 13 }) },
    "same"],
  ["annotation.update replaces it",
    { ...following, annotations: { a1: ink("a1") } },
    { type: "annotation.update", annotation: ink("a1", { visibility: "private" }) },
    { ...following, annotations: { a1: ink("a1", { visibility: "private" }) } }],
  ["annotation.delete removes it",
    { ...following, annotations: { a1: ink("a1"), a2: ink("a2") } },
    { type: "annotation.delete", annotation: ink("a1", { deleted: true }) },
    { ...following, annotations: { a2: ink("a2") } }],
  ["annotation.delete of one never shown changes nothing",
    following,
    { type: "annotation.delete", annotation: ink("a1", { deleted: true }) },
    "same"],
  ["annotations.loaded shows the list and keeps what still waits for the server",
    { ...following, annotations: { old: ink("old") }, pending: { p1: ink("p1") } },
    { type: "annotations.loaded", documentId: 7, versionId: 12, annotations: [ink("a1")] },
    { ...following, annotations: { a1: ink("a1"), p1: ink("p1") }, pending: { p1: ink("p1") } }],
  ["annotations.loaded for a version no longer shown changes nothing",
    following,
    { type: "annotations.loaded", documentId: 8, versionId: 13, annotations: [ink("a1")] },
    "same"],
  ["annotation.drawn shows it and keeps it waiting",
    following,
    { type: "annotation.drawn", annotation: ink("p1") },
    { ...following, annotations: { p1: ink("p1") }, pending: { p1: ink("p1") } }],
  ["annotation.acked shows the stored one and stops waiting",
    { ...following, annotations: { p1: ink("p1") }, pending: { p1: ink("p1") } },
    { type: "annotation.acked", id: "p1", annotation: ink("p1", { createdAt: "2026-12-01T01:14:00Z" }) },
    { ...following, annotations: { p1: ink("p1", { createdAt: "2026-12-01T01:14:00Z" }) }, pending: {} }],
  ["annotation.refused takes it away",
    { ...following, annotations: { p1: ink("p1") }, pending: { p1: ink("p1") } },
    { type: "annotation.refused", id: "p1" },
    { ...following, annotations: {}, pending: {} }],
  ["view.go elsewhere browses freely and starts another document's annotations afresh",
    { ...following, annotations: { a1: ink("a1") } },
    { type: "view.go", doc: budgetDoc, page: 0 },
    { ...following, following: false, view: view(budgetDoc, 1), annotations: {} }],
  ["view.go to the page shown changes nothing",
    following,
    { type: "view.go", doc: reportDoc, page: 3 },
    "same"],
  ["view.go by the presenter keeps presenting",
    { ...following, presenter: presenter(3, { userId: ME }), annotations: { a1: ink("a1") } },
    { type: "view.go", doc: reportDoc, page: 4 },
    { ...following, presenter: presenter(3, { userId: ME }), view: view(reportDoc, 4), annotations: { a1: ink("a1") } }],
  ["view.follow goes back to the presenter's page",
    { ...following, following: false, view: view(budgetDoc, 2) },
    { type: "view.follow" },
    { ...following, view: view(reportDoc, 3, presenter(3).viewport) }],
  ["view.follow with nobody presenting only follows",
    { ...base, following: false },
    { type: "view.follow" },
    base],
  ["ink.tool picks a tool",
    base,
    { type: "ink.tool", tool: "pen" },
    { ...base, tool: "pen" }],
  ["ink.visibility switches private and shared",
    base,
    { type: "ink.visibility" },
    { ...base, visibility: "shared" }],
  ["pointer.move is not state",
    following,
    { type: "pointer.move", userId: CHAIR, x: 0.4, y: 0.6 },
    "same"],
];

for (const [name, start, event, expected] of CASES) {
  test(name, () => {
    // Frozen: a reducer that changed its input would throw here.
    const next = apply(deepFreeze(start), event, 1000);
    if (expected === "same") assert.equal(next, start);
    else assert.deepEqual(next, expected);
  });
}

test("apply leaves every starting state as it was", () => {
  for (const [, start, event] of CASES) {
    const copy = structuredClone(start);
    apply(start, event, 1000);
    assert.deepEqual(start, copy);
  }
});

test("the chair's next item is the first not done after the active one, else none", () => {
  const items = (...statuses) => statuses.map((status, i) => ({ id: i + 1, status }));
  const next = (...statuses) => nextItem({ items: items(...statuses) })?.id ?? null;
  assert.equal(next("done", "active", "pending", "pending"), 3);
  assert.equal(next("done", "active", "done", "pending"), 4);
  assert.equal(next("pending", "done", "active"), null);
  assert.equal(next("done", "pending", "pending"), 2);
  assert.equal(next(), null);
  assert.equal(activeItem({ items: items("done", "active") }).id, 2);
});

test("the active item's documents come first, then by id", () => {
  assert.deepEqual(sortedDocuments({ ...base, documents: [BUDGET, { ...REPORT, id: 9, agendaItemId: 4 }, REPORT] }).map((d) => d.id), [7, 9, 8]);
});

test("a document opens at its current version unless an older one is asked for", () => {
  assert.deepEqual(docFor(base, 7), reportDoc);
  assert.deepEqual(docFor(base, 7, 12), reportDoc);
  assert.equal(docFor(base, 7, 11).version.pagesUrl, "/api/meetings/1/documents/7/versions/11/pages");
  assert.equal(docFor(base, 99), null);
  assert.equal(missingPresenterDocument({ ...base, presenter: presenter(1, { documentId: 99 }) }), true);
  assert.equal(missingPresenterDocument(following), false);
  assert.equal(viewKey(following), "7/12");
});

test("the speaker's time counts on from the queue event", () => {
  const s = apply(base, { type: "speaker.queue", speakers: speaking }, 10_000);
  assert.equal(speakingSeconds(s, 10_000), 75);
  assert.equal(speakingSeconds(s, 12_500), 77.5);
  assert.equal(speakingSeconds(base, 12_500), 0);
});

// [limit, seconds spoken (75 at the event, then counted on), phase, text]: the server's rule
// (rooms/state.py timer_phase) as the tablet shows it.
const TIMERS = [
  [null, 75, "untimed", "1:15"],
  [180, 75, "running", "1:45"],
  [105, 74.5, "running", "0:31"],
  [105, 75, "warning", "0:30"], // 30 s left: amber
  [105, 104.2, "warning", "0:01"], // the last second still counts down
  [105, 105, "warning", "0:00"],
  [105, 117, "overrun", "+0:12"], // red, counting up
  [60, 200, "overrun", "+2:20"],
];
for (const [limitSeconds, spoken, phase, text] of TIMERS) {
  test(`the speaker's timer with limit ${limitSeconds} after ${spoken} s reads ${text} (${phase})`, () => {
    const s = apply(base, { type: "speaker.queue", speakers: { ...speaking, limitSeconds, warningSeconds: 30 } }, 10_000);
    assert.deepEqual(speechTimer(s, 10_000 + (spoken - 75) * 1000), { phase, text });
  });
}

test("nobody speaking: no timer", () => {
  assert.deepEqual(speechTimer(base, 5_000), { phase: null, text: "" });
});

test("the queue shown is the active item's; the others are kept for when their item is active", () => {
  // Item 4 is active in ITEMS.
  const queues = { ...speaking, waiting: [{ userId: 9, itemId: 3 }, { userId: ME, itemId: 4 }, { userId: 7, itemId: 4 }] };
  const s = apply(base, { type: "speaker.queue", speakers: queues }, 0);
  assert.deepEqual(activeQueue(s).map((w) => w.userId), [ME, 7]);
  assert.equal(queuePosition(s), 0);
  // The chair activates item 5: its queue is empty, and this tablet no longer waits there.
  const moved = apply(s, { type: "agenda.changed", items: ITEMS.map((i) => ({ ...i, status: i.id === 5 ? "active" : i.id === 4 ? "done" : i.status })) }, 0);
  assert.deepEqual(activeQueue(moved), []);
  assert.equal(floorCommand(moved), "speaker.request");
  // Back on item 3: the request made there is found again.
  const back = apply(s, { type: "agenda.changed", items: ITEMS.map((i) => ({ ...i, status: i.id === 3 ? "active" : i.id === 4 ? "done" : i.status })) }, 0);
  assert.deepEqual(activeQueue(back).map((w) => w.userId), [9]);
});

test("the floor button ends my speech, withdraws my request or asks for the floor", () => {
  assert.equal(floorCommand(base), "speaker.request");
  assert.equal(floorCommand({ ...base, speakers: speaking }), "speaker.withdraw");
  assert.equal(floorCommand({ ...base, speakers: { ...speaking, speaking: { userId: ME } } }), "speaker.end");
});

test("check-in is offered while expected and the meeting is scheduled or live", () => {
  assert.equal(canCheckIn({ ...base, presence }), true);
  assert.equal(canCheckIn({ ...base, presence, meeting: { ...MEETING, status: "ended" } }), false);
  assert.equal(canCheckIn({ ...base, presence: [presence[0], { ...presence[1], attendance: "online" }] }), false);
  assert.equal(canCheckIn(base), false);
});

test("the presenter's pointer shows over the presenter's page only, never one's own", () => {
  const move = { type: "pointer.move", userId: CHAIR, x: 0.4, y: 0.6 };
  assert.equal(showsPointer(following, move), true);
  assert.equal(showsPointer({ ...following, view: view(reportDoc, 4) }, move), false);
  assert.equal(showsPointer(following, { ...move, userId: 6 }), false);
  assert.equal(showsPointer({ ...following, presenter: presenter(3, { userId: ME }) }, { ...move, userId: ME }), false);
});

test("one erases one's own annotations; the chair also the shared ones", () => {
  assert.equal(canErase(base, ink("a1")), true);
  assert.equal(canErase(base, ink("a1", { authorId: 6 })), false);
  assert.equal(canErase({ ...base, role: "chair" }, ink("a1", { authorId: 6 })), true);
  assert.equal(canErase({ ...base, role: "chair" }, ink("a1", { authorId: 6, visibility: "private" })), false);
});

test("members speak and share; guests and those without a seat only follow", () => {
  for (const [role, member] of [["delegate", true], ["chair", true], ["secretary", true], ["guest", false], [null, false]]) {
    assert.equal(isMember({ ...base, role }), member, role);
  }
});
