// The document viewer: page images sized for the screen, thumbnail first then the sharp image (no blank
// flash), next pages preloaded, zoom by buttons or pinch, swipe and arrow keys, and an annotation overlay
// in page fractions so it stays aligned at every zoom.
import { h, clear, setAttr } from "./dom.js";
import { t } from "./i18n.js";
import { COLORS, drawPage } from "./shapes.js";

const THUMB = 200;
const SVG = "http://www.w3.org/2000/svg";
const PRELOAD_AHEAD = 2;
const skippedIds = new Set(); // annotations that could not be drawn and were logged, so each is logged once

export function pageUrl(version, page, width) {
  return `${version.pagesUrl}/${page}?width=${width}`;
}

const images = new Map(); // url -> Promise<HTMLImageElement> (decoded), so a page is fetched once
const loaded = new Set(); // urls whose image is decoded and can be shown in this frame

function loadImage(url) {
  if (!images.has(url)) {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    const ready = img.decode().then(
      () => (loaded.add(url), img),
      (err) => {
        images.delete(url); // a page still rendering on the server: try again next time
        throw err;
      }
    );
    images.set(url, ready);
  }
  return images.get(url);
}

function isLoaded(url) {
  return loaded.has(url);
}

export class Viewer {
  constructor({ me, onNavigate, onDraw, onErase, onPointer, canErase, onNoteText }) {
    this.me = me;
    this.onNavigate = onNavigate; // (page) => void — the screen decides (follow, present, browse)
    this.onDraw = onDraw; // (annotation draft) => void
    this.onErase = onErase; // (annotation) => void
    this.onPointer = onPointer; // (x, y | null) => void, only while the pointer tool is on
    this.canErase = canErase;
    this.onNoteText = onNoteText; // async () => text | null
    this.doc = null; // {id, version: {id, pageCount, pagesUrl}, title}
    this.page = 1;
    this.zoom = 1;
    this.tool = null;
    this.visibility = "private";
    this.annotations = new Map(); // id -> annotation (this document version)
    this.aspect = 1.4142; // height / width, until the first image tells
    this.pointers = new Map();

    this.img = h("img.page-img", { alt: "", draggable: "false" });
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "ink-layer");
    this.svg.setAttribute("viewBox", "0 0 1 1");
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.notes = h("div.note-layer");
    this.laser = h("div.laser", { hidden: true });
    this.wrap = h("div.page-wrap", this.img, this.svg, this.notes, this.laser);
    this.scroller = h("div.page-scroller", { tabindex: "0" }, this.wrap);
    this.pageLabel = h("span.page-label");
    this.thumbs = h("div.thumbs", { hidden: true });
    this.el = h("div.viewer", this.scroller);
    this.bindGestures();
    new ResizeObserver(() => this.layout()).observe(this.scroller);
  }

  /** Open a document version at a page (and optionally a presenter's viewport). */
  show(doc, page, viewport) {
    const changedDoc = !this.doc || this.doc.id !== doc.id || this.doc.version.id !== doc.version.id;
    this.doc = doc;
    this.page = Math.min(Math.max(1, page), doc.version.pageCount || 1);
    if (changedDoc) {
      this.annotations.clear();
      this.renderThumbs();
    }
    if (viewport) this.zoom = Math.min(4, Math.max(1, viewport.zoom || 1));
    this.layout();
    this.renderPage();
    if (viewport) {
      requestAnimationFrame(() => {
        this.scroller.scrollTop = (viewport.y || 0) * this.wrap.offsetHeight;
        this.scroller.scrollLeft = (viewport.x || 0) * this.wrap.offsetWidth;
      });
    }
    this.el.dataset.page = String(this.page);
    this.el.dataset.document = String(doc.id);
  }

  viewport() {
    return {
      x: this.wrap.offsetWidth ? +(this.scroller.scrollLeft / this.wrap.offsetWidth).toFixed(4) : 0,
      y: this.wrap.offsetHeight ? +(this.scroller.scrollTop / this.wrap.offsetHeight).toFixed(4) : 0,
      zoom: this.zoom,
    };
  }

  fullWidth() {
    const px = this.wrap.offsetWidth * (window.devicePixelRatio || 1);
    return px <= 1400 ? 1280 : 2048;
  }

  layout() {
    const width = Math.max(200, this.scroller.clientWidth - 24) * this.zoom;
    this.wrap.style.width = `${Math.round(width)}px`;
    this.wrap.style.height = `${Math.round(width * this.aspect)}px`;
  }

  renderPage() {
    const { version } = this.doc;
    const page = this.page;
    const full = pageUrl(version, page, this.fullWidth());
    const thumb = pageUrl(version, page, THUMB);
    // The sharp image if it is ready; otherwise the thumbnail scaled up at once, then the swap.
    if (isLoaded(full)) this.img.src = full;
    else {
      this.img.src = thumb;
      loadImage(full)
        .then((img) => {
          if (this.doc?.version.id === version.id && this.page === page) {
            this.img.src = full;
            this.learnAspect(img);
          }
        })
        .catch(() => {
          /* shown as the thumbnail; a later visit retries */
        });
    }
    loadImage(thumb).then((img) => this.learnAspect(img)).catch(() => {});
    for (let next = page + 1; next <= Math.min(version.pageCount, page + PRELOAD_AHEAD); next++) {
      loadImage(pageUrl(version, next, this.fullWidth())).catch(() => {});
    }
    this.pageLabel.textContent = `${page} / ${version.pageCount}`;
    for (const th of this.thumbs.children) th.classList.toggle("current", Number(th.dataset.page) === page);
    // Scroll only the strip: scrollIntoView would also scroll the screen's ancestors sideways.
    const current = this.thumbs.querySelector(".current");
    if (current && !this.thumbs.hidden) this.thumbs.scrollLeft = current.offsetLeft - this.thumbs.clientWidth / 2 + current.offsetWidth / 2;
    this.renderAnnotations();
  }

  learnAspect(img) {
    if (!img.naturalWidth) return;
    const aspect = img.naturalHeight / img.naturalWidth;
    if (Math.abs(aspect - this.aspect) > 0.01) {
      this.aspect = aspect;
      this.layout();
    }
  }

  renderThumbs() {
    clear(this.thumbs);
    const { version } = this.doc;
    for (let p = 1; p <= version.pageCount; p++) {
      this.thumbs.append(
        h(
          "button.thumb",
          { type: "button", dataset: { page: p }, onclick: () => this.onNavigate(p), "aria-label": t("viewer.page", { n: p }) },
          h("img", { src: pageUrl(version, p, THUMB), loading: "lazy", alt: "" }),
          h("span", String(p))
        )
      );
    }
  }

  setZoom(zoom) {
    const centre = this.viewport();
    this.zoom = Math.min(4, Math.max(1, +zoom.toFixed(2)));
    this.layout();
    this.scroller.scrollTop = centre.y * this.wrap.offsetHeight;
    this.scroller.scrollLeft = centre.x * this.wrap.offsetWidth;
    if (this.doc && this.fullWidth() === 2048) this.renderPage(); // sharper image when zoomed in
    this.el.dataset.zoom = String(this.zoom);
    this.onZoom?.();
  }

  setTool(tool) {
    this.tool = tool;
    this.el.dataset.tool = tool || "none";
    if (tool !== "pointer") this.onPointer?.(null);
  }

  // ---------------------------------------------------------------------------------------- annotations

  setAnnotations(list) {
    this.annotations.clear();
    for (const a of list) this.annotations.set(a.id, a);
    this.renderAnnotations();
  }

  applyAnnotation(a) {
    if (!this.doc || a.documentId !== this.doc.id || a.versionId !== this.doc.version.id) return;
    if (a.deleted) this.annotations.delete(a.id);
    else this.annotations.set(a.id, a);
    if (a.page === this.page) this.renderAnnotations();
  }

  renderAnnotations() {
    clear(this.svg);
    clear(this.notes);
    // Each annotation on its own: one that cannot be drawn is left out, never the page's others.
    const { drawn, skipped } = drawPage(this.annotations.values(), this.page);
    for (const { annotation: a, drawing } of drawn) {
      try {
        this.place(a, drawing);
      } catch (err) {
        skipped.push({ annotation: a, reason: String(err?.message || err) });
      }
    }
    for (const { annotation: a, reason } of skipped) {
      if (skippedIds.has(a?.id)) continue;
      skippedIds.add(a?.id);
      console.warn(`annotation ${a?.id} not drawn: ${reason}`, a);
    }
  }

  place(a, drawing) {
    const mine = a.authorId === this.me;
    if (drawing.note) {
      const { x, y, text } = drawing.note;
      this.notes.append(
        h(
          `div.note.${a.visibility}${mine ? ".mine" : ""}`,
          { dataset: { id: a.id, visibility: a.visibility }, style: { left: `${x * 100}%`, top: `${y * 100}%` }, title: text },
          h("span.note-pin", a.visibility === "private" ? "•" : "✎"),
          h("span.note-text", text)
        )
      );
      return;
    }
    // Built apart and added together, so a failure halfway leaves nothing of this one on the page.
    const els = drawing.shapes.map(({ tag, attrs }) => {
      const el = document.createElementNS(SVG, tag);
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      el.dataset.id = a.id;
      el.dataset.visibility = a.visibility;
      el.classList.add(a.kind, a.visibility);
      return el;
    });
    this.svg.append(...els);
  }

  // ------------------------------------------------------------------------------------------- gestures

  fraction(e) {
    const r = this.wrap.getBoundingClientRect();
    // Held to the page: a stroke may slide past its edge, and the server takes only fractions 0..1.
    const clamp = (v) => +Math.min(1, Math.max(0, v)).toFixed(4);
    return [clamp((e.clientX - r.left) / r.width), clamp((e.clientY - r.top) / r.height)];
  }

  bindGestures() {
    const s = this.scroller;
    let stroke = null;
    let swipe = null;
    let pinch = null;
    let lastPointerSent = 0;

    s.addEventListener("pointerdown", (e) => {
      this.pointers.set(e.pointerId, e);
      if (this.pointers.size === 2) {
        // Two fingers: pinch to zoom, whatever the tool.
        stroke?.line.remove();
        stroke = null;
        const [a, b] = [...this.pointers.values()];
        pinch = { distance: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY), zoom: this.zoom };
        return;
      }
      if (!this.doc) return;
      const onPage = this.wrap.contains(e.target);
      if ((this.tool === "pen" || this.tool === "highlight") && onPage) {
        e.preventDefault();
        s.setPointerCapture(e.pointerId);
        const line = document.createElementNS(SVG, "polyline");
        line.setAttribute("class", `${this.tool === "pen" ? "ink" : "highlight"} drawing ${this.visibility}`);
        line.setAttribute("stroke", this.tool === "pen" ? COLORS.ink : COLORS.highlight);
        line.setAttribute("stroke-width", this.tool === "pen" ? "3" : "18");
        line.setAttribute("vector-effect", "non-scaling-stroke");
        this.svg.append(line);
        stroke = { line, points: [this.fraction(e)] };
        line.setAttribute("points", stroke.points.map((p) => p.join(",")).join(" "));
      } else if (this.tool === "eraser") {
        const id = e.target.closest?.("[data-id]")?.dataset.id;
        const a = id && this.annotations.get(id);
        if (a && this.canErase(a)) this.onErase(a);
      } else if (this.tool === "note" && onPage) {
        const [x, y] = this.fraction(e);
        this.onNoteText().then((text) => {
          if (text) this.onDraw({ kind: "note", page: this.page, payload: { x, y, text } });
        });
      } else if (this.tool !== "pointer") {
        s.setPointerCapture(e.pointerId);
        swipe = { x: e.clientX, y: e.clientY, left: s.scrollLeft, top: s.scrollTop, t: performance.now() };
      }
    });

    s.addEventListener("pointermove", (e) => {
      if (this.pointers.has(e.pointerId)) this.pointers.set(e.pointerId, e);
      if (pinch && this.pointers.size === 2) {
        const [a, b] = [...this.pointers.values()];
        const distance = Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
        this.setZoom(pinch.zoom * (distance / pinch.distance));
        return;
      }
      if (stroke) {
        const p = this.fraction(e);
        const last = stroke.points[stroke.points.length - 1];
        if (Math.hypot(p[0] - last[0], p[1] - last[1]) < 0.002 || stroke.points.length > 1500) return;
        stroke.points.push(p);
        stroke.line.setAttribute("points", stroke.points.map((q) => q.join(",")).join(" "));
      } else if (swipe && e.pointerType !== "mouse") {
        // One finger pans a zoomed page (touch-action is off so pinch reaches us).
        s.scrollLeft = swipe.left - (e.clientX - swipe.x);
        s.scrollTop = swipe.top - (e.clientY - swipe.y);
      } else if (this.tool === "pointer" && this.wrap.contains(e.target)) {
        const now = performance.now();
        if (now - lastPointerSent < 40) return; // the server keeps 30 a second; send no more
        lastPointerSent = now;
        const [x, y] = this.fraction(e);
        this.showPointer(x, y);
        this.onPointer?.(x, y);
      }
    });

    const end = (e) => {
      this.pointers.delete(e.pointerId);
      if (pinch) {
        if (this.pointers.size < 2) pinch = null;
        return;
      }
      if (stroke) {
        const { points, line } = stroke;
        stroke = null;
        line.remove();
        if (points.length > 1 || this.tool === "highlight") {
          this.onDraw({ kind: this.tool === "pen" ? "ink" : "highlight", page: this.page, payload: { points, width: this.tool === "pen" ? 3 : 18 } });
        }
      }
      if (swipe) {
        const dx = e.clientX - swipe.x;
        const dy = e.clientY - swipe.y;
        const quick = performance.now() - swipe.t < 600;
        const atEdge = this.zoom === 1 || (dx < 0 ? s.scrollLeft + s.clientWidth >= s.scrollWidth - 2 : s.scrollLeft <= 0);
        if (quick && Math.abs(dx) > 80 && Math.abs(dx) > 2 * Math.abs(dy) && atEdge) this.onNavigate(this.page + (dx < 0 ? 1 : -1));
        swipe = null;
      }
    };
    s.addEventListener("pointerup", end);
    s.addEventListener("pointercancel", end);
    s.addEventListener("pointerleave", (e) => {
      if (this.tool === "pointer" && e.pointerType === "mouse") {
        this.showPointer(null);
        this.onPointer?.(null);
      }
    });
    // Arrow keys are the screen's (it knows whether a page turn moves the room); zoom is ours.
    s.addEventListener("keydown", (e) => {
      if (e.key === "+" || e.key === "=") this.setZoom(this.zoom + 0.25);
      else if (e.key === "-") this.setZoom(this.zoom - 0.25);
      else return;
      e.preventDefault();
    });
  }

  showPointer(x, y) {
    if (x == null) {
      this.laser.hidden = true;
      return;
    }
    this.laser.hidden = false;
    this.laser.style.left = `${x * 100}%`;
    this.laser.style.top = `${y * 100}%`;
  }
}

export { setAttr };
