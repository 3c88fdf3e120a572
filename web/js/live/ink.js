// The drawing tools in the toolbar: pen, highlight, note, eraser, the presenter's pointer, and whether
// what one draws is private or shared.
import { h, clear } from "../dom.js";
import { icon } from "../icons.js";
import { isPresenting } from "./state.js";
import { whenChanged } from "./panel.js";

const TOOLS = [
  ["pen", "tool.pen"],
  ["highlight", "tool.highlight"],
  ["note", "tool.note"],
  ["eraser", "tool.eraser"],
];

/** `onTool(tool | null)` picks a tool; `onVisibility()` switches private and shared. */
export function inkPanel({ onTool, onVisibility }) {
  let tool = null;
  // A second tap on the tool in hand puts it down.
  const pick = (name) => () => onTool(tool === name ? null : name);
  const toolButtons = TOOLS.map(([name, key]) =>
    h("button.tool", { type: "button", dataset: { tool: name }, "aria-pressed": "false", onclick: pick(name) }, icon(name), h("span", { i18n: key }))
  );
  const pointerBtn = h("button.tool", { type: "button", dataset: { tool: "pointer" }, "aria-pressed": "false", hidden: true, onclick: pick("pointer") }, icon("pointer", "laser-icon"), h("span", { i18n: "tool.pointer" }));
  const visibilityBtn = h("button.tool.visibility", { type: "button", onclick: onVisibility });
  const el = h("div.tool-group.ink-tools", toolButtons, pointerBtn, visibilityBtn);

  const render = whenChanged((s) => [Boolean(s.view), s.tool, s.visibility, isPresenting(s)], (s) => {
    tool = s.tool;
    for (const b of [...toolButtons, visibilityBtn]) b.disabled = !s.view;
    for (const b of [...toolButtons, pointerBtn]) b.setAttribute("aria-pressed", String(b.dataset.tool === s.tool));
    pointerBtn.hidden = !isPresenting(s);
    visibilityBtn.classList.toggle("shared", s.visibility === "shared");
    visibilityBtn.dataset.visibility = s.visibility;
    const priv = s.visibility === "private";
    clear(visibilityBtn).append(icon(priv ? "lock" : "users"), h("span", { i18n: priv ? "tool.private" : "tool.shared" }));
  });

  return { el, render };
}
