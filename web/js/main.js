// Boot: load the language, build the shell, and route between screens by the URL hash.
import { initI18n, onLangChange } from "./i18n.js";
import { api, session, onUnauthenticated } from "./api.js";
import { Shell, showError } from "./ui.js";
import { clear } from "./dom.js";
import { loginScreen } from "./screens/login.js";
import { meetingsScreen } from "./screens/meetings.js";
import { editorScreen } from "./screens/editor.js";
import { liveScreen } from "./screens/live.js";
import { tlsScreen } from "./screens/tls.js";
import { searchScreen } from "./screens/search.js";

const ROUTES = [
  [/^#\/login$/, () => loginScreen],
  [/^#\/tls$/, () => tlsScreen],
  [/^#\/search$/, () => searchScreen],
  [/^#\/meetings\/new$/, () => editorScreen, () => ({ id: null, tab: "details" })],
  [/^#\/meetings\/(\d+)\/edit(?:\/(\w+))?$/, () => editorScreen, (m) => ({ id: Number(m[1]), tab: m[2] || "details" })],
  [/^#\/meetings\/(\d+)$/, () => liveScreen, (m) => ({ id: Number(m[1]) })],
  [/^#?\/?$/, () => meetingsScreen],
];

let shell;
let current = null; // { unmount, onLang }

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function logout() {
  try {
    await api("POST", "/api/auth/logout");
  } catch {
    /* the token may already be gone; leaving is what matters */
  }
  session.clear();
  shell.renderAccount();
  navigate("#/login");
}

function route() {
  const hash = location.hash || "#/";
  if (!session.token && hash !== "#/login" && hash !== "#/tls") {
    sessionStorage.setItem("meeting.afterLogin", hash);
    location.hash = "#/login";
    return;
  }
  let match = null;
  let entry = ROUTES.find(([re]) => (match = hash.match(re)));
  if (!entry) entry = ROUTES[ROUTES.length - 1];
  const [, screen, params] = entry;
  current?.unmount?.();
  shell.setTitle();
  shell.setStatus();
  shell.renderAccount();
  clear(shell.main);
  shell.main.className = "screen";
  try {
    current = screen()(shell, params ? params(match) : {}, { navigate }) || null;
  } catch (err) {
    showError(err);
  }
  window.scrollTo(0, 0);
}

async function boot() {
  await initI18n();
  shell = new Shell(document.getElementById("app"), { onLogout: logout });
  onUnauthenticated(() => {
    shell.renderAccount();
    if (location.hash !== "#/login") {
      sessionStorage.setItem("meeting.afterLogin", location.hash);
      location.hash = "#/login";
    }
  });
  onLangChange(() => current?.onLang?.());
  addEventListener("hashchange", route);
  route();
}

boot();
