// What the viewer draws for each annotation, as plain data: no DOM, so a malformed annotation is found
// here (and tested under Node) instead of throwing halfway through drawing a page. The server checks
// payloads (meeting/rooms/schemas.py PAYLOADS); an older server or a bug may still send one that does not
// fit, and then only that one is left out.

export const COLORS = { ink: "#c62828", highlight: "#f5c400" };
const WIDTHS = { ink: 3, highlight: 18 };
const COLOR = /^#(?:[0-9a-fA-F]{3}){1,2}$/;

function fail(what) {
  throw new Error(what);
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

// Coordinates are not held to 0..1 here: strokes stored before the server checked them may run a little
// past the page's edge, and the SVG clips them; what cannot be drawn at all is what is refused.
function numbers(list, length, what) {
  if (!Array.isArray(list) || list.length !== length || !list.every(finite)) fail(`${what} is not ${length} numbers`);
  return list;
}

// A colour the server would not take (an older one took any string) falls back to the tool's.
function colorOf(p, fallback) {
  return typeof p.color === "string" && COLOR.test(p.color) ? p.color : fallback;
}

function strokeShapes(a, p) {
  const shapes = [];
  const { points = [], rects = [] } = p;
  if (!Array.isArray(points)) fail("points is not a list");
  if (!Array.isArray(rects)) fail("rects is not a list");
  if (!points.length && !rects.length) fail("nothing to draw");
  if (points.length) {
    const pairs = points.map((pt, i) => numbers(pt, 2, `point ${i}`));
    const width = finite(p.width) && p.width > 0 ? p.width : WIDTHS[a.kind] || WIDTHS.ink;
    shapes.push({
      tag: "polyline",
      attrs: { points: pairs.map(([x, y]) => `${x},${y}`).join(" "), stroke: colorOf(p, COLORS[a.kind]), "stroke-width": String(width), "vector-effect": "non-scaling-stroke" },
    });
  }
  rects.forEach((r, i) => {
    const [x1, y1, x2, y2] = numbers(r, 4, `rect ${i}`);
    shapes.push({
      tag: "rect",
      attrs: { x: String(x1), y: String(y1), width: String(Math.max(0, x2 - x1)), height: String(Math.max(0, y2 - y1)), fill: colorOf(p, COLORS.highlight) },
    });
  });
  return shapes;
}

/** What to draw for one annotation: `{note: {x, y, text}}` or `{shapes: [{tag, attrs}]}` (SVG, in page
 * fractions). Throws if the annotation cannot be drawn. */
export function drawing(a) {
  if (!a || typeof a !== "object") fail("not an object");
  const p = a.payload;
  if (!p || typeof p !== "object" || Array.isArray(p)) fail("payload is not an object");
  if (a.kind === "note") {
    if (!finite(p.x) || !finite(p.y)) fail("a note without x and y");
    if (typeof p.text !== "string") fail("a note without text");
    return { note: { x: p.x, y: p.y, text: p.text } };
  }
  if (a.kind !== "ink" && a.kind !== "highlight") fail(`unknown kind ${String(a.kind)}`);
  return { shapes: strokeShapes(a, p) };
}

/** The drawings of a page's annotations, each on its own: `drawn` [{annotation, drawing}] in the given
 * order, and `skipped` [{annotation, reason}] for those that cannot be drawn. */
export function drawPage(annotations, page) {
  const drawn = [];
  const skipped = [];
  for (const a of annotations) {
    if (!a || a.page !== page || a.deleted) continue;
    try {
      drawn.push({ annotation: a, drawing: drawing(a) });
    } catch (err) {
      // Whatever went wrong with this one (a bad payload, or a bug here), the page's others still show.
      skipped.push({ annotation: a, reason: String(err?.message || err) });
    }
  }
  return { drawn, skipped };
}
