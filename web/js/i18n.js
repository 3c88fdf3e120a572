// Translations: Vietnamese by default, English on request; every label goes through t().
const STORAGE_KEY = "meeting.lang";
export const LANGS = ["vi", "en"];

let lang = LANGS.includes(localStorage.getItem(STORAGE_KEY)) ? localStorage.getItem(STORAGE_KEY) : "vi";
const dictionaries = {};
const listeners = new Set();

async function load(code) {
  if (!dictionaries[code]) {
    const res = await fetch(new URL(`../i18n/${code}.json`, import.meta.url));
    dictionaries[code] = await res.json();
  }
  return dictionaries[code];
}

/** Load the current language (and Vietnamese as the fallback). */
export async function initI18n() {
  await Promise.all([load("vi"), load(lang)]);
  document.documentElement.lang = lang;
}

export function getLang() {
  return lang;
}

/** The locale for dates and numbers. */
export function locale() {
  return lang === "vi" ? "vi-VN" : "en-GB";
}

/** Switch language, then tell every listener (screens re-label themselves). */
export async function setLang(code) {
  if (!LANGS.includes(code) || code === lang) return;
  await load(code);
  lang = code;
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
  for (const fn of listeners) fn(code);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Translate a key, filling {name} placeholders; an unknown key shows itself so it is noticed. */
export function t(key, params) {
  let text = dictionaries[lang]?.[key] ?? dictionaries.vi?.[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** Whether a key exists (used to pick a specific error message over a generic one). */
export function has(key) {
  return key in (dictionaries[lang] || {});
}
