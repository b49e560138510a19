// Small helpers the admin tabs share: labelled fields, errors with the server's message and
// field list, busy buttons, a file upload, two-click confirmation.

import { h, clear } from "../../dom.js";
import { ApiError, api } from "../../api.js";

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

export function options(items, selected) {
  return items.map(([value, label]) => h("option", { value, selected: String(value) === String(selected ?? "") }, label));
}

/** An error box with the server's message and, when it names them, each field's problem. */
export function errorBox(error, title) {
  const fields = (error.fields || []).filter((f) => f.field && !error.message.includes(f.message));
  return h(
    "div",
    { class: "error-box", role: "alert" },
    title ? h("strong", {}, title) : null,
    h("p", { class: "error-message" }, error.message),
    fields.length ? h("ul", { class: "error-fields" }, fields.map((f) => h("li", {}, h("code", {}, f.field), " ", f.message))) : null,
  );
}

export function showError(box, error, title) {
  clear(box).append(errorBox(error, title));
}

export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

/** POST a file as multipart field "file"; errors are ApiErrors with the server's message. */
export async function upload(path, file, params) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(api.url(path, params), { method: "POST", body: form, credentials: "same-origin" });
  const body = await response.json().catch(() => ({ message: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** A button that asks "sure?" on the first click and acts on the second (no native dialogs). */
export function confirmButton(label, sureLabel, action, attrs = {}) {
  let armed = null;
  const button = h("button", { type: "button", class: "danger", ...attrs }, label);
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = sureLabel;
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    await busy(button, action);
  });
  return button;
}

export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Sites grouped by kecamatan, for <select>s with optgroups. */
export function siteOptions(sites, selected, t) {
  const groups = new Map();
  for (const s of sites) {
    const key = s.kecamatan_name || t("admin.site.no_kecamatan");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  return [...groups].map(([name, list]) =>
    h("optgroup", { label: name }, list.map((s) => h("option", { value: s.id, selected: String(s.id) === String(selected ?? "") }, s.name))),
  );
}

export function stateBadge(state, label) {
  return h("span", { class: `state state-${state}` }, label);
}

export const CONNECTIVITY_STATE = { connected: "online", not_connected: "not_connected", planned: "disabled" };
