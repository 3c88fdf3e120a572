// The HTTP client: bearer token for writes (the HttpOnly cookie covers reads and the WebSocket),
// JSON in and out, and server errors turned into plain words in the current language.
import { t, has } from "./i18n.js";
import { connection } from "./connection.js";

const TOKEN_KEY = "meeting.token";
const USER_KEY = "meeting.user";

/** A refused request or room message: `status` (HTTP, or the socket's 44xx), the stable `code`
 * (meeting/errors.py `Code`, or `client.*` for what never reached the server) and the English detail. */
export class ApiError extends Error {
  constructor(status, code, detail, errors) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code || "";
    this.detail = detail || "";
    this.errors = errors || null;
  }

  /** From an error body (HTTP) or an `error` event (socket), both `{status, code, detail}`. */
  static from(status, body) {
    return new ApiError(body?.status ?? status, body?.code, body?.detail, body?.errors);
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    const raw = sessionStorage.getItem(USER_KEY);
    return raw ? JSON.parse(raw) : null;
  },
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

const unauthenticatedListeners = new Set();
export function onUnauthenticated(fn) {
  unauthenticatedListeners.add(fn);
}

/** Call the API; resolves to the parsed JSON (null for 204), rejects with ApiError. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    connection.httpFailed();
    throw new ApiError(0, "client.network", "network");
  }
  connection.httpOk();
  return handle(res, path);
}

async function handle(res, path) {
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/api/auth/login")) {
      session.clear();
      for (const fn of unauthenticatedListeners) fn();
    }
    throw ApiError.from(res.status, data);
  }
  return data;
}

/** Upload a multipart form with progress (fetch cannot report upload progress; XHR can). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (session.token) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "client.network", "network"));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(ApiError.from(xhr.status, data));
    };
    xhr.send(form);
  });
}

// What a code has no text for falls back to its status (socket statuses are 4000 + the HTTP one).
const BY_STATUS = {
  400: "error.badRequest",
  401: "error.sessionExpired",
  403: "error.forbidden",
  404: "error.notFound",
  409: "error.conflict",
  413: "error.tooLarge",
  415: "error.unsupportedMedia",
  422: "error.invalid",
  429: "error.rateLimited",
  500: "error.server",
  503: "error.unavailable",
};

/** A plain sentence in the current language for any error: by its code, else by its status. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t("error.unexpected");
  if (err.code && has(`error.${err.code}`)) return t(`error.${err.code}`);
  const status = err.status >= 4000 ? err.status - 4000 : err.status;
  return t(BY_STATUS[status] || (status >= 500 ? "error.server" : "error.badRequest"));
}
