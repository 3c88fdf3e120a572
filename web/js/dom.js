// Tiny DOM helpers: build elements from plain values, and labels that follow the language switch.
import { t } from "./i18n.js";

/** Create an element: h("button.primary", {onclick}, "text", child…). */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className += (el.className ? " " : "") + value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key === "i18n") setText(el, ...[].concat(value));
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

/** Append children, skipping null/false, flattening arrays, turning strings into text. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A translated text span that re-translates itself when the language changes. */
export function tx(key, params) {
  return setText(document.createElement("span"), key, params);
}

/** Set an element's text to a translation and remember the key for the language switch. */
export function setText(el, key, params) {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
  return el;
}

/** Set a translated attribute (placeholder, aria-label, title) that follows the language switch. */
export function setAttr(el, attr, key, params) {
  const map = JSON.parse(el.dataset.i18nAttrs || "{}");
  map[attr] = [key, params || null];
  el.dataset.i18nAttrs = JSON.stringify(map);
  el.setAttribute(attr, t(key, params));
  return el;
}

/** Re-translate every remembered label under root (after a language switch). */
export function retranslate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nParams ? JSON.parse(el.dataset.i18nParams) : undefined);
  }
  for (const el of root.querySelectorAll("[data-i18n-attrs]")) {
    for (const [attr, [key, params]] of Object.entries(JSON.parse(el.dataset.i18nAttrs))) {
      el.setAttribute(attr, t(key, params || undefined));
    }
  }
}

/** Remove all children. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A labelled form field. */
export function field(labelKey, input, hintKey) {
  const id = input.id || (input.id = "f" + Math.random().toString(36).slice(2, 9));
  return h("div.field", h("label", { for: id, i18n: labelKey }), input, hintKey ? h("small.hint", { i18n: hintKey }) : null);
}
