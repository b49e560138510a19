// Admin (admin role only): sites, cameras, zones and masks, calendars, users, audit log. Each
// tab is its own module in ./admin/<tab>.js, reached as #/admin/<tab>[/<id>].

import { h, clear, ensureCss } from "../dom.js";

export const TABS = [
  { id: "lokasi", key: "admin.tab.sites" },
  { id: "kamera", key: "admin.tab.cameras" },
  { id: "zona", key: "admin.tab.zones" },
  { id: "kalender", key: "admin.tab.calendars" },
  { id: "pengguna", key: "admin.tab.users" },
  { id: "audit", key: "admin.tab.audit" },
];

let current = null;


export async function mount(root, ctx) {
  const { t } = ctx;
  ensureCss("admin");
  if (!ctx.can("admin")) {
    root.append(h("h1", {}, t("shell.not_allowed")), h("p", { class: "muted" }, t("shell.not_allowed_hint")));
    return;
  }
  const tabId = TABS.some((x) => x.id === ctx.rest[0]) ? ctx.rest[0] : "lokasi";
  const tabs = h(
    "nav",
    { class: "admin-tabs", "aria-label": t("admin.title") },
    TABS.map((x) => h("a", { href: `#/admin/${x.id}`, "data-tab": x.id, class: x.id === tabId ? "active" : null }, t(x.key))),
  );
  const body = h("div", { class: "admin-body", "data-tab": tabId }, h("p", { class: "muted" }, t("shell.loading")));
  root.append(h("div", { class: "admin-head" }, h("h1", {}, t("admin.title")), tabs), body);
  const module = await import(`./admin/${tabId}.js`);
  current = module;
  clear(body);
  await module.mount(body, { ...ctx, rest: ctx.rest.slice(1) });
  body.dataset.ready = "true";
}

export function unmount() {
  if (current?.unmount) current.unmount();
  current = null;
}
