// The HTTP client: bearer token for writes (the HttpOnly cookie covers reads and the WebSocket),
// JSON in and out, and server errors turned into plain words in the current language.
import { t } from "./i18n.js";
import { connection } from "./connection.js";

const TOKEN_KEY = "meeting.token";
const USER_KEY = "meeting.user";

export class ApiError extends Error {
  constructor(status, detail, errors) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || "";
    this.errors = errors || null;
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
    throw new ApiError(0, "network");
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
    throw new ApiError(res.status, data?.detail, data?.errors);
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
    xhr.onerror = () => reject(new ApiError(0, "network"));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data?.detail, data?.errors));
    };
    xhr.send(form);
  });
}

// Server details are short English sentences; the ones a user meets are given plain words here.
// Order matters: the first matching pattern wins; the status code is the fallback.
const KNOWN_ERRORS = [
  [/wrong username or password/i, "error.wrongLogin"],
  [/too many login attempts/i, "error.tooManyLogins"],
  [/no longer valid|logged out|log in first/i, "error.sessionExpired"],
  [/endsAt must be after startsAt/i, "error.endsBeforeStarts"],
  [/only secretaries and administrators can create meetings/i, "error.cannotCreateMeeting"],
  [/only administrators and secretaries can list accounts/i, "error.cannotListUsers"],
  [/only the chair of meeting/i, "error.chairOnly"],
  [/only the chair or secretary/i, "error.managerOnly"],
  [/start it before activating items/i, "error.startMeetingFirst"],
  [/is active; finish it before removing it/i, "error.itemActive"],
  [/its agenda can no longer change|can no longer be edited/i, "error.meetingClosed"],
  [/attendance is taken when scheduled or live/i, "error.attendanceNotOpen"],
  [/does not allow online attendance/i, "error.onlineNotAllowed"],
  [/already takes part/i, "error.alreadyParticipant"],
  [/cannot remove yourself/i, "error.cannotRemoveSelf"],
  [/guests cannot vote/i, "error.guestsCannotVote"],
  [/sub-items cannot have sub-items/i, "error.noNestedSubItems"],
  [/cannot become|it cannot/i, "error.invalidTransition"],
  [/already voted|ballots are no longer accepted/i, "error.alreadyVoted"],
  [/not eligible/i, "error.notEligible"],
  [/only the presenter/i, "error.presenterOnly"],
];

const BY_STATUS = {
  0: "error.network",
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

/** A plain sentence in the current language for any error. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t("error.unexpected");
  for (const [pattern, key] of KNOWN_ERRORS) if (pattern.test(err.detail)) return t(key);
  return t(BY_STATUS[err.status] || (err.status >= 500 ? "error.server" : "error.badRequest"));
}
