// The REST API, with the session cookie; errors carry the server's message and field.

import { t } from "./i18n.js";

const READABLE = { 403: "api.forbidden", 404: "api.not_found", 409: "api.conflict", 500: "api.server_error", 502: "api.server_error", 503: "api.server_error" };

/** The server's message is English and technical; people read the catalogue's sentence
 * first and the server's words after it (for support). 422 messages name the field and stay. */
function readable(status, body) {
  const detail = body?.message || `HTTP ${status}`;
  const key = READABLE[status];
  return key ? `${t(key)} (${detail})` : detail;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(readable(status, body));
    this.detail = body?.message;
    this.status = status;
    this.code = body?.error;
    this.fields = body?.fields;
  }
}

let onUnauthorized = () => {};

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function url(path, params) {
  const u = new URL(path.startsWith("/") ? path : `/api/${path}`, location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => u.searchParams.append(key, v));
    else u.searchParams.set(key, value);
  }
  return u;
}

export async function request(method, path, { params, body, raw = false } = {}) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, params), init);
  if (!response.ok) {
    let detail = null;
    try {
      detail = await response.json();
    } catch {
      detail = { message: `${response.status} ${response.statusText}` };
    }
    const error = new ApiError(response.status, detail);
    if (response.status === 401 && !path.endsWith("/auth/login")) onUnauthorized(error);
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const api = {
  get: (path, params) => request("GET", path, { params }),
  post: (path, body, params) => request("POST", path, { body, params }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path) => request("DELETE", path),
  url: (path, params) => url(path, params).toString(),
  raw: (path, params) => request("GET", path, { params, raw: true }),
};
