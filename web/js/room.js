// The meeting room socket (docs/protocol.md): auth first, snapshot or replay by seq, reconnect by itself
// with back-off, and messages sent while away kept and sent again on return (annotations are idempotent).
import { session, ApiError } from "./api.js";
import { connection } from "./connection.js";

const PING_EVERY_MS = 15000;
const PONG_TIMEOUT_MS = 8000;
// Close codes after which reconnecting cannot help.
const FINAL = { 4401: "unauthenticated", 4403: "forbidden", 4404: "notFound", 4429: "tooManySockets" };

export class Room {
  constructor(meetingId, { onEvent, onSnapshot, onFatal, onReconnected }) {
    this.meetingId = meetingId;
    this.onEvent = onEvent;
    this.onSnapshot = onSnapshot;
    this.onFatal = onFatal;
    this.onReconnected = onReconnected;
    this.seq = null; // highest applied seq; null until the first snapshot
    this.ws = null;
    this.closed = false;
    this.attempt = 0;
    this.refCounter = 0;
    this.waiting = new Map(); // ref -> {resolve, reject, message}
    this.outbox = []; // messages to resend after a reconnect (kept until acked)
    // The browser knows before any heartbeat when the tablet loses its network, and when it is back.
    this.onOffline = () => this.drop("no network");
    this.onOnline = () => this.reconnectNow();
    addEventListener("offline", this.onOffline);
    addEventListener("online", this.onOnline);
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/meetings/${this.meetingId}/socket`);
    this.ws = ws;
    ws.onopen = () => {
      const auth = { type: "auth" };
      if (session.token) auth.token = session.token;
      if (this.seq != null) auth.lastSeq = this.seq;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = (e) => this.closedBy(ws, e.code);
    ws.onerror = () => {
      /* onclose follows and decides */
    };
  }

  receive(msg) {
    this.lastHeard = Date.now();
    switch (msg.type) {
      case "room.snapshot":
        this.ready(true);
        this.seq = msg.seq;
        this.onSnapshot(msg);
        return;
      case "room.replayed":
        this.ready(false);
        this.seq = Math.max(this.seq ?? 0, msg.seq);
        this.onReconnected?.();
        return;
      case "ack":
      case "error": {
        const waiter = this.waiting.get(msg.ref);
        if (waiter) {
          this.waiting.delete(msg.ref);
          this.outbox = this.outbox.filter((m) => m.ref !== msg.ref);
          if (msg.type === "ack") waiter.resolve(msg.result);
          else waiter.reject(ApiError.from(msg.status, msg));
        }
        if (msg.type === "error" && !waiter) console.warn("room error", msg);
        return;
      }
      case "pong":
        return;
      default:
        if (msg.seq) {
          if (this.seq != null && msg.seq <= this.seq) return; // already applied (around a snapshot)
          this.seq = msg.seq;
        }
        this.onEvent(msg);
    }
  }

  /** The socket is authenticated and up to date: flush what waited, start the heartbeat. */
  ready() {
    const first = this.attempt === 0 && !this.everOpen;
    this.everOpen = true;
    this.attempt = 0;
    connection.socket("open");
    for (const msg of this.outbox) this.ws.send(JSON.stringify(msg));
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.ping(), PING_EVERY_MS);
    return first;
  }

  ping() {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const ws = this.ws;
    const sentAt = Date.now();
    ws.send(JSON.stringify({ type: "ping" }));
    // A socket that hears nothing back is dead even if the browser has not noticed (Wi-Fi roaming).
    setTimeout(() => {
      if (ws === this.ws && ws.readyState === WebSocket.OPEN && (this.lastHeard || 0) < sentAt) this.drop("no pong");
    }, PONG_TIMEOUT_MS);
  }

  /** Give up on the current socket and reconnect without waiting for its close: with no network the
   * closing handshake cannot finish, and the browser may keep such a socket "closing" until the network is back. */
  drop(reason) {
    const ws = this.ws;
    if (!ws || ws.readyState > WebSocket.OPEN) return; // already closing: its onclose decides
    ws.onmessage = null; // frames it still delivers later are replayed on the new socket, in order
    ws.onclose = null;
    ws.close(4000, reason);
    this.closedBy(ws, 4000);
  }

  /** The network is back: try now rather than at the end of the back-off. */
  reconnectNow() {
    if (this.closed || this.ws?.readyState === WebSocket.OPEN || this.ws?.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.retry);
    this.attempt = 0;
    this.connect();
  }

  closedBy(ws, code) {
    if (ws !== this.ws) return;
    clearInterval(this.heartbeat);
    if (this.closed) return;
    if (FINAL[code]) {
      this.closed = true;
      connection.socket(null);
      this.onFatal(FINAL[code], code);
      return;
    }
    connection.socket("reconnecting");
    // Back off with jitter so a room full of tablets does not reconnect in the same instant.
    const delay = Math.min(5000, 400 * 2 ** this.attempt) * (0.6 + Math.random() * 0.8);
    this.attempt += 1;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  /** Send a message; resolves with the ack's result. `keep`: resend after a reconnect until acked;
   * `latest`: like keep, but only the newest of its type is worth sending (a page position). */
  send(message, { keep = false, latest = false } = {}) {
    const msg = { ...message, ref: `r${++this.refCounter}` };
    const promise = new Promise((resolve, reject) => this.waiting.set(msg.ref, { resolve, reject, message: msg }));
    if (latest) {
      for (const old of this.outbox.filter((m) => m.type === msg.type)) {
        this.waiting.get(old.ref)?.resolve(null); // superseded: the newer position wins
        this.waiting.delete(old.ref);
      }
      this.outbox = this.outbox.filter((m) => m.type !== msg.type);
      keep = true;
    }
    if (keep) this.outbox.push(msg);
    if (this.ws?.readyState === WebSocket.OPEN && this.seq != null) this.ws.send(JSON.stringify(msg));
    else if (!keep) {
      this.waiting.delete(msg.ref);
      return Promise.reject(new ApiError(0, "client.offline", "offline"));
    }
    return promise;
  }

  /** Fire and forget (pointer positions): nothing is kept, nothing is acknowledged. */
  post(message) {
    if (this.ws?.readyState === WebSocket.OPEN && this.seq != null) this.ws.send(JSON.stringify(message));
  }

  close() {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    removeEventListener("offline", this.onOffline);
    removeEventListener("online", this.onOnline);
    connection.socket(null);
    this.ws?.close(1000);
  }
}
