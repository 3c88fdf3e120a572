// The page viewer of the live screen: web/js/viewer.js kept at the state's view with its annotations, tool
// and visibility; the presenter's pointer and viewport; page navigation and zoom.
import { h, setAttr, field } from "../dom.js";
import { Viewer } from "../viewer.js";
import { icon } from "../icons.js";
import { dialog } from "../ui.js";
import { isPresenting, canErase, showingPresenter, showsPointer, viewKey } from "./state.js";

const VIEWPORT_REST_MS = 350;
const POINTER_FADE_MS = 5000;

/** Commands: `onNavigate(doc, page)`, `onDraw(draft)`, `onErase(annotation)`, `onViewport()` (the
 * presenter's zoom or scroll settled) and `post(msg)` (fire and forget). */
export function viewerPanel({ onNavigate, onDraw, onErase, onViewport, post }) {
  let state = null;
  let shown = { view: null, key: null, annotations: {} };
  let viewportTimer = null;
  let pointerTimer = null;

  const viewer = new Viewer({
    me: null,
    onNavigate: (page) => onNavigate(state.view?.doc, page),
    onDraw,
    onErase,
    onPointer: (x, y) => {
      if (!isPresenting(state)) return;
      // The server keeps at most 30 positions a second and drops the rest silently: send the "hide"
      // a moment later so it is not the one dropped.
      if (x == null) setTimeout(() => post({ type: "pointer.move", x: null, y: null }), 120);
      else post({ type: "pointer.move", x, y });
    },
    canErase: (a) => canErase(state, a),
    onNoteText: askNote,
  });
  viewer.el.hidden = true;

  // The presenter's zoom and scroll move the room too, once the hand rests (and only the newest counts).
  const viewportMoved = () => {
    if (!isPresenting(state) || !state.view) return;
    clearTimeout(viewportTimer);
    viewportTimer = setTimeout(onViewport, VIEWPORT_REST_MS);
  };
  viewer.scroller.addEventListener("scroll", viewportMoved, { passive: true });
  viewer.onZoom = viewportMoved;

  const step = (delta) => () => onNavigate(state.view?.doc, viewer.page + delta);
  const prevBtn = h("button.nav", { type: "button", onclick: step(-1) }, icon("prev"));
  const nextBtn = h("button.nav", { type: "button", onclick: step(1) }, icon("next"));
  setAttr(prevBtn, "aria-label", "viewer.prev");
  setAttr(nextBtn, "aria-label", "viewer.next");
  const thumbsBtn = h("button.tool", { type: "button", "aria-pressed": "false", onclick: () => {
    viewer.thumbs.hidden = !viewer.thumbs.hidden;
    thumbsBtn.setAttribute("aria-pressed", String(!viewer.thumbs.hidden));
  } }, icon("pages"), h("span", { i18n: "viewer.pages" }));
  const zoomOut = h("button.tool.icon-only", { type: "button", onclick: () => viewer.setZoom(viewer.zoom - 0.25) }, icon("zoomOut"));
  const zoomIn = h("button.tool.icon-only", { type: "button", onclick: () => viewer.setZoom(viewer.zoom + 0.25) }, icon("zoomIn"));
  setAttr(zoomOut, "aria-label", "viewer.zoomOut");
  setAttr(zoomIn, "aria-label", "viewer.zoomIn");
  // Zoom floats on the page's corner: the toolbar keeps its room for the tools.
  viewer.el.append(h("div.zoom-controls", zoomIn, zoomOut));
  const tools = h("div.tool-group.doc-tools", prevBtn, viewer.pageLabel, nextBtn, thumbsBtn);

  async function askNote() {
    const text = h("textarea", { rows: 4, maxlength: 2000 });
    const ok = await dialog({
      titleKey: state.visibility === "private" ? "note.titlePrivate" : "note.titleShared",
      body: field("note.text", text),
      buttons: [
        { key: "common.cancel", value: false },
        { key: "note.add", value: true, kind: "primary" },
      ],
    });
    return ok && text.value.trim() ? text.value.trim() : null;
  }

  /** Bring the viewer's annotations to the state's: one change is applied alone (a page elsewhere is not
   * redrawn, nor a stroke being drawn wiped), a list at once. */
  function syncAnnotations(s) {
    const before = shown.key === viewKey(s) ? shown.annotations : {};
    const changed = [...new Set([...Object.keys(before), ...Object.keys(s.annotations)])].filter((id) => before[id] !== s.annotations[id]);
    if (changed.length === 1) {
      const [id] = changed;
      viewer.applyAnnotation(s.annotations[id] || { ...before[id], deleted: true });
    } else if (changed.length) viewer.setAnnotations(Object.values(s.annotations));
  }

  function render(s) {
    state = s;
    viewer.me = s.you;
    if (s.view && s.view !== shown.view) {
      viewer.el.hidden = false;
      viewer.show(s.view.doc, s.view.page, s.view.viewport);
    }
    if (s.annotations !== shown.annotations || viewKey(s) !== shown.key) syncAnnotations(s);
    shown = { view: s.view, key: viewKey(s), annotations: s.annotations };
    if (s.tool !== viewer.tool) viewer.setTool(s.tool);
    viewer.visibility = s.visibility;
    if (!showingPresenter(s)) viewer.showPointer(null);
    for (const el of [prevBtn, nextBtn, thumbsBtn, zoomIn, zoomOut]) el.disabled = !s.view;
  }

  /** A `pointer.move` from the room: shown over the presenter's page. */
  function pointer(event) {
    if (!showsPointer(state, event)) return;
    viewer.showPointer(event.x, event.y);
    // Positions are never stored and may be dropped: a still pointer fades by itself.
    clearTimeout(pointerTimer);
    pointerTimer = setTimeout(() => viewer.showPointer(null), POINTER_FADE_MS);
  }

  return { el: viewer.el, thumbs: viewer.thumbs, tools, render, pointer, viewport: () => viewer.viewport() };
}
