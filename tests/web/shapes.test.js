// The viewer's drawing of annotations (web/js/shapes.js): what the tablet draws today becomes SVG shapes
// or a note; a malformed annotation is skipped on its own, never the page's others. Run with
// `node --test tests/web/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { COLORS, drawing, drawPage } from "../../web/js/shapes.js";

const base = { documentId: 7, versionId: 12, page: 3, visibility: "shared", authorId: 5, deleted: false };
const ann = (id, kind, payload, extra = {}) => ({ ...base, id, kind, payload, ...extra });

const PEN = ann("pen", "ink", { points: [[0.2, 0.3], [0.5, 0.35]], width: 3 });
const HIGHLIGHTER = ann("hl", "highlight", { points: [[0.1, 0.3], [0.42, 0.3]], width: 18 });
const RECTS = ann("rects", "highlight", { rects: [[0.1, 0.2, 0.5, 0.23]] });
const NOTE = ann("note", "note", { x: 0.6, y: 0.25, text: "Đề nghị bổ sung số liệu quý IV" });

test("a pen stroke is a polyline in page fractions with its width", () => {
  assert.deepEqual(drawing(PEN), {
    shapes: [{ tag: "polyline", attrs: { points: "0.2,0.3 0.5,0.35", stroke: COLORS.ink, "stroke-width": "3", "vector-effect": "non-scaling-stroke" } }],
  });
});

test("a highlighter stroke and a highlight's rectangles are drawn in the highlight colour", () => {
  assert.equal(drawing(HIGHLIGHTER).shapes[0].attrs.stroke, COLORS.highlight);
  assert.equal(drawing(HIGHLIGHTER).shapes[0].attrs["stroke-width"], "18");
  assert.deepEqual(drawing(RECTS).shapes, [
    { tag: "rect", attrs: { x: "0.1", y: "0.2", width: "0.4", height: String(0.23 - 0.2), fill: COLORS.highlight } },
  ]);
});

test("a note is its place and text", () => {
  assert.deepEqual(drawing(NOTE), { note: { x: 0.6, y: 0.25, text: "Đề nghị bổ sung số liệu quý IV" } });
});

test("a colour the server would not take falls back to the tool's, a valid one is kept", () => {
  const bad = ann("c1", "ink", { points: [[0.1, 0.1]], color: "url(#x)" });
  assert.equal(drawing(bad).shapes[0].attrs.stroke, COLORS.ink);
  const good = ann("c2", "ink", { points: [[0.1, 0.1]], color: "#d00", width: 2 });
  assert.equal(drawing(good).shapes[0].attrs.stroke, "#d00");
});

const MALFORMED = [
  ["numbers instead of lists", ann("m1", "highlight", { rects: 5, points: [7] })],
  ["a point that is not a pair", ann("m2", "ink", { points: [[0.1, 0.2, 0.3]] })],
  ["a point that is text", ann("m3", "ink", { points: [["a", "b"]] })],
  ["a rect of three numbers", ann("m4", "highlight", { rects: [[0.1, 0.2, 0.3]] })],
  ["nothing to draw", ann("m5", "highlight", {})],
  ["no payload", ann("m6", "ink", null)],
  ["a note without its place", ann("m7", "note", { text: "hỏi lại" })],
  ["a note without text", ann("m8", "note", { x: 0.1, y: 0.1, text: 5 })],
  ["an unknown kind", ann("m9", "stamp", { points: [[0.1, 0.1]] })],
];

for (const [what, a] of MALFORMED) {
  test(`an annotation with ${what} cannot be drawn`, () => {
    assert.throws(() => drawing(a));
  });
}

test("one malformed annotation is skipped and the page's others are still drawn, in order", () => {
  const list = [PEN, MALFORMED[0][1], HIGHLIGHTER, ...MALFORMED.slice(1).map(([, a]) => a), RECTS, NOTE];
  const { drawn, skipped } = drawPage(list, 3);
  assert.deepEqual(drawn.map((d) => d.annotation.id), ["pen", "hl", "rects", "note"]);
  assert.deepEqual(skipped.map((s) => s.annotation.id), MALFORMED.map(([, a]) => a.id));
  assert.ok(skipped.every((s) => typeof s.reason === "string" && s.reason));
});

test("only the page's live annotations are drawn", () => {
  const other = { ...PEN, id: "p4", page: 4 };
  const gone = { ...NOTE, id: "gone", deleted: true };
  const { drawn, skipped } = drawPage(new Map([[1, PEN], [2, other], [3, gone], [4, null]]).values(), 3);
  assert.deepEqual(drawn.map((d) => d.annotation.id), ["pen"]);
  assert.deepEqual(skipped, []);
});
