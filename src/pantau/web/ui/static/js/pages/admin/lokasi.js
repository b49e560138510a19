// Lokasi: the site registry (search, create, edit, allowed windows) and the GeoJSON import,
// which is checked on the server first (dry run) and shown before anything is stored.

import { h, clear, append } from "../../dom.js";
import { field, options, showError, busy, upload, confirmButton, debounce, stateBadge, CONNECTIVITY_STATE } from "./common.js";

const KINDS = ["kantor_kelurahan", "kantor_kecamatan", "kantor_opd", "ruang_publik", "ruas_jalan"];
const CONNECTIVITY = ["connected", "not_connected", "planned"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

let off = [];

export async function mount(root, ctx) {
  const { t, api, fmt } = ctx;
  const view = { sites: [], kecamatan: [], kelurahan: [], calendars: [], q: "", kind: "", kec: "" };
  const list = h("div", { class: "admin-list" });
  const side = h("aside", { class: "admin-side card" }, h("p", { class: "muted" }, t("admin.site.side_hint")));
  const count = h("span", { class: "muted", id: "site-count" });
  const fileInput = h("input", { type: "file", accept: ".geojson,.json,application/geo+json,application/json", id: "site-import-file", hidden: true, onchange: () => preview(fileInput.files[0]) });

  const toolbar = h(
    "div",
    { class: "toolbar" },
    h("input", { type: "search", id: "site-search", placeholder: t("admin.site.search"), oninput: debounce((e) => { view.q = e.target.value.trim(); load(); }) }),
    h("select", { id: "site-kind-filter", onchange: (e) => { view.kind = e.target.value; load(); } }, h("option", { value: "" }, t("admin.site.all_kinds")), options(KINDS.map((k) => [k, t(`admin.kind.${k}`)]))),
    h("select", { id: "site-kec-filter", onchange: (e) => { view.kec = e.target.value; load(); } }),
    count,
    h("span", { class: "spacer" }),
    h("button", { type: "button", id: "site-new", class: "primary", onclick: () => edit(null) }, t("admin.site.new")),
    h("button", { type: "button", id: "site-import", onclick: () => fileInput.click() }, t("admin.site.import")),
    fileInput,
  );
  root.append(toolbar, h("div", { class: "admin-split" }, list, side));

  async function loadLookups() {
    [view.kecamatan, view.kelurahan, view.calendars] = await Promise.all([api.get("kecamatan"), api.get("kelurahan"), api.get("calendars")]);
    const kecSelect = toolbar.querySelector("#site-kec-filter");
    append(kecSelect, [h("option", { value: "" }, t("admin.site.all_kecamatan")), options(view.kecamatan.map((k) => [k.code, k.name]))]);
  }

  async function load() {
    try {
      view.sites = await api.get("sites", { q: view.q, kind: view.kind, kecamatan: view.kec });
      render();
    } catch (error) {
      showError(list, error, t("admin.load_failed"));
    }
  }

  function render() {
    count.textContent = t("admin.site.count", { n: view.sites.length });
    clear(list);
    if (!view.sites.length) {
      list.append(h("p", { class: "empty" }, t("admin.site.none")));
      return;
    }
    const kelName = Object.fromEntries(view.kelurahan.map((k) => [k.code, k.name]));
    list.append(
      h(
        "table",
        { class: "admin-table", id: "site-table" },
        h("thead", {}, h("tr", {}, [t("admin.site.name"), t("admin.site.kind"), t("admin.site.region"), t("admin.site.coords"), t("admin.site.connectivity"), t("admin.site.cameras"), ""].map((x) => h("th", {}, x)))),
        h(
          "tbody",
          {},
          view.sites.map((s) =>
            h(
              "tr",
              { "data-site": s.id },
              h("td", {}, h("strong", {}, s.name), h("div", { class: "muted small" }, s.slug)),
              h("td", {}, t(`admin.kind.${s.kind}`)),
              h("td", {}, s.kelurahan_code ? kelName[s.kelurahan_code] || s.kelurahan_code : "—", h("div", { class: "muted small" }, s.kecamatan_name || "")),
              h("td", { class: "num" }, s.lat !== null && s.lon !== null ? `${fmt.number(s.lat, 5)}, ${fmt.number(s.lon, 5)}` : "—"),
              h("td", {}, stateBadge(CONNECTIVITY_STATE[s.connectivity], t(`admin.connectivity.${s.connectivity}`))),
              h("td", { class: "num" }, s.camera_count),
              h("td", {}, h("button", { type: "button", class: "link", onclick: () => edit(s) }, t("admin.edit"))),
            ),
          ),
        ),
      ),
    );
  }

  function kelurahanOptions(selected) {
    const byKec = new Map();
    for (const k of view.kelurahan) {
      if (!byKec.has(k.kecamatan_code)) byKec.set(k.kecamatan_code, []);
      byKec.get(k.kecamatan_code).push(k);
    }
    const kecName = Object.fromEntries(view.kecamatan.map((k) => [k.code, k.name]));
    return [
      h("option", { value: "" }, "—"),
      [...byKec].map(([code, list]) => h("optgroup", { label: kecName[code] || code }, list.map((k) => h("option", { value: k.code, selected: k.code === selected }, k.name)))),
    ];
  }

  function edit(site) {
    const s = site || { kind: "ruang_publik", connectivity: "planned" };
    const box = h("div", { class: "form-error" });
    const inputs = {
      name: h("input", { name: "name", value: s.name || "", required: true, minlength: 3 }),
      kind: h("select", { name: "kind", disabled: !!site }, options(KINDS.map((k) => [k, t(`admin.kind.${k}`)]), s.kind)),
      kelurahan_code: h("select", { name: "kelurahan_code" }, kelurahanOptions(s.kelurahan_code)),
      kecamatan_code: h("select", { name: "kecamatan_code" }, h("option", { value: "" }, "—"), options(view.kecamatan.map((k) => [k.code, k.name]), s.kecamatan_code)),
      address: h("input", { name: "address", value: s.address || "" }),
      lat: h("input", { name: "lat", type: "number", step: "any", min: -90, max: 90, value: s.lat ?? "" }),
      lon: h("input", { name: "lon", type: "number", step: "any", min: -180, max: 180, value: s.lon ?? "" }),
      connectivity: h("select", { name: "connectivity" }, options(CONNECTIVITY.map((c) => [c, t(`admin.connectivity.${c}`)]), s.connectivity)),
      calendar_id: h("select", { name: "calendar_id" }, h("option", { value: "" }, t("admin.site.city_calendar")), options(view.calendars.map((c) => [c.id, c.name]), s.calendar_id)),
    };
    const save = h("button", { type: "submit", class: "primary", id: "site-save" }, t("admin.save"));
    const form = h(
      "form",
      {
        class: "admin-form",
        id: "site-form",
        onsubmit: (e) => {
          e.preventDefault();
          busy(save, async () => {
            const num = (v) => (v === "" ? null : Number(v));
            const body = {
              name: inputs.name.value.trim(),
              kelurahan_code: inputs.kelurahan_code.value || null,
              kecamatan_code: inputs.kecamatan_code.value || null,
              address: inputs.address.value.trim() || null,
              lat: num(inputs.lat.value),
              lon: num(inputs.lon.value),
              connectivity: inputs.connectivity.value,
              calendar_id: inputs.calendar_id.value ? Number(inputs.calendar_id.value) : null,
            };
            try {
              const out = site ? await api.patch(`sites/${site.id}`, body) : await api.post("sites", { ...body, kind: inputs.kind.value });
              ctx.toast(t("admin.site.saved", { name: out.name }), "ok");
              await load();
              edit(out);
            } catch (error) {
              showError(box, error, t("admin.save_failed"));
            }
          });
        },
      },
      h("h2", {}, site ? t("admin.site.edit_title", { name: site.name }) : t("admin.site.new")),
      field(t("admin.site.name"), inputs.name),
      field(t("admin.site.kind"), inputs.kind),
      h("div", { class: "row2" }, field(t("admin.site.kelurahan"), inputs.kelurahan_code), field(t("admin.site.kecamatan"), inputs.kecamatan_code)),
      field(t("admin.site.address"), inputs.address),
      h("div", { class: "row2" }, field(t("admin.site.lat"), inputs.lat), field(t("admin.site.lon"), inputs.lon)),
      h("div", { class: "row2" }, field(t("admin.site.connectivity"), inputs.connectivity), field(t("admin.site.calendar"), inputs.calendar_id)),
      box,
      h(
        "div",
        { class: "toolbar" },
        save,
        h("button", { type: "button", onclick: () => closeSide() }, t("admin.cancel")),
        site
          ? confirmButton(t("admin.delete"), t("admin.confirm_delete"), async () => {
              try {
                await api.del(`sites/${site.id}`);
                ctx.toast(t("admin.site.deleted", { name: site.name }), "ok");
                closeSide();
                await load();
              } catch (error) {
                showError(box, error, t("admin.delete_failed"));
              }
            })
          : null,
      ),
    );
    clear(side).append(form);
    if (site) windowsEditor(site);
  }

  async function windowsEditor(site) {
    const holder = h("section", { class: "windows", id: "site-windows" }, h("h3", {}, t("admin.windows.title")), h("p", { class: "muted small" }, t("admin.windows.hint")));
    side.append(holder);
    const rows = h("div", { class: "window-rows" });
    const box = h("div", {});
    let data;
    try {
      data = await api.get(`sites/${site.id}/allowed-windows`);
    } catch (error) {
      showError(holder, error, t("admin.load_failed"));
      return;
    }
    holder.append(h("p", { class: "muted small", id: "site-margins" }, t("admin.windows.margins", { before: data.margins.before_minutes, after: data.margins.after_minutes })));
    const addRow = (w = { days: null, from: "", to: "", note: "" }) => {
      const days = DAYS.map((d) => h("label", { class: "chip" }, h("input", { type: "checkbox", value: d, checked: !!w.days?.includes(d) }), t(`admin.day.${d}`)));
      const row = h(
        "div",
        { class: "window-row" },
        h("div", { class: "chips" }, days),
        h("input", { class: "time", placeholder: "21.45", value: w.from, "aria-label": t("admin.windows.from") }),
        "–",
        h("input", { class: "time", placeholder: "22.15", value: w.to, "aria-label": t("admin.windows.to") }),
        h("span", { class: "muted" }, fmt.zoneShort()),
        h("input", { class: "note", placeholder: t("admin.windows.note_hint"), value: w.note }),
        h("button", { type: "button", class: "link", onclick: () => row.remove() }, "✕"),
      );
      rows.append(row);
    };
    data.windows.forEach(addRow);
    const save = h("button", { type: "button", class: "primary" }, t("admin.windows.save"));
    save.addEventListener("click", () =>
      busy(save, async () => {
        const windows = [...rows.children].map((row) => {
          const checked = [...row.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value);
          const [from, to, note] = row.querySelectorAll("input:not([type=checkbox])");
          return { days: checked.length ? checked : null, from: from.value.trim(), to: to.value.trim(), note: note.value.trim() };
        });
        try {
          await api.put(`sites/${site.id}/allowed-windows`, { windows });
          clear(box);
          ctx.toast(t("admin.windows.saved"), "ok");
        } catch (error) {
          showError(box, error, t("admin.save_failed"));
        }
      }),
    );
    holder.append(rows, box, h("div", { class: "toolbar" }, h("button", { type: "button", onclick: () => addRow() }, t("admin.windows.add")), save));
  }

  function closeSide() {
    clear(side).append(h("p", { class: "muted" }, t("admin.site.side_hint")));
  }

  async function preview(file) {
    if (!file) return;
    const box = h("div", { id: "import-result" }, h("p", { class: "muted" }, t("admin.import.checking", { file: file.name })), h("div", { class: "progress indeterminate" }, h("span", {})));
    clear(side).append(h("h2", {}, t("admin.import.title")), box);
    try {
      const out = await upload("sites/import", file, { dry_run: true });
      const go = h("button", { type: "button", class: "primary", id: "import-confirm" }, t("admin.import.confirm", { n: out.sites.length }));
      go.addEventListener("click", () =>
        busy(go, async () => {
          try {
            const done = await upload("sites/import", file);
            ctx.toast(t("admin.import.done", { n: done.imported }), "ok");
            clear(box).append(h("p", { class: "ok-box", id: "import-done" }, t("admin.import.done", { n: done.imported })));
            await load();
          } catch (error) {
            showError(box, error, t("admin.import.refused"));
          }
        }),
      );
      clear(box).append(
        h("p", {}, t("admin.import.ready", { n: out.sites.length, file: file.name })),
        h(
          "table",
          { class: "admin-table compact" },
          h("thead", {}, h("tr", {}, [t("admin.site.name"), t("admin.site.kind"), t("admin.site.kelurahan"), t("admin.site.coords")].map((x) => h("th", {}, x)))),
          h(
            "tbody",
            {},
            out.sites.map((s) =>
              h("tr", {}, h("td", {}, s.name), h("td", {}, t(`admin.kind.${s.kind}`)), h("td", {}, view.kelurahan.find((k) => k.code === s.kelurahan_code)?.name || "—"), h("td", { class: "num" }, `${fmt.number(s.lat, 5)}, ${fmt.number(s.lon, 5)}`)),
            ),
          ),
        ),
        h("div", { class: "toolbar" }, go, h("button", { type: "button", onclick: closeSide }, t("admin.cancel"))),
      );
    } catch (error) {
      showError(box, error, t("admin.import.refused"));
    } finally {
      fileInput.value = "";
    }
  }

  off.push(ctx.live.onStatus((status) => status === "restored" && load()));
  await loadLookups();
  await load();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
