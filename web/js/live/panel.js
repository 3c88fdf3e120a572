// What the live screen's panels share: a render that runs only when its part of the state changed, and
// the sheet that slides over the page.
import { h } from "../dom.js";

/** Wrap `draw(state)` to run only when one of the values `pick(state)` returns changed (or on `force`,
 * after a language switch). The reducer keeps unchanged parts identical, so a panel nobody touched is
 * not rebuilt under a finger about to tap it (pointer positions arrive 30 times a second). */
export function whenChanged(pick, draw) {
  let last = null;
  return (state, { force = false } = {}) => {
    const values = pick(state);
    if (!force && last && values.every((v, i) => v === last[i])) return;
    last = values;
    draw(state);
  };
}

/** A sheet over the page: a heading, a close button and a body, appended to `panels`. */
export function sheet(panels, name, heading, onClose) {
  const body = h("div.panel-body");
  const el = h(`section.panel.${name}`, h("header.panel-head", heading, h("button.ghost", { type: "button", i18n: "common.close", onclick: onClose })), body);
  panels.append(el);
  return { el, body };
}
