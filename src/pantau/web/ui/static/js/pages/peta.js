// Peta: every office on the city's own boundaries, coloured by its live state (docs/site-state.md).
// Leaflet draws the shipped kelurahan/kecamatan GeoJSON, so no tile server is needed; a
// configured tile_url is added underneath. The overview is re-read when a camera changes state
// or an incident arrives (throttled), on a restored live link, and every minute (the clock
// alone moves an office from "belum buka" to "buka" or "tutup"). A site whose edge agent is
// offline with data waiting is "belum terhubung — data menunggu", never "kamera mati".

import { h, clear, ensureCss } from "../dom.js";

const STATES = ["open", "not_open_yet", "closed", "camera_offline", "not_connected"];
const THROTTLE_MS = 5000;
const CLOCK_REFRESH_MS = 60000;
const WEEKDAY = { weekday: "short", day: "numeric", month: "short" }; // "Sen, 23 Nov 16.00 WITA"

let leafletLoading = null;
let cleanup = [];

/** Leaflet is UMD: one <script> for the whole session, then window.L. */
export function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  leafletLoading ||= new Promise((resolve, reject) => {
    const script = h("script", { src: "/ui/vendor/leaflet/leaflet.js" });
    script.addEventListener("load", () => resolve(window.L));
    script.addEventListener("error", () => {
      leafletLoading = null;
      reject(new Error("leaflet.js"));
    });
    document.head.append(script);
  });
  return leafletLoading;
}

function fold(text) {
  return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

export async function mount(root, ctx) {
  const { t, fmt, api } = ctx;
  ensureCss("peta");
  cleanup = [];
  const view = { data: null, filter: null, markers: new Map(), map: null, L: null, siteLayer: null, loading: false, pending: null, last: 0 };

  const status = h("span", { class: "muted", id: "peta-updated" }, t("shell.loading"));
  const search = h("input", { type: "search", id: "peta-search", placeholder: t("peta.search"), "aria-label": t("peta.search"), autocomplete: "off" });
  const results = h("ul", { class: "peta-results", id: "peta-results", role: "listbox", hidden: true });
  const refreshBtn = h("button", { type: "button", id: "peta-refresh", onclick: () => refresh(true) }, t("peta.refresh"));
  const legend = h("div", { class: "peta-legend", id: "peta-legend", role: "group", "aria-label": t("peta.legend") });
  const list = h("div", { class: "peta-list", id: "peta-list" });
  const notice = h("div", { class: "peta-notice", id: "peta-notice", hidden: true });
  const mapBox = h("div", { class: "peta-map", id: "peta-map" }, h("p", { class: "muted peta-map-loading" }, t("peta.loading_map")));
  root.append(
    h("h1", {}, t("peta.title")),
    h("div", { class: "toolbar" }, h("div", { class: "peta-search-box" }, search, results), refreshBtn, h("span", { class: "spacer" }), status),
    notice,
    h("div", { class: "peta-layout" }, mapBox, h("aside", { class: "peta-side card" }, legend, list)),
  );

  // ---- search ----
  const showResults = () => {
    const key = fold(search.value.trim());
    clear(results);
    if (!key || !view.data) {
      results.hidden = true;
      return;
    }
    const found = view.data.sites.filter((s) => fold(s.name).includes(key) || fold(s.kelurahan).includes(key) || fold(s.kecamatan).includes(key)).slice(0, 8);
    results.hidden = false;
    if (!found.length) results.append(h("li", { class: "muted" }, t("peta.search_none")));
    for (const site of found) {
      results.append(
        h(
          "li",
          {},
          h("button", { type: "button", class: "link", "data-site": site.id, onclick: () => focusSite(site.id) }, h("span", { class: `dot state-${site.state}` }), site.name, h("small", { class: "muted" }, ` · ${site.kecamatan || ""}`)),
        ),
      );
    }
  };
  search.addEventListener("input", showResults);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const first = results.querySelector("button[data-site]");
      if (first) first.click();
    } else if (event.key === "Escape") {
      search.value = "";
      showResults();
    }
  });

  function focusSite(id) {
    results.hidden = true;
    search.blur();
    const marker = view.markers.get(id);
    const site = view.data?.sites.find((s) => s.id === id);
    if (!site) return;
    if (view.filter && view.filter !== site.state) setFilter(null);
    if (marker && view.map) {
      view.map.setView(marker.getLatLng(), Math.max(view.map.getZoom(), 14));
      marker.openPopup();
    }
  }

  // ---- legend and list ----
  function setFilter(state) {
    view.filter = view.filter === state ? null : state;
    renderLegend();
    renderList();
    applyFilter();
  }

  function renderLegend() {
    clear(legend).append(h("h2", {}, t("peta.legend")));
    const counts = view.data?.counts || {};
    for (const state of STATES) {
      legend.append(
        h(
          "button",
          {
            type: "button",
            class: `peta-legend-item${view.filter === state ? " active" : ""}${view.filter && view.filter !== state ? " dim" : ""}`,
            "data-state": state,
            "aria-pressed": view.filter === state ? "true" : "false",
            title: t("peta.legend_hint"),
            onclick: () => setFilter(state),
          },
          h("span", { class: `dot state-${state}` }),
          h("span", { class: "label" }, t(`peta.state.${state}`)),
          h("span", { class: "count", "data-count": state }, String(counts[state] ?? 0)),
        ),
      );
      if (state === "not_connected") {
        const pending = (view.data?.sites || []).filter((s) => s.reason_code === "data_pending").length;
        if (pending) legend.append(h("p", { class: "peta-legend-sub", id: "peta-legend-pending", "data-subcount": "data_pending" }, h("span", { class: "dot state-not_connected pending" }), t("peta.legend_pending", { n: pending })));
      }
    }
    legend.append(h("p", { class: "peta-total muted", id: "peta-total" }, t("peta.total", { n: view.data?.total ?? 0 })));
  }

  function renderList() {
    clear(list);
    if (!view.data) return;
    let sites;
    let title;
    if (view.filter) {
      sites = view.data.sites.filter((s) => s.state === view.filter);
      title = t("peta.list_state", { state: t(`peta.state.${view.filter}`), n: sites.length });
    } else {
      sites = view.data.sites.filter((s) => s.reason_code === "late" || s.reason_code === "data_pending" || s.state === "camera_offline" || s.open_incidents > 0);
      title = t("peta.attention", { n: sites.length });
    }
    list.append(h("h2", {}, title));
    if (!sites.length) {
      list.append(h("p", { class: "muted" }, t("peta.attention_none")));
      return;
    }
    list.append(
      h(
        "ul",
        {},
        sites.map((s) =>
          h(
            "li",
            {},
            h("button", { type: "button", class: "link", "data-site": s.id, onclick: () => focusSite(s.id) }, h("span", { class: `dot state-${s.state}` }), s.name),
            h("small", { class: "muted" }, reasonText(s), s.note_code ? ` · ${noteText(s)}` : ""),
          ),
        ),
      ),
    );
  }

  /** A holiday or closure keeps its own name; "no working hours" is said in the page's language. */
  function dayOff(site) {
    return site.schedule_rule === "no_hours" ? t("peta.popup.no_hours") : site.schedule_reason;
  }

  function reasonText(site) {
    const vars = { ...(site.reason_vars || {}) };
    if (site.reason_code.startsWith("day_off")) vars.name = dayOff(site);
    if (site.reason_code === "data_pending") {
      vars.since = vars.since_at ? fmt.momentLabel(vars.since_at, WEEKDAY) : "—";
      if (!vars.complete_until_at) return t("peta.reason.data_pending_none", vars);
      vars.complete_until = fmt.momentLabel(vars.complete_until_at, WEEKDAY);
    }
    return t(`peta.reason.${site.reason_code}`, vars);
  }

  function noteText(site) {
    if (!site.note_code) return null;
    return t(`peta.note.${site.note_code}`, { items: fmt.number(site.note_vars?.items ?? 0) });
  }

  function agentRow(agent) {
    const parts = [h("span", { class: `state state-agent-${agent.state}`, "data-agent-state": agent.state }, t(`peta.agent.${agent.state}`))];
    if (agent.last_contact) parts.push(" ", t("peta.agent.last_contact", { time: fmt.momentLabel(agent.last_contact, WEEKDAY) }));
    parts.push(h("br"), agent.complete_until ? t("peta.agent.complete_until", { time: fmt.momentLabel(agent.complete_until, WEEKDAY) }) : t("peta.agent.never_complete"));
    if (agent.backlog_items) parts.push(h("br"), t("peta.agent.backlog", { n: fmt.number(agent.backlog_items), since: agent.backlog_oldest ? fmt.momentLabel(agent.backlog_oldest, WEEKDAY) : "—" }));
    return h("span", { class: "peta-agent", id: `peta-agent-${agent.id}` }, parts);
  }

  // ---- popup ----
  function popup(site) {
    const schedule = site.working_day
      ? t("peta.popup.hours", { open: fmt.hhmm(site.scheduled_open), close: fmt.timeLabel(site.scheduled_close) })
      : t("peta.popup.day_off", { reason: dayOff(site) });
    const row = (label, value) => h("tr", {}, h("th", {}, label), h("td", {}, value));
    const people = site.people_now === null || site.people_now === undefined ? t("peta.popup.no_data") : t("peta.popup.people_at", { n: site.people_now, time: fmt.timeLabel(site.people_at) });
    const verdict = site.verdict_status ? h("span", { class: `state state-${site.verdict_status}` }, t(`peta.verdict.${site.verdict_status}`)) : t("peta.popup.no_verdict");
    const lastSeen = site.last_seen ? `${fmt.ago(site.last_seen)} (${fmt.dateTimeLabel(site.last_seen)})` : t("peta.popup.never");
    const cameras = site.camera_list.length
      ? h(
          "ul",
          { class: "peta-cams" },
          site.camera_list.map((c) =>
            h(
              "li",
              {},
              h("span", { class: `state state-${c.state}` }, t(`peta.camera.${c.state}`)),
              " ",
              c.name,
              " · ",
              h("a", { href: `#/putar?camera=${c.id}`, "data-link": "playback" }, t("peta.popup.playback")),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("peta.popup.no_cameras"));
    return h(
      "div",
      { class: "peta-popup", "data-site": site.id },
      h("h3", {}, site.name),
      h("p", { class: "muted" }, [site.kelurahan, site.kecamatan].filter(Boolean).join(" · "), site.position && site.position !== "site" ? h("em", {}, ` · ${t("peta.popup.approx")}`) : null),
      h("p", { class: "peta-reason" }, h("span", { class: `state state-${site.state}${site.reason_code === "data_pending" ? " pending" : ""}`, "data-state": site.state, "data-reason": site.reason_code }, t(`peta.state.${site.state}`)), " ", reasonText(site)),
      site.note_code ? h("p", { class: `peta-note note-${site.note_code}`, "data-note": site.note_code }, noteText(site)) : null,
      h(
        "table",
        {},
        row(t("peta.popup.schedule"), schedule),
        site.reason_code === "data_pending" ? null : row(t("peta.popup.people"), people),
        site.reason_code === "data_pending" ? null : row(t("peta.popup.opened"), site.opened_at ? fmt.timeLabel(site.opened_at) : "—"),
        row(t("peta.popup.verdict"), verdict),
        row(t("peta.popup.last_seen"), lastSeen),
        site.agent ? row(t("peta.popup.agent"), agentRow(site.agent)) : null,
        site.open_incidents ? row(t("peta.popup.incidents"), h("a", { href: `#/peringatan?site=${site.id}` }, String(site.open_incidents))) : null,
      ),
      cameras,
      h(
        "p",
        { class: "peta-links" },
        h("a", { href: `#/dinding?site=${site.id}`, "data-link": "wall" }, t("peta.popup.wall")),
        h("a", { href: `#/kepatuhan?site=${site.id}`, "data-link": "verdict" }, t("peta.popup.verdict_link")),
      ),
    );
  }

  // ---- the map ----
  async function buildMap() {
    let L;
    try {
      L = await loadLeaflet();
    } catch {
      clear(mapBox).append(h("div", { class: "error-box" }, h("h2", {}, t("peta.no_leaflet")), h("p", {}, t("peta.no_leaflet_hint"))));
      return;
    }
    const [kel, kec] = await Promise.all([api.get("overview/boundaries", { level: "kelurahan" }), api.get("overview/boundaries", { level: "kecamatan" })]);
    if (!root.isConnected) return;
    clear(mapBox);
    const map = L.map(mapBox, { zoomSnap: 0.25, attributionControl: true, preferCanvas: false });
    view.map = map;
    view.L = L;
    if (ctx.config.tile_url) L.tileLayer(ctx.config.tile_url, { maxZoom: 19, attribution: "" }).addTo(map);
    const kelLayer = L.geoJSON(kel, {
      style: { color: "#3b4a58", weight: 1, fillColor: "#1c2630", fillOpacity: ctx.config.tile_url ? 0.15 : 0.9 },
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.name, { sticky: true, className: "peta-tip" }),
    }).addTo(map);
    L.geoJSON(kec, {
      style: { color: "#8fb3d9", weight: 2.2, fill: false, opacity: 0.85 },
      interactive: false,
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "peta-kec-label" }),
    }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("Batas wilayah: cahyadsn/wilayah_boundaries (MIT)");
    view.kelLayer = kelLayer;
    view.bounds = kelLayer.getBounds();
    map.fitBounds(view.bounds, { padding: [10, 10] });
    view.siteLayer = L.layerGroup().addTo(map);
    // The container gets its final size after the page lays out; keep the map in step.
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(mapBox);
    cleanup.push(() => resize.disconnect());
  }

  function icon(site) {
    const people = site.people_now > 0 ? String(site.people_now) : "";
    return view.L.divIcon({
      className: `peta-pin state-${site.state}${site.reason_code === "late" ? " late" : ""}${site.reason_code === "data_pending" ? " pending" : ""}${site.note_code === "syncing" ? " syncing" : ""}`,
      html: h("span", { "data-site": site.id, "data-state": site.state, "data-reason": site.reason_code }, people),
      iconSize: [20, 20],
      iconAnchor: [10, 10],
      popupAnchor: [0, -10],
    });
  }

  function drawMarkers() {
    if (!view.map || !view.data) return;
    const L = view.L;
    const seen = new Set();
    for (const site of view.data.sites) {
      if (site.lat === null || site.lon === null) continue;
      seen.add(site.id);
      let marker = view.markers.get(site.id);
      if (!marker) {
        marker = L.marker([site.lat, site.lon], { icon: icon(site), title: site.name, riseOnHover: true, keyboard: true });
        marker.bindPopup(() => popup(marker.site), { maxWidth: 360, minWidth: 280 });
        view.markers.set(site.id, marker);
      } else {
        const moved = marker.getLatLng();
        if (moved.lat !== site.lat || moved.lng !== site.lon) marker.setLatLng([site.lat, site.lon]);
        if (marker.site.state !== site.state || marker.site.reason_code !== site.reason_code || marker.site.note_code !== site.note_code || marker.site.people_now !== site.people_now) marker.setIcon(icon(site));
      }
      marker.site = site;
      if (marker.isPopupOpen()) marker.setPopupContent(popup(site));
    }
    for (const [id, marker] of view.markers) {
      if (!seen.has(id)) {
        view.siteLayer.removeLayer(marker);
        view.markers.delete(id);
      }
    }
    applyFilter();
  }

  function applyFilter() {
    if (!view.siteLayer) return;
    for (const marker of view.markers.values()) {
      const show = !view.filter || marker.site.state === view.filter;
      if (show && !view.siteLayer.hasLayer(marker)) view.siteLayer.addLayer(marker);
      if (!show && view.siteLayer.hasLayer(marker)) view.siteLayer.removeLayer(marker);
    }
  }

  /** A camat or lurah sees their own area, lit, not the whole city. */
  function fitToSites() {
    const points = view.data.sites.filter((s) => s.lat !== null).map((s) => [s.lat, s.lon]);
    if (!view.map || !points.length || ctx.can("admin", "operator", "pimpinan")) return;
    const mine = new Set(view.data.sites.map((s) => s.kelurahan_code));
    view.kelLayer.setStyle((f) => (mine.has(f.properties.code) ? { fillColor: "#263646", color: "#5d7891" } : { fillOpacity: 0.55 }));
    if (points.length === 1) view.map.setView(points[0], 14);
    else view.map.fitBounds(view.L.latLngBounds(points).pad(0.3), { maxZoom: 14 });
  }

  // ---- data ----
  async function load() {
    view.loading = true;
    refreshBtn.disabled = true;
    try {
      const data = await api.get("overview/sites");
      view.data = data;
      view.last = Date.now();
      status.textContent = t("peta.updated", { time: fmt.timeSeconds(data.generated_at) });
      status.classList.remove("error");
      const withCameras = data.sites.filter((s) => s.camera_list.length).length;
      notice.hidden = !(data.total > 0 && withCameras === 0);
      clear(notice).append(t("peta.no_cameras_notice"));
      if (!data.total) {
        notice.hidden = false;
        clear(notice).append(t("peta.no_sites"));
      }
      renderLegend();
      renderList();
      drawMarkers();
      if (search.value && document.activeElement === search) showResults();
    } catch (error) {
      status.textContent = t("peta.load_failed", { message: error.message });
      status.classList.add("error");
      if (!view.data) {
        clear(list).append(h("div", { class: "error-box", role: "alert" }, h("p", {}, t("peta.load_failed", { message: error.message })), h("button", { type: "button", onclick: () => refresh(true) }, t("shell.retry"))));
      }
    } finally {
      view.loading = false;
      refreshBtn.disabled = false;
    }
  }

  /** At most one overview request per THROTTLE_MS, however many events arrive. */
  function refresh(now = false) {
    if (view.pending) return;
    const wait = now ? 0 : Math.max(0, view.last + THROTTLE_MS - Date.now());
    view.pending = setTimeout(async () => {
      view.pending = null;
      if (!root.isConnected) return;
      await load();
    }, wait);
  }

  renderLegend();
  const mapReady = buildMap().catch((error) => {
    clear(mapBox).append(h("div", { class: "error-box", role: "alert" }, h("p", {}, t("peta.load_failed", { message: error.message }))));
  });
  await Promise.all([mapReady, load()]);
  drawMarkers();
  if (view.data) fitToSites();
  const wanted = Number(ctx.params.site);
  if (wanted) focusSite(wanted);

  cleanup.push(ctx.live.on("camera", () => refresh()));
  cleanup.push(ctx.live.on("incident", () => refresh()));
  cleanup.push(ctx.live.on("site", () => refresh()));
  cleanup.push(ctx.live.onStatus((s) => s === "restored" && refresh(true)));
  const timer = setInterval(() => refresh(), CLOCK_REFRESH_MS);
  cleanup.push(() => clearInterval(timer));
  cleanup.push(() => view.pending && clearTimeout(view.pending));
  cleanup.push(() => view.map && view.map.remove());
}

export function unmount() {
  for (const fn of cleanup) fn();
  cleanup = [];
}
