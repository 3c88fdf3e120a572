// A few line icons as inline SVG: no icon font, no emoji (tablets may lack an emoji font).
const PATHS = {
  prev: "M15 5l-7 7 7 7",
  next: "M9 5l7 7-7 7",
  pages: "M4 4h6v7H4zM14 4h6v7h-6zM4 15h6v5H4zM14 15h6v5h-6z",
  zoomIn: "M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM16 16l5 5M8 11h6M11 8v6",
  zoomOut: "M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM16 16l5 5M8 11h6",
  pen: "M4 20l4-1 11-11-3-3L5 16zM14 6l3 3",
  highlight: "M9 15l-3 3v2h6l2-2M9 15l6-10 4 3-6 9zM4 21h16",
  note: "M5 4h14v11l-5 5H5zM14 20v-5h5M9 9h6M9 12h4",
  eraser: "M8 20h12M5 15l8-9 6 6-7 8H9z",
  pointer: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z",
  lock: "M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3",
  users: "M9 11a3 3 0 1 0 0-6a3 3 0 1 0 0 6zM3 20c0-3.5 2.7-6 6-6s6 2.5 6 6M16 5a3 3 0 0 1 0 6M18 14c2 .7 3 2.8 3 6",
  search: "M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13zM15.5 15.5L20 20",
  mic: "M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM6 11a6 6 0 0 0 12 0M12 17v4M9 21h6",
  hand: "M8 13V6a1.5 1.5 0 0 1 3 0v5M11 11V4.5a1.5 1.5 0 0 1 3 0V11M14 11V6a1.5 1.5 0 0 1 3 0v7c0 4-2.5 7-6 7-2.5 0-4-1.2-5.5-3.5L4 14a1.5 1.5 0 0 1 2.5-1.5L8 14",
  follow: "M4 12a8 8 0 0 1 14-5.3M20 4v4h-4M20 12a8 8 0 0 1-14 5.3M4 20v-4h4",
  menu: "M4 6h16M4 12h16M4 18h16",
  more: "M5 10.6a1.4 1.4 0 1 0 0 2.8a1.4 1.4 0 1 0 0-2.8zM12 10.6a1.4 1.4 0 1 0 0 2.8a1.4 1.4 0 1 0 0-2.8zM19 10.6a1.4 1.4 0 1 0 0 2.8a1.4 1.4 0 1 0 0-2.8z",
  account: "M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM4 21c0-4.4 3.6-7 8-7s8 2.6 8 7",
};

export function icon(name, cls = "") {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `ico ${cls}`.trim());
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", PATHS[name] || "");
  svg.append(path);
  return svg;
}
