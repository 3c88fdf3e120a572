// Shared pieces of the interface: the top bar, toasts, confirmation dialogs, dates.
import { h, append, clear, setText, setAttr, tx, retranslate } from "./dom.js";
import { t, getLang, setLang, locale, onLangChange } from "./i18n.js";
import { icon } from "./icons.js";
import { connection } from "./connection.js";
import { api, session, errorText } from "./api.js";

/** A short message at the bottom of the screen; errors stay longer. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  // The same message twice in a row (a quick second drag, say) shows once.
  for (const old of box.children) if (old.textContent === message && !old.classList.contains("leaving")) old.remove();
  const el = h(`div.toast.${kind}`, { role: kind === "error" ? "alert" : "status" }, message);
  box.append(el);
  setTimeout(() => el.classList.add("leaving"), kind === "error" ? 6000 : 3000);
  setTimeout(() => el.remove(), kind === "error" ? 6400 : 3400);
  return el;
}

/** Show an API error in plain words. */
export function showError(err) {
  console.warn(err);
  return toast(errorText(err), "error");
}

/** Run an async action from a button: disable it meanwhile, report errors in plain words. */
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A modal dialog; resolves to the clicked button's value (or null when dismissed). */
export function dialog({ titleKey, titleParams, body, buttons }) {
  return new Promise((resolve) => {
    const dlg = h("dialog.dialog", { "aria-labelledby": "dlg-title" });
    const close = (value) => {
      dlg.close();
      dlg.remove();
      resolve(value);
    };
    // append() skips a missing body, which the DOM's own append would print as "null".
    append(dlg, [
      h("h2", { id: "dlg-title", i18n: [titleKey, titleParams] }),
      body ? h("div.dialog-body", body) : null,
      h(
        "div.dialog-actions",
        buttons.map((b) => h(`button.${b.kind || "secondary"}`, { type: "button", onclick: () => close(b.value), i18n: b.key }))
      ),
    ]);
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(null);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function confirmAction(titleKey, titleParams, confirmKey = "common.confirm", danger = false) {
  const value = await dialog({
    titleKey,
    titleParams,
    buttons: [
      { key: "common.cancel", value: false },
      { key: confirmKey, value: true, kind: danger ? "danger" : "primary" },
    ],
  });
  return value === true;
}

/** Date and time in the meeting's time zone, in the current language. */
export function formatDateTime(iso, timeZone, options = { dateStyle: "full", timeStyle: "short" }) {
  try {
    return new Intl.DateTimeFormat(locale(), { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
  }
}

/** "Thứ Hai, 23/11/2026 · 08:00 – 17:00" (the end's date too when it differs). */
export function formatWhen(startsIso, endsIso, timeZone) {
  const day = (iso) => formatDateTime(iso, timeZone, { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric" });
  const start = day(startsIso);
  const end = endsIso ? day(endsIso) : start;
  const endPart = endsIso ? ` – ${end === start ? "" : end + " "}${formatTime(endsIso, timeZone)}` : "";
  return `${start} · ${formatTime(startsIso, timeZone)}${endPart}`;
}

export function formatTime(iso, timeZone) {
  return formatDateTime(iso, timeZone, { hour: "2-digit", minute: "2-digit" });
}

/** A panel that `button` opens and closes (a menu, a drawer) where the stylesheet folds it away: the
 * panel's `open` class and the button's aria-expanded tell the state; Escape, a tap outside both, or
 * `close()` shut it. Where the stylesheet shows the panel anyway (a landscape tablet), the class changes
 * nothing on screen. */
export function popover(button, panel) {
  const isOpen = () => panel.classList.contains("open");
  const onKey = (e) => {
    if (e.key !== "Escape") return;
    close();
    button.focus();
  };
  // Capture: the tap that closes is seen before whatever it lands on (the scrim, the page) acts on it.
  const onClick = (e) => {
    if (!panel.contains(e.target) && !button.contains(e.target)) close();
  };
  function open() {
    panel.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick, true);
  }
  function close() {
    panel.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("click", onClick, true);
  }
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => (isOpen() ? close() : open()));
  return { open, close };
}

/** The top bar shared by every screen: title area, screen status, connection, language, account. Below
 * landscape width the language and account fold into a menu, so the title keeps its room. */
export class Shell {
  constructor(root, { onLogout }) {
    this.root = root;
    this.titleSlot = h("div.topbar-title");
    this.statusSlot = h("div.topbar-status");
    this.conn = h("span.conn", { role: "status", "aria-live": "polite" });
    this.langButtons = ["vi", "en"].map((code) =>
      h("button.lang", { type: "button", "data-lang": code, onclick: () => setLang(code) }, code)
    );
    this.account = h("div.account");
    this.onLogout = onLogout;
    const menuButton = h("button.ghost.menu-toggle", { type: "button" }, icon("account"));
    setAttr(menuButton, "aria-label", "nav.menu");
    const menu = h("div.topbar-menu", h("div.langs", { role: "group", "aria-label": "Ngôn ngữ / Language" }, this.langButtons), this.account);
    this.bar = h(
      "header.topbar",
      h("a.home", { href: "#/", "aria-label": t("nav.home") }, h("span.logo", "◧")),
      this.titleSlot,
      this.statusSlot,
      h("div.topbar-end", this.conn, menuButton, menu)
    );
    this.menu = popover(menuButton, menu);
    this.main = h("main.screen");
    clear(root).append(this.bar, this.main);
    connection.subscribe((state) => this.showConnection(state));
    onLangChange(() => {
      this.markLang();
      retranslate(document);
    });
    this.markLang();
    this.renderAccount();
  }

  markLang() {
    for (const b of this.langButtons) b.setAttribute("aria-pressed", String(b.dataset.lang === getLang()));
    this.bar.querySelector(".home").setAttribute("aria-label", t("nav.home"));
  }

  showConnection(state) {
    this.conn.className = `conn ${state}`;
    this.conn.dataset.state = state;
    setText(this.conn, `conn.${state}`);
  }

  renderAccount() {
    this.menu.close();
    clear(this.account);
    const user = session.user;
    this.bar.classList.toggle("anonymous", !user);
    if (!user) return;
    this.account.append(
      h("span.user-name", user.displayName),
      h("button.ghost.logout", { type: "button", onclick: () => this.onLogout(), i18n: "nav.logout" })
    );
  }

  setTitle(...nodes) {
    clear(this.titleSlot).append(...nodes.filter(Boolean));
  }

  setStatus(...nodes) {
    clear(this.statusSlot).append(...nodes.filter(Boolean));
  }
}

/** The quorum at a glance: "Có mặt 21/25 — đủ túc số" and how many are required. */
export function quorumLine(q) {
  return h(
    `div.quorum.${q.met ? "met" : "not-met"}`,
    { role: "status" },
    h("strong", { i18n: [q.met ? "quorum.lineMet" : "quorum.lineNotMet", { present: q.present, total: q.votingMembers }] }),
    h("span.muted.small", { i18n: ["quorum.required", { required: q.required }] })
  );
}

/** A status badge for a meeting. */
export function meetingBadge(status) {
  return h(`span.badge.status-${status}`, { i18n: `meeting.status.${status}` });
}

export { tx, errorText, api };
