// The drawing tools in the toolbar: pen, highlight, note, eraser, the presenter's pointer, and whether
// what one draws is private or shared. On a phone they fold into one menu whose button shows the tool
// in hand (the stylesheet decides where they fold).
import { h, clear } from "../dom.js";
import { icon } from "../icons.js";
import { popover } from "../ui.js";
import { isMember, isPresenting } from "./state.js";
import { whenChanged } from "./panel.js";

const LABELS = { pen: "tool.pen", highlight: "tool.highlight", note: "tool.note", eraser: "tool.eraser", pointer: "tool.pointer" };
const toolIcon = (name) => icon(name, name === "pointer" ? "laser-icon" : "");

/** `onTool(tool | null)` picks a tool; `onVisibility()` switches private and shared. */
export function inkPanel({ onTool, onVisibility }) {
  let tool = null;
  // A second tap on the tool in hand puts it down; either way the folded menu has done its job.
  const pick = (name) => () => {
    onTool(tool === name ? null : name);
    menu.close();
  };
  const toolButton = (name) =>
    h("button.tool", { type: "button", dataset: { tool: name }, "aria-pressed": "false", onclick: pick(name) }, toolIcon(name), h("span", { i18n: LABELS[name] }));
  const toolButtons = ["pen", "highlight", "note", "eraser"].map(toolButton);
  // Only the presenter points.
  const pointerBtn = Object.assign(toolButton("pointer"), { hidden: true });
  const visibilityBtn = h("button.tool.visibility", { type: "button", onclick: onVisibility });
  const tools = h("div.tool-group.ink-tools", { id: "ink-tools" }, toolButtons, pointerBtn, visibilityBtn);
  const toggle = h("button.tool.ink-toggle", { type: "button", "aria-controls": "ink-tools" });
  const menu = popover(toggle, tools);
  const el = h("div.ink-panel", toggle, tools);

  const render = whenChanged((s) => [Boolean(s.view), s.tool, s.visibility, isPresenting(s), isMember(s)], (s) => {
    tool = s.tool;
    for (const b of [...toolButtons, visibilityBtn, toggle]) b.disabled = !s.view;
    for (const b of [...toolButtons, pointerBtn]) b.setAttribute("aria-pressed", String(b.dataset.tool === s.tool));
    clear(toggle).append(toolIcon(s.tool || "pen"), h("span", { i18n: LABELS[s.tool] || "tool.menu" }));
    toggle.classList.toggle("in-hand", Boolean(s.tool));
    pointerBtn.hidden = !isPresenting(s);
    visibilityBtn.hidden = !isMember(s); // a guest's notes stay private
    visibilityBtn.classList.toggle("shared", s.visibility === "shared");
    visibilityBtn.dataset.visibility = s.visibility;
    const priv = s.visibility === "private";
    clear(visibilityBtn).append(icon(priv ? "lock" : "users"), h("span", { i18n: priv ? "tool.private" : "tool.shared" }));
  });

  return { el, render };
}
