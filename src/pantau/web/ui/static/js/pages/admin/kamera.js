// Kamera: list, create, edit, delete, and "Tes koneksi", which connects the way a camera worker
// does and shows the first picture or the exact failure (passwords are write-only).

import { h, clear } from "../../dom.js";
import { field, showError, busy, confirmButton, siteOptions, stateBadge } from "./common.js";

const STATES = ["online", "degraded", "connecting", "offline", "disabled"];
export const ERROR_CODES = ["auth_failed", "unreachable", "not_found", "stalled", "not_video", "unsupported_codec", "ended", "corrupt", "error"];

let off = [];

/** Run a connection test and draw its outcome into `box`; resolves to the server's answer. */
export async function runTest(ctx, box, body) {
  const { t, fmt } = ctx;
  clear(box).append(
    h("div", { class: "test-running", id: "test-running" }, h("p", {}, t("admin.test.running")), h("div", { class: "progress indeterminate" }, h("span", {}))),
  );
  try {
    const out = await ctx.api.post("cameras/test", body);
    clear(box);
    if (out.ok) {
      box.append(
        h(
          "figure",
          { class: "test-ok", id: "test-result", "data-ok": "true" },
          h("img", { id: "test-snapshot", alt: t("admin.test.snapshot_alt"), src: `data:image/jpeg;base64,${out.jpeg_base64}` }),
          h("figcaption", {}, stateBadge("online", t("admin.test.ok")), " ", `${(out.codec || "").toUpperCase()} · ${out.width}×${out.height} · ${t("admin.test.seconds", { s: fmt.number(out.seconds, 1) })}`),
        ),
      );
    } else {
      const code = ERROR_CODES.includes(out.error) ? out.error : "error";
      box.append(
        h(
          "div",
          { class: "error-box test-failed", id: "test-result", "data-ok": "false", "data-error": out.error, role: "alert" },
          h("strong", { class: "test-error-title" }, t(`admin.test.error.${code}`)),
          h("p", {}, h("code", { class: "test-error-code" }, out.error), " ", h("span", { class: "test-error-message" }, out.message)),
          h("p", { class: "muted small" }, t(`admin.test.hint.${code}`)),
        ),
      );
    }
    return out;
  } catch (error) {
    showError(box, error, t("admin.test.failed"));
    return null;
  }
}

export async function mount(root, ctx) {
  const { t, api } = ctx;
  const view = { cameras: [], sites: [], health: {} };
  const list = h("div", { class: "admin-list" });
  const side = h("aside", { class: "admin-side card" }, h("p", { class: "muted" }, t("admin.cam.side_hint")));
  root.append(
    h("div", { class: "toolbar" }, h("span", { class: "muted", id: "cam-count" }), h("span", { class: "spacer" }), h("button", { type: "button", class: "primary", id: "cam-new", disabled: true, onclick: () => edit(null) }, t("admin.cam.new"))),
    h("div", { class: "admin-split" }, list, side),
  );

  async function load() {
    try {
      const [cameras, sites, health] = await Promise.all([api.get("cameras"), api.get("sites"), api.get("health/cameras")]);
      view.cameras = cameras;
      view.sites = sites;
      view.health = Object.fromEntries(health.map((x) => [x.camera_id, x]));
      root.querySelector("#cam-new").disabled = !sites.length;
      render();
    } catch (error) {
      showError(list, error, t("admin.load_failed"));
    }
  }

  function render() {
    root.querySelector("#cam-count").textContent = t("admin.cam.count", { n: view.cameras.length });
    clear(list);
    if (!view.cameras.length) {
      list.append(h("div", { class: "empty", id: "cam-empty" }, h("p", {}, t("admin.cam.none")), h("p", {}, t("admin.cam.none_hint"))));
      return;
    }
    const siteName = Object.fromEntries(view.sites.map((s) => [s.id, s.name]));
    list.append(
      h(
        "table",
        { class: "admin-table", id: "cam-table" },
        h("thead", {}, h("tr", {}, [t("admin.cam.name"), t("admin.cam.site"), t("admin.cam.purpose"), t("admin.cam.stream"), t("admin.cam.state"), t("admin.cam.zones"), ""].map((x) => h("th", {}, x)))),
        h(
          "tbody",
          {},
          view.cameras.map((c) => {
            const health = view.health[c.id];
            const masks = c.zones.filter((z) => z.name.toLowerCase().startsWith("masker:")).length;
            return h(
              "tr",
              { "data-camera": c.id },
              h("td", {}, h("strong", {}, c.name), c.enabled ? null : h("div", { class: "muted small" }, t("admin.cam.disabled"))),
              h("td", {}, siteName[c.site_id] || c.site_id),
              h("td", {}, c.purpose),
              h("td", {}, h("code", { class: "url" }, c.main_stream), c.has_password ? h("div", { class: "muted small" }, t("admin.cam.password_stored")) : null),
              h("td", {}, health ? stateBadge(health.state, STATES.includes(health.state) ? t(`admin.cam.state.${health.state}`) : health.state) : "—", health?.reason ? h("div", { class: "muted small" }, health.reason) : null),
              h("td", {}, h("a", { href: `#/admin/zona/${c.id}`, title: t("admin.cam.draw_zones") }, t("admin.cam.zone_count", { zones: c.zones.length - masks, masks }))),
              h(
                "td",
                { class: "actions" },
                h("button", { type: "button", class: "link", onclick: () => edit(c) }, t("admin.edit")),
                h("button", { type: "button", class: "link", "data-action": "test", onclick: () => quickTest(c) }, t("admin.test.button")),
              ),
            );
          }),
        ),
      ),
    );
  }

  function quickTest(camera) {
    const box = h("div", { class: "test-box" });
    clear(side).append(h("h2", {}, t("admin.test.title", { name: camera.name })), box);
    runTest(ctx, box, { camera_id: camera.id });
  }

  function edit(camera) {
    const c = camera || { enabled: true, site_id: view.sites[0]?.id };
    const box = h("div", { class: "form-error" });
    const testBox = h("div", { class: "test-box" });
    const inputs = {
      site_id: h("select", { name: "site_id", id: "cam-site", disabled: !!camera }, siteOptions(view.sites, c.site_id, t)),
      name: h("input", { name: "name", id: "cam-name", value: c.name || "", required: true }),
      purpose: h("input", { name: "purpose", id: "cam-purpose", value: c.purpose || "", required: true, minlength: 3, placeholder: t("admin.cam.purpose_hint") }),
      main_stream: h("input", { name: "main_stream", id: "cam-url", value: c.main_stream || "", required: true, placeholder: "rtsp://10.20.1.5:554/Streaming/Channels/101", spellcheck: "false" }),
      sub_stream: h("input", { name: "sub_stream", id: "cam-sub", value: c.sub_stream || "", spellcheck: "false" }),
      username: h("input", { name: "username", id: "cam-user", value: c.username || "", autocomplete: "off" }),
      password: h("input", { name: "password", id: "cam-password", type: "password", autocomplete: "new-password", placeholder: c.has_password ? t("admin.cam.password_keep") : "" }),
      enabled: h("input", { type: "checkbox", id: "cam-enabled", checked: c.enabled }),
    };
    const save = h("button", { type: "submit", class: "primary", id: "cam-save" }, t("admin.save"));
    const test = h("button", { type: "button", id: "cam-test" }, t("admin.test.button"));
    test.addEventListener("click", () =>
      busy(test, () => {
        const body = { url: inputs.main_stream.value.trim() || null, username: inputs.username.value.trim() || null };
        if (inputs.password.value) body.password = inputs.password.value;
        if (camera) body.camera_id = camera.id;
        return runTest(ctx, testBox, body);
      }),
    );
    const form = h(
      "form",
      {
        class: "admin-form",
        id: "cam-form",
        onsubmit: (e) => {
          e.preventDefault();
          busy(save, async () => {
            const body = {
              name: inputs.name.value.trim(),
              purpose: inputs.purpose.value.trim(),
              main_stream: inputs.main_stream.value.trim(),
              sub_stream: inputs.sub_stream.value.trim() || null,
              username: inputs.username.value.trim() || null,
              enabled: inputs.enabled.checked,
            };
            if (inputs.password.value) body.password = inputs.password.value;
            try {
              const out = camera ? await api.patch(`cameras/${camera.id}`, body) : await api.post("cameras", { ...body, site_id: Number(inputs.site_id.value) });
              ctx.toast(t("admin.cam.saved", { name: out.name }), "ok");
              await load();
              edit(out);
            } catch (error) {
              showError(box, error, t("admin.save_failed"));
            }
          });
        },
      },
      h("h2", {}, camera ? t("admin.cam.edit_title", { name: camera.name }) : t("admin.cam.new")),
      field(t("admin.cam.site"), inputs.site_id),
      h("div", { class: "row2" }, field(t("admin.cam.name"), inputs.name), field(t("admin.cam.purpose"), inputs.purpose)),
      field(t("admin.cam.main_stream"), inputs.main_stream, t("admin.cam.url_hint")),
      field(t("admin.cam.sub_stream"), inputs.sub_stream),
      h("div", { class: "row2" }, field(t("admin.cam.username"), inputs.username), field(t("admin.cam.password"), inputs.password, t("admin.cam.password_hint"))),
      h("label", { class: "check" }, inputs.enabled, t("admin.cam.enabled")),
      box,
      h(
        "div",
        { class: "toolbar" },
        save,
        test,
        camera ? h("a", { href: `#/admin/zona/${camera.id}`, class: "button-link" }, t("admin.cam.draw_zones")) : null,
        h("span", { class: "spacer" }),
        camera
          ? confirmButton(t("admin.delete"), t("admin.confirm_delete"), async () => {
              try {
                await api.del(`cameras/${camera.id}`);
                ctx.toast(t("admin.cam.deleted", { name: camera.name }), "ok");
                clear(side).append(h("p", { class: "muted" }, t("admin.cam.side_hint")));
                await load();
              } catch (error) {
                showError(box, error, t("admin.delete_failed"));
              }
            })
          : null,
      ),
      testBox,
    );
    clear(side).append(form);
  }

  off.push(ctx.live.on("camera", (event) => {
    const row = view.health[event.camera_id];
    if (row) {
      Object.assign(row, event);
      render();
    }
  }));
  off.push(ctx.live.onStatus((status) => status === "restored" && load()));
  await load();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
