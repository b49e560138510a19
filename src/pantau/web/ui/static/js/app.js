// The shell: configuration, language, login, navigation and the hash router. Each page is a
// module in ./pages/<name>.js exporting mount(root, ctx) and, optionally, unmount().

import { api, setUnauthorizedHandler } from "./api.js";
import { h, clear, toast } from "./dom.js";
import * as i18n from "./i18n.js";
import * as live from "./live.js";

export const PAGES = [
  { id: "peta", key: "nav.map", icon: "◎" },
  { id: "dinding", key: "nav.wall", icon: "▦" },
  { id: "putar", key: "nav.playback", icon: "▶" },
  { id: "peringatan", key: "nav.alarms", icon: "⚠" },
  { id: "kepatuhan", key: "nav.compliance", icon: "◷" },
  { id: "kesehatan", key: "nav.health", icon: "♥" },
  { id: "admin", key: "nav.admin", icon: "⚙", roles: ["admin"] },
];

const state = { config: null, user: null, page: null, pageId: null };
const root = () => document.getElementById("app");

export function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [id, ...rest] = path.split("/");
  return { id: id || "peta", rest, params: Object.fromEntries(new URLSearchParams(query)) };
}

/** Go to a page: navigate("putar", {camera: 3}). */
export function navigate(id, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();
  location.hash = `#/${id}${query ? `?${query}` : ""}`;
}

function context(params, rest) {
  // A page may still be mounting when the session ends (state.user becomes null): it keeps
  // the user it was opened for.
  const user = state.user;
  return {
    api,
    t: i18n.t,
    fmt: i18n,
    live,
    user,
    config: state.config,
    lang: i18n.currentLanguage(),
    params,
    rest,
    navigate,
    toast,
    can: (...roles) => roles.includes(user.role),
  };
}

async function showPage() {
  const { id, rest, params } = parseHash();
  const page = PAGES.find((p) => p.id === id);
  if (state.page?.unmount) {
    try {
      state.page.unmount();
    } catch (error) {
      console.error(error);
    }
  }
  state.page = null;
  document.querySelectorAll("nav.side a").forEach((a) => a.classList.toggle("active", a.dataset.page === id));
  const main = clear(document.querySelector("main"));
  if (!page || (page.roles && !page.roles.includes(state.user?.role))) {
    main.append(h("section", { class: "empty" }, h("h1", {}, i18n.t("shell.not_allowed")), h("p", {}, i18n.t("shell.not_allowed_hint"))));
    return;
  }
  document.title = `${i18n.t(page.key)} · Pantau`;
  state.pageId = id;
  const holder = h("section", { class: `page page-${id}`, "data-page": id });
  main.append(holder);
  try {
    const module = await import(`./pages/${id}.js`);
    if (!state.user || !holder.isConnected) return; // logged out or moved on meanwhile
    state.page = module;
    await module.mount(holder, context(params, rest));
  } catch (error) {
    console.error(error);
    clear(holder).append(h("div", { class: "error-box" }, h("h2", {}, i18n.t("shell.page_failed")), h("p", {}, error.message)));
  }
}

function clock(el) {
  const tick = () => {
    el.textContent = i18n.timeSeconds(new Date());
  };
  tick();
  setInterval(tick, 1000);
}

function liveBadge() {
  const badge = h("span", { class: "live-badge", id: "live-status" });
  live.onStatus((status) => {
    badge.dataset.status = status;
    badge.textContent = i18n.t(`shell.live.${status}`);
    if (status === "restored") toast(i18n.t("shell.live.restored_toast"), "ok");
  });
  return badge;
}

function alarmBadge() {
  const badge = h("a", { class: "alarm-badge", href: "#/peringatan", id: "alarm-count", title: i18n.t("nav.alarms") }, "0");
  const refresh = async () => {
    try {
      const open = await api.get("incidents", { state: "new", limit: 1000 });
      badge.textContent = String(open.length);
      badge.classList.toggle("hot", open.length > 0);
    } catch (error) {
      console.warn("alarm count", error);
    }
  };
  refresh();
  live.on("incident", refresh);
  return badge;
}

async function switchLanguage(lang) {
  localStorage.setItem("pantau.lang", lang);
  await i18n.loadLanguage(lang, state.config);
  renderShell();
}

function renderShell() {
  const user = state.user;
  const nav = h(
    "nav",
    { class: "side", "aria-label": i18n.t("shell.navigation") },
    PAGES.filter((p) => !p.roles || p.roles.includes(user.role)).map((p) =>
      h("a", { href: `#/${p.id}`, "data-page": p.id }, h("span", { class: "icon", "aria-hidden": "true" }, p.icon), h("span", {}, i18n.t(p.key))),
    ),
  );
  const langSelect = h(
    "select",
    { id: "lang-switch", "aria-label": i18n.t("shell.language"), onchange: (e) => switchLanguage(e.target.value) },
    state.config.languages.map((code) => h("option", { value: code, selected: code === i18n.currentLanguage() }, i18n.t(`lang.${code}`))),
  );
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/peta" }, h("strong", {}, "Pantau"), h("span", {}, `${i18n.t("shell.title")} · ${state.config.city}`)),
    h("span", { class: "clock", id: "clock" }),
    liveBadge(),
    alarmBadge(),
    langSelect,
    h("span", { class: "who", title: user.role }, `${user.full_name || user.username} · ${i18n.t(`role.${user.role}`)}`),
    h("button", { type: "button", id: "logout", onclick: logout }, i18n.t("shell.logout")),
  );
  clear(root()).append(header, h("div", { class: "body" }, nav, h("main", { id: "main" })));
  clock(header.querySelector("#clock"));
  showPage();
}

async function logout() {
  try {
    await api.post("auth/logout");
  } catch (error) {
    console.warn(error);
  }
  live.disconnect();
  state.user = null;
  renderLogin();
}

async function renderLogin(message) {
  const module = await import("./pages/login.js");
  clear(root());
  module.mount(root(), {
    t: i18n.t,
    api,
    config: state.config,
    message,
    languages: state.config.languages,
    lang: i18n.currentLanguage(),
    switchLanguage: async (lang) => {
      localStorage.setItem("pantau.lang", lang);
      await i18n.loadLanguage(lang, state.config);
      renderLogin(message);
    },
    done: (user) => {
      state.user = user;
      live.connect();
      renderShell();
    },
  });
}

async function boot() {
  state.config = await (await fetch("/ui/config.json")).json();
  await i18n.loadLanguage(localStorage.getItem("pantau.lang") || state.config.default_language, state.config);
  if (state.config.vendor_missing.length) console.error(`UI libraries missing: ${state.config.vendor_missing.join(", ")}; run scripts/bootstrap`);
  setUnauthorizedHandler(() => {
    if (state.user) {
      state.user = null;
      live.disconnect();
      renderLogin(i18n.t("login.expired"));
    }
  });
  window.addEventListener("hashchange", () => state.user && showPage());
  try {
    state.user = await api.get("auth/me");
  } catch {
    state.user = null;
  }
  if (state.user) {
    live.connect();
    renderShell();
  } else {
    renderLogin();
  }
}

boot().catch((error) => {
  console.error(error);
  clear(root()).append(h("div", { class: "error-box" }, h("h1", {}, "Pantau"), h("p", {}, error.message)));
});
