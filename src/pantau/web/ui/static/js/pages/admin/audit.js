// Log audit: who viewed, played back, exported or changed what, and every refused request
// (UU 27/2022). Filtered and paged on the server (GET /api/audit/page).

import { h, clear } from "../../dom.js";
import { field, options, showError } from "./common.js";

const PAGE = 50;
const PREFIXES = ["recording.", "camera.", "site.", "calendar.", "user.", "incident.", "verdict.", "auth."];

let off = [];

function summary(detail) {
  const skip = new Set(["method"]);
  return Object.entries(detail || {})
    .filter(([key, value]) => !skip.has(key) && value !== null && value !== "" && !(Array.isArray(value) && !value.length))
    .slice(0, 6)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value).slice(0, 80) : value}`)
    .join(" · ");
}

export async function mount(root, ctx) {
  const { t, api, fmt } = ctx;
  const q = { actor: ctx.params.actor || "", action: ctx.params.action || "", outcome: ctx.params.outcome || "", from: ctx.params.from || "", to: ctx.params.to || "", offset: 0 };
  const table = h("div", { class: "audit-table", id: "audit-table" });
  const pager = h("div", { class: "toolbar pager", id: "audit-pager" });
  const inputs = {
    actor: h("input", { id: "audit-actor", value: q.actor, placeholder: t("admin.audit.actor_hint"), list: "audit-actors" }),
    action: h("input", { id: "audit-action", value: q.action, placeholder: "recording.", list: "audit-prefixes" }),
    outcome: h("select", { id: "audit-outcome" }, options([["", t("admin.audit.any")], ["ok", t("admin.audit.outcome.ok")], ["denied", t("admin.audit.outcome.denied")]], q.outcome)),
    from: h("input", { id: "audit-from", type: "date", value: q.from }),
    to: h("input", { id: "audit-to", type: "date", value: q.to }),
  };
  const apply = (changes = {}) => {
    Object.assign(q, { actor: inputs.actor.value.trim(), action: inputs.action.value.trim(), outcome: inputs.outcome.value, from: inputs.from.value, to: inputs.to.value, offset: 0 }, changes);
    load();
  };
  const quick = (label, set) =>
    h("button", { type: "button", class: "chip-button", onclick: () => { Object.entries(set).forEach(([k, v]) => { inputs[k].value = v; }); apply(); } }, label);
  root.append(
    h(
      "form",
      { class: "audit-filters", id: "audit-filters", onsubmit: (e) => { e.preventDefault(); apply(); } },
      field(t("admin.audit.actor"), inputs.actor),
      field(t("admin.audit.action"), inputs.action),
      field(t("admin.audit.outcome"), inputs.outcome),
      field(t("admin.audit.from"), inputs.from),
      field(t("admin.audit.to"), inputs.to),
      h("button", { type: "submit", class: "primary", id: "audit-apply" }, t("admin.audit.apply")),
      h("datalist", { id: "audit-prefixes" }, PREFIXES.map((p) => h("option", { value: p }))),
      h("datalist", { id: "audit-actors" }),
    ),
    h(
      "div",
      { class: "toolbar quick" },
      h("span", { class: "muted" }, t("admin.audit.quick")),
      quick(t("admin.audit.quick_footage"), { action: "recording.", outcome: "" }),
      quick(t("admin.audit.quick_denied"), { action: "", outcome: "denied" }),
      quick(t("admin.audit.quick_changes"), { action: "camera.", outcome: "ok" }),
      quick(t("admin.audit.quick_all"), { action: "", outcome: "", actor: "" }),
    ),
    table,
    pager,
  );

  api.get("users").then((users) => root.querySelector("#audit-actors").append(...users.map((u) => h("option", { value: u.username })))).catch(() => {});

  async function load() {
    clear(table).append(h("p", { class: "muted" }, t("shell.loading")));
    let page;
    try {
      page = await api.get("audit/page", { actor: q.actor, action: q.action, outcome: q.outcome, from: q.from, to: q.to, offset: q.offset, limit: PAGE });
    } catch (error) {
      showError(table, error, t("admin.load_failed"));
      return;
    }
    clear(table);
    if (!page.entries.length) table.append(h("p", { class: "empty", id: "audit-none" }, t("admin.audit.none")));
    else
      table.append(
        h(
          "table",
          { class: "admin-table" },
          h("thead", {}, h("tr", {}, [t("admin.audit.at"), t("admin.audit.actor"), t("admin.audit.action_col"), t("admin.audit.object"), t("admin.audit.outcome"), t("admin.audit.detail"), "IP"].map((x) => h("th", {}, x)))),
          h(
            "tbody",
            {},
            page.entries.map((e) =>
              h(
                "tr",
                { "data-action": e.action, class: e.outcome === "denied" ? "denied" : null },
                h("td", { class: "nowrap" }, fmt.dateTimeLabel(e.at)),
                h("td", {}, e.actor),
                h("td", {}, h("code", {}, e.action)),
                h("td", {}, e.object_type ? `${e.object_type} ${e.object_id ?? ""}` : "—"),
                h("td", {}, h("span", { class: `state state-${e.outcome === "ok" ? "online" : "offline"}` }, t(`admin.audit.outcome.${e.outcome === "ok" ? "ok" : "denied"}`))),
                h("td", { class: "detail", title: JSON.stringify(e.detail) }, summary(e.detail)),
                h("td", { class: "muted small" }, e.ip || ""),
              ),
            ),
          ),
        ),
      );
    const last = Math.min(page.offset + page.entries.length, page.total);
    clear(pager).append(
      h("span", { id: "audit-range" }, t("admin.audit.range", { from: page.total ? page.offset + 1 : 0, to: last, total: page.total })),
      h("span", { class: "spacer" }),
      h("button", { type: "button", id: "audit-prev", disabled: page.offset === 0, onclick: () => { q.offset = Math.max(0, q.offset - PAGE); load(); } }, t("admin.audit.prev")),
      h("button", { type: "button", id: "audit-next", disabled: last >= page.total, onclick: () => { q.offset += PAGE; load(); } }, t("admin.audit.next")),
    );
  }

  off.push(ctx.live.onStatus((status) => status === "restored" && load()));
  await load();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
