// Pengguna: accounts, roles and their area (kecamatan for a camat, kelurahan for a lurah),
// activation and password resets. Every change is audited by the server.

import { h, clear, append } from "../../dom.js";
import { field, options, showError, busy } from "./common.js";

const ROLES = ["admin", "operator", "pimpinan", "camat", "lurah"];

let off = [];

export async function mount(root, ctx) {
  const { t, api } = ctx;
  const view = { users: [], kecamatan: [], kelurahan: [] };
  const list = h("div", { class: "admin-list" });
  const side = h("aside", { class: "admin-side card" });
  root.append(
    h("div", { class: "toolbar" }, h("span", { class: "muted", id: "user-count" }), h("span", { class: "spacer" }), h("button", { type: "button", class: "primary", id: "user-new", onclick: () => edit(null) }, t("admin.user.new"))),
    h("div", { class: "admin-split" }, list, side),
  );

  const regionName = (code) => view.kecamatan.find((k) => k.code === code)?.name || view.kelurahan.find((k) => k.code === code)?.name || code;

  async function load() {
    try {
      [view.users, view.kecamatan, view.kelurahan] = await Promise.all([api.get("users"), api.get("kecamatan"), api.get("kelurahan")]);
      render();
    } catch (error) {
      showError(list, error, t("admin.load_failed"));
    }
  }

  function render() {
    root.querySelector("#user-count").textContent = t("admin.user.count", { n: view.users.length });
    clear(list).append(
      h(
        "table",
        { class: "admin-table", id: "user-table" },
        h("thead", {}, h("tr", {}, [t("admin.user.username"), t("admin.user.full_name"), t("admin.user.role"), t("admin.user.scope"), t("admin.user.status"), ""].map((x) => h("th", {}, x)))),
        h(
          "tbody",
          {},
          view.users.map((u) =>
            h(
              "tr",
              { "data-user": u.username, class: u.active ? null : "inactive" },
              h("td", {}, h("strong", {}, u.username)),
              h("td", {}, u.full_name || "—"),
              h("td", {}, t(`role.${u.role}`)),
              h("td", {}, u.scope_code ? `${regionName(u.scope_code)} (${u.scope_code})` : t("admin.user.whole_city")),
              h("td", {}, h("span", { class: `state state-${u.active ? "online" : "disabled"}` }, u.active ? t("admin.user.active") : t("admin.user.inactive"))),
              h(
                "td",
                { class: "actions" },
                h("button", { type: "button", class: "link", onclick: () => edit(u) }, t("admin.edit")),
                u.username === ctx.user.username
                  ? null
                  : h("button", { type: "button", class: "link", "data-action": "toggle", onclick: (e) => toggle(u, e.target) }, u.active ? t("admin.user.deactivate") : t("admin.user.activate")),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function toggle(user, button) {
    await busy(button, async () => {
      try {
        await api.patch(`users/${user.id}`, { active: !user.active });
        ctx.toast(t(user.active ? "admin.user.deactivated" : "admin.user.activated", { name: user.username }), "ok");
        await load();
      } catch (error) {
        ctx.toast(error.message, "error");
      }
    });
  }

  function scopeSelect(role, selected) {
    if (role === "camat") return options(view.kecamatan.map((k) => [k.code, `${k.name} (${k.code})`]), selected);
    if (role === "lurah") return options(view.kelurahan.map((k) => [k.code, `${k.name} (${k.code})`]), selected);
    return [h("option", { value: "" }, t("admin.user.whole_city"))];
  }

  function edit(user) {
    const u = user || { role: "operator", active: true };
    const box = h("div", {});
    const inputs = {
      username: h("input", { id: "user-username", value: u.username || "", disabled: !!user, required: true, minlength: 2, autocomplete: "off" }),
      full_name: h("input", { id: "user-full-name", value: u.full_name || "" }),
      role: h("select", { id: "user-role", onchange: () => append(clear(inputs.scope), scopeSelect(inputs.role.value)) }, options(ROLES.map((r) => [r, t(`role.${r}`)]), u.role)),
      scope: h("select", { id: "user-scope" }, scopeSelect(u.role, u.scope_code)),
      password: h("input", { id: "user-password", type: "password", autocomplete: "new-password", minlength: 8, required: !user, placeholder: user ? t("admin.user.password_keep") : "" }),
    };
    const save = h("button", { type: "submit", class: "primary", id: "user-save" }, t("admin.save"));
    clear(side).append(
      h(
        "form",
        {
          class: "admin-form",
          id: "user-form",
          onsubmit: (e) => {
            e.preventDefault();
            busy(save, async () => {
              const body = { full_name: inputs.full_name.value.trim(), role: inputs.role.value, scope_code: inputs.scope.value || null };
              // An unchanged role is left out: the server ends a user's sessions when it changes.
              if (user && body.role === user.role && body.scope_code === user.scope_code) {
                delete body.role;
                delete body.scope_code;
              }
              if (inputs.password.value) body.password = inputs.password.value;
              try {
                const out = user ? await api.patch(`users/${user.id}`, body) : await api.post("users", { ...body, username: inputs.username.value.trim() });
                ctx.toast(t(user && body.password ? "admin.user.password_reset" : "admin.user.saved", { name: out.username }), "ok");
                await load();
                edit(out);
              } catch (error) {
                showError(box, error, t("admin.save_failed"));
              }
            });
          },
        },
        h("h2", {}, user ? t("admin.user.edit_title", { name: user.username }) : t("admin.user.new")),
        field(t("admin.user.username"), inputs.username),
        field(t("admin.user.full_name"), inputs.full_name),
        h("div", { class: "row2" }, field(t("admin.user.role"), inputs.role), field(t("admin.user.scope"), inputs.scope)),
        field(user ? t("admin.user.reset_password") : t("admin.user.password"), inputs.password, t("admin.user.password_hint")),
        box,
        h("div", { class: "toolbar" }, save, h("button", { type: "button", onclick: () => clear(side) }, t("admin.cancel"))),
      ),
    );
  }

  off.push(ctx.live.onStatus((status) => status === "restored" && load()));
  await load();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
