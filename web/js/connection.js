// One connection state for the whole client, shown by the indicator in the top bar:
// "online", "reconnecting" (socket or server lost, retrying by itself) or "offline" (no network).
const listeners = new Set();
let state = navigator.onLine ? "online" : "offline";
let probe = null;
let socketState = null; // null when no room socket is open; else "open" | "reconnecting"

function set(next) {
  if (!navigator.onLine) next = "offline";
  if (next === state) return;
  state = next;
  for (const fn of listeners) fn(state);
}

function recompute(httpOk) {
  if (socketState === "reconnecting" || !httpOk) set("reconnecting");
  else set("online");
}

export const connection = {
  get state() {
    return state;
  },
  subscribe(fn) {
    listeners.add(fn);
    fn(state);
    return () => listeners.delete(fn);
  },
  /** A request failed at the network level: show it and probe the server until it answers. */
  httpFailed() {
    recompute(false);
    if (probe) return;
    probe = setInterval(async () => {
      try {
        const res = await fetch("/health", { cache: "no-store" });
        if (res.status < 500 || res.status === 503) {
          clearInterval(probe);
          probe = null;
          recompute(true);
        }
      } catch {
        /* still down: keep probing */
      }
    }, 2000);
  },
  httpOk() {
    if (!probe) recompute(true);
  },
  /** The live room's socket reports here: "open", "reconnecting", or null when closed on purpose. */
  socket(next) {
    socketState = next;
    recompute(!probe);
  },
};

addEventListener("online", () => connection.httpOk());
addEventListener("offline", () => set("offline"));
