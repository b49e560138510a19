// Dinding video: a grid of live thumbnails (2x2 … 8x8) per camera group, a tour through the
// groups' pages, full screen, and a live MJPEG view of one camera. Thumbnails come from the
// analytics frames (GET /api/cameras/{id}/thumb.jpg): only the tiles on screen are refreshed,
// a few requests at a time, and an unchanged frame costs a body-less 304 (docs/live-view.md).

import { h, clear, ensureCss } from "../dom.js";

const LAYOUTS = [2, 3, 4, 8];
const REFRESH_MS = 3000;
const OFFLINE_REFRESH_MS = 30000;
const MAX_IN_FLIGHT = 3;
const GROUPS_EVERY_MS = 30000;
const WIDTHS = [160, 240, 320, 480, 640, 960];
const SETTINGS = "pantau.wall";

let page = null;

const SVG = "http://www.w3.org/2000/svg";

// Small drawn icons: emoji fonts are missing on many control-room machines.
function icon(kind) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", `icon icon-${kind}`);
  svg.setAttribute("aria-hidden", "true");
  const shapes = kind === "person" ? [["circle", { cx: 8, cy: 4.5, r: 3 }], ["path", { d: "M2 15c0-4 2.7-6 6-6s6 2 6 6z" }]] : [["circle", { cx: 8, cy: 6.5, r: 5 }], ["rect", { x: 5.5, y: 11, width: 5, height: 4, rx: 1 }]];
  for (const [tag, attrs] of shapes) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  return svg;
}


function loadSettings() {
  try {
    return { layout: 3, group: "all", tourSeconds: 15, ...JSON.parse(localStorage.getItem(SETTINGS) || "{}") };
  } catch {
    return { layout: 3, group: "all", tourSeconds: 15 };
  }
}

export async function mount(root, ctx) {
  ensureCss("dinding");
  const { t, fmt } = ctx;
  const settings = loadSettings();
  const st = {
    ctx,
    settings,
    cameras: new Map(),
    groups: [],
    pageIndex: 0,
    tiles: new Map(),
    inFlight: 0,
    touring: false,
    tourTimer: null,
    tourStarted: 0,
    timers: [],
    unsubs: [],
    live: null,
    reloadSoon: null,
    alive: true,
  };
  page = st;
  const save = () => localStorage.setItem(SETTINGS, JSON.stringify({ layout: settings.layout, group: settings.group, tourSeconds: settings.tourSeconds }));

  const summary = h("span", { class: "wall-summary muted", id: "wall-summary" });
  const layoutButtons = h(
    "span",
    { class: "wall-layouts", role: "group", "aria-label": t("dinding.layout") },
    LAYOUTS.map((n) =>
      h("button", { type: "button", "data-layout": n, onclick: () => { settings.layout = n; st.pageIndex = 0; save(); render(); } }, `${n}×${n}`),
    ),
  );
  const groupSelect = h("select", { id: "wall-group", "aria-label": t("dinding.group"), onchange: (e) => { settings.group = e.target.value; st.pageIndex = 0; save(); render(); } });
  const pageLabel = h("span", { class: "wall-page", id: "wall-page" });
  const prev = h("button", { type: "button", id: "wall-prev", title: t("dinding.page_prev"), onclick: () => step(-1) }, "‹");
  const next = h("button", { type: "button", id: "wall-next", title: t("dinding.page_next"), onclick: () => step(1) }, "›");
  const tourButton = h("button", { type: "button", id: "wall-tour", onclick: () => setTour(!st.touring) });
  const tourSeconds = h("input", {
    id: "wall-tour-seconds",
    type: "number",
    min: 5,
    max: 600,
    step: 5,
    value: settings.tourSeconds,
    "aria-label": t("dinding.tour_seconds"),
    onchange: (e) => {
      const v = Math.min(600, Math.max(5, Number(e.target.value) || 15));
      e.target.value = v;
      settings.tourSeconds = v;
      save();
      if (st.touring) setTour(true);
    },
  });
  const tourBar = h("span", { class: "tour-bar" }, h("span", {}));
  const fullButton = h("button", { type: "button", id: "wall-fullscreen", onclick: () => toggleFullscreen() }, t("dinding.fullscreen"));
  const wall = h("div", { class: "wall", id: "wall" });
  const body = h("div", { class: "wall-body" }, h("p", { class: "muted" }, t("dinding.loading")));
  const holder = h(
    "div",
    { class: "wall-holder", id: "wall-holder" },
    h("div", { class: "toolbar wall-toolbar" },
      layoutButtons,
      groupSelect,
      prev,
      pageLabel,
      next,
      h("span", { class: "wall-tour" }, tourButton, tourSeconds, h("span", { class: "muted" }, t("dinding.seconds")), tourBar),
      h("span", { class: "spacer" }),
      fullButton,
    ),
    body,
  );
  root.append(h("div", { class: "wall-head" }, h("h1", {}, t("dinding.title")), summary), holder);

  function groupLabel(g) {
    if (g.kind === "all") return t("dinding.group.all");
    if (g.kind === "kecamatan") return t("dinding.group.kecamatan", { name: g.name || g.key });
    return t(`dinding.kind.${g.key}`);
  }

  function currentGroup() {
    return st.groups.find((g) => g.id === settings.group) || st.groups[0];
  }

  function pagesOf(group) {
    const per = settings.layout * settings.layout;
    return Math.max(1, Math.ceil(group.camera_ids.length / per));
  }

  function step(delta) {
    const group = currentGroup();
    if (!group) return;
    const pages = pagesOf(group);
    st.pageIndex = (st.pageIndex + delta + pages) % pages;
    render();
    if (st.touring) restartTourClock();
  }

  function tourAdvance() {
    const group = currentGroup();
    if (!group) return;
    if (st.pageIndex + 1 < pagesOf(group)) {
      st.pageIndex += 1;
    } else {
      const i = st.groups.indexOf(group);
      settings.group = st.groups[(i + 1) % st.groups.length].id;
      st.pageIndex = 0;
    }
    render();
    restartTourClock();
  }

  function restartTourClock() {
    st.tourStarted = performance.now();
  }

  function setTour(on) {
    clearInterval(st.tourTimer);
    st.touring = on;
    tourButton.textContent = on ? `❚❚ ${t("dinding.tour_pause")}` : `▶ ${t("dinding.tour_start")}`;
    tourButton.classList.toggle("active", on);
    holder.classList.toggle("touring", on);
    if (!on) {
      tourBar.firstChild.style.width = "0";
      return;
    }
    restartTourClock();
    st.tourTimer = setInterval(() => {
      if (st.live) return; // a person is looking at one camera: the tour waits
      const elapsed = performance.now() - st.tourStarted;
      const total = settings.tourSeconds * 1000;
      tourBar.firstChild.style.width = `${Math.min(100, (100 * elapsed) / total)}%`;
      if (elapsed >= total) tourAdvance();
    }, 250);
  }

  async function toggleFullscreen() {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await holder.requestFullscreen();
    } catch (error) {
      ctx.toast(t("dinding.fullscreen_failed", { message: error.message }), "error");
    }
  }

  function offlineText(cam) {
    if (cam.state === "disabled") return t("dinding.disabled");
    if (!cam.since) return t("dinding.never_connected");
    return t("dinding.offline_since", { time: fmt.momentLabel(cam.since, { day: "numeric", month: "short" }) });
  }

  function isDown(cam) {
    return cam.state === "offline" || cam.state === "disabled";
  }

  function renderTile(tile) {
    const cam = st.cameras.get(tile.id);
    if (!cam) return;
    tile.el.dataset.state = cam.state;
    tile.name.textContent = cam.site_name;
    tile.site.textContent = cam.name;
    tile.sim.hidden = cam.people_source !== "sim";
    tile.badge.className = `state state-${cam.state}`;
    tile.badge.textContent = t(`dinding.state.${cam.state}`);
    tile.count.textContent = cam.people === null || cam.people === undefined ? "" : String(cam.people);
    tile.people.title = cam.people_minute ? t("dinding.people_at", { time: fmt.timeLabel(cam.people_minute) }) : "";
    tile.people.hidden = cam.people === null || cam.people === undefined;
    tile.lights.hidden = cam.lights_on === null || cam.lights_on === undefined;
    tile.lights.classList.toggle("on", Boolean(cam.lights_on));
    tile.lights.title = cam.lights_on ? t("dinding.lights_on") : t("dinding.lights_off");
    tile.note.textContent = isDown(cam) ? offlineText(cam) : tile.hasImage ? "" : cam.frame_at ? t("dinding.loading_frame") : t("dinding.no_frame");
    tile.note.hidden = !tile.note.textContent;
    tile.el.classList.toggle("down", isDown(cam));
  }

  function makeTile(id) {
    const cam = st.cameras.get(id);
    const img = h("img", { class: "thumb", alt: cam ? cam.name : "", decoding: "async" });
    const tile = {
      id,
      img,
      etag: null,
      url: null,
      due: 0,
      busy: false,
      hasImage: false,
      failures: 0,
      name: h("strong", { class: "tile-name" }),
      site: h("span", { class: "tile-site" }),
      sim: h("span", { class: "sim-mark", title: t("dinding.simulated_hint") }, t("shell.simulated")),
      badge: h("span", { class: "state" }),
      count: h("span", {}),
      lights: h("span", { class: "tile-lights" }, icon("bulb")),
      note: h("span", { class: "tile-note" }),
      age: h("span", { class: "tile-age" }),
    };
    tile.people = h("span", { class: "tile-people" }, icon("person"), tile.count);
    tile.el = h(
      "button",
      { type: "button", class: "tile", "data-camera": id, title: t("dinding.open_live"), onclick: () => openLive(id) },
      img,
      h("span", { class: "tile-top" }, tile.badge, tile.sim, h("span", { class: "spacer" }), tile.lights, tile.people),
      tile.note,
      h("span", { class: "tile-caption" }, h("span", { class: "tile-line" }, tile.name, tile.age), tile.site),
    );
    renderTile(tile);
    return tile;
  }

  function render() {
    for (const tile of st.tiles.values()) if (tile.url) URL.revokeObjectURL(tile.url);
    st.tiles.clear();
    layoutButtons.querySelectorAll("button").forEach((b) => b.classList.toggle("active", Number(b.dataset.layout) === settings.layout));
    clear(groupSelect).append(...st.groups.map((g) => h("option", { value: g.id, selected: g.id === currentGroup()?.id }, `${groupLabel(g)} (${g.camera_ids.length})`)));
    const cams = [...st.cameras.values()];
    const online = cams.filter((c) => c.state === "online").length;
    const down = cams.filter((c) => c.state === "offline").length;
    summary.textContent = t("dinding.summary", { total: cams.length, online, down });
    clear(body);
    if (!cams.length) {
      pageLabel.textContent = "";
      body.append(h("div", { class: "empty", id: "wall-empty" }, h("h2", {}, t("dinding.empty")), h("p", {}, ctx.can("admin") ? t("dinding.empty_admin") : t("dinding.empty_hint"))));
      return;
    }
    const group = currentGroup();
    const per = settings.layout * settings.layout;
    const pages = pagesOf(group);
    st.pageIndex = Math.min(st.pageIndex, pages - 1);
    pageLabel.textContent = t("dinding.page", { page: st.pageIndex + 1, pages });
    prev.disabled = next.disabled = pages < 2;
    clear(wall);
    wall.style.setProperty("--n", settings.layout);
    wall.dataset.layout = settings.layout;
    for (const id of group.camera_ids.slice(st.pageIndex * per, (st.pageIndex + 1) * per)) {
      const tile = makeTile(id);
      st.tiles.set(id, tile);
      wall.append(tile.el);
    }
    for (let i = wall.children.length; i < per; i += 1) wall.append(h("div", { class: "tile tile-blank" }));
    body.append(wall);
    pump();
  }

  function thumbWidth(tile) {
    const want = (tile.el.clientWidth || 320) * (window.devicePixelRatio || 1);
    return WIDTHS.find((w) => w >= want) || WIDTHS[WIDTHS.length - 1];
  }

  async function refresh(tile) {
    const cam = st.cameras.get(tile.id);
    tile.busy = true;
    st.inFlight += 1;
    try {
      const headers = tile.etag ? { "If-None-Match": tile.etag } : {};
      const url = ctx.api.url(`cameras/${tile.id}/thumb.jpg`, { w: thumbWidth(tile), t: Date.now() });
      const response = await fetch(url, { credentials: "same-origin", headers, cache: "no-store" });
      if (response.status === 200) {
        const blob = await response.blob();
        const old = tile.url;
        tile.url = URL.createObjectURL(blob);
        tile.img.src = tile.url;
        await tile.img.decode().catch(() => {});
        if (old) URL.revokeObjectURL(old);
        tile.etag = response.headers.get("ETag");
        tile.hasImage = true;
      } else if (response.status !== 304) {
        throw new Error(`HTTP ${response.status}`);
      }
      const taken = response.headers.get("X-Frame-Time");
      if (taken) {
        tile.age.textContent = fmt.timeSeconds(taken);
        tile.el.classList.toggle("stale", Date.now() - new Date(taken).getTime() > 60000);
      }
      tile.failures = 0;
    } catch (error) {
      tile.failures += 1;
      console.warn("wall thumbnail", tile.id, error.message);
    } finally {
      tile.busy = false;
      st.inFlight -= 1;
      const slow = isDown(cam) ? OFFLINE_REFRESH_MS : REFRESH_MS;
      tile.due = performance.now() + slow * Math.min(8, 2 ** tile.failures);
      renderTile(tile);
    }
  }

  // The scheduler: due tiles of the page on screen, oldest first, at most a few at a time.
  function pump() {
    if (!st.alive || document.hidden || st.live) return;
    const now = performance.now();
    const due = [...st.tiles.values()]
      .filter((tile) => !tile.busy && tile.due <= now && st.cameras.get(tile.id)?.frame_at)
      .sort((a, b) => a.due - b.due);
    for (const tile of due) {
      if (st.inFlight >= MAX_IN_FLIGHT) break;
      refresh(tile).then(pump);
    }
  }

  async function loadGroups() {
    try {
      const data = await ctx.api.get("camera-groups");
      if (!st.alive) return;
      const first = !st.groups.length && !st.cameras.size;
      st.cameras = new Map(data.cameras.map((c) => [c.id, c]));
      const changed = JSON.stringify(st.groups.map((g) => [g.id, g.camera_ids])) !== JSON.stringify(data.groups.map((g) => [g.id, g.camera_ids]));
      st.groups = data.groups;
      if (first || changed) render();
      else for (const tile of st.tiles.values()) renderTile(tile);
      if (st.live) st.live.update();
    } catch (error) {
      if (!st.alive) return;
      if (st.cameras.size) {
        console.warn("wall: camera list not refreshed", error.message); // keep showing the wall
        return;
      }
      clear(body).append(h("div", { class: "error-box", id: "wall-error" }, h("h2", {}, t("dinding.load_failed")), h("p", {}, error.message), h("button", { type: "button", onclick: loadGroups }, ctx.t("shell.retry"))));
    }
  }

  function onCameraEvent(event) {
    const cam = st.cameras.get(event.camera_id);
    if (cam) {
      Object.assign(cam, { state: event.state, reason: event.reason, reason_code: event.reason_code });
      const tile = st.tiles.get(cam.id);
      if (tile) renderTile(tile);
      if (st.live?.id === cam.id) st.live.update();
    }
    // "since" of a camera whose worker stopped reporting is computed by the server: re-read soon.
    clearTimeout(st.reloadSoon);
    st.reloadSoon = setTimeout(loadGroups, 1500);
  }

  function openLive(id) {
    closeLive();
    const cam = st.cameras.get(id);
    if (!cam) return;
    const title = h("h2", { id: "live-title" });
    const badge = h("span", { class: "state" });
    const facts = h("span", { class: "muted live-facts" });
    const note = h("p", { class: "live-note", id: "live-note" });
    const img = h("img", { class: "live-img", id: "live-img", alt: cam.name });
    const close = h("button", { type: "button", id: "live-close", onclick: closeLive }, `✕ ${t("dinding.live.close")}`);
    const box = h(
      "div",
      { class: "live-overlay", id: "live-view", role: "dialog", "aria-modal": "true", "aria-labelledby": "live-title" },
      h("div", { class: "live-panel" },
        h("div", { class: "live-head" }, title, badge, facts, h("span", { class: "spacer" }),
          h("button", { type: "button", id: "live-playback", onclick: () => ctx.navigate("putar", { camera: id }) }, t("dinding.live.playback")),
          h("button", { type: "button", onclick: () => box.requestFullscreen?.().catch((e) => ctx.toast(e.message, "error")) }, t("dinding.fullscreen")),
          close),
        h("div", { class: "live-stage" }, img, note),
        h("p", { class: "live-privacy muted" }, t("dinding.live.audited")),
      ),
    );
    const onKey = (e) => e.key === "Escape" && closeLive();
    document.addEventListener("keydown", onKey);
    const update = () => {
      const c = st.cameras.get(id) || cam;
      title.textContent = `${c.site_name} · ${c.name}`;
      badge.className = `state state-${c.state}`;
      badge.textContent = t(`dinding.state.${c.state}`);
      facts.textContent = c.people === null || c.people === undefined ? "" : t("dinding.people_at_full", { n: c.people, time: fmt.timeLabel(c.people_minute) });
      if (isDown(c)) note.textContent = offlineText(c);
    };
    st.live = {
      id,
      update,
      close: () => {
        document.removeEventListener("keydown", onKey);
        img.removeAttribute("src"); // ends the stream: the server sees the client go away
        box.remove();
      },
    };
    update();
    if (!cam.frame_at) {
      note.textContent = t("dinding.no_frame");
    } else {
      note.textContent = t("dinding.live.connecting");
      img.addEventListener("load", () => { if (!isDown(st.cameras.get(id) || cam)) note.textContent = ""; }, { once: true });
      img.addEventListener("error", () => { note.textContent = t("dinding.live.failed"); });
      // Frames no wider than the screen needs (the recording may be 1080p on a small link).
      const want = Math.min(window.innerWidth, 1280) * (window.devicePixelRatio || 1);
      const w = [640, 960, 1280, 1920].find((x) => x >= want) || 1920;
      img.src = ctx.api.url(`cameras/${id}/live.mjpeg`, { fps: 5, w, t: Date.now() });
    }
    document.body.append(box);
    close.focus();
  }

  function closeLive() {
    if (!st.live) return;
    st.live.close();
    st.live = null;
    pump();
  }

  st.closeLive = closeLive;
  setTour(false);
  st.unsubs.push(ctx.live.on("camera", onCameraEvent));
  st.unsubs.push(ctx.live.onStatus((status) => status === "restored" && loadGroups()));
  st.timers.push(setInterval(pump, 500), setInterval(loadGroups, GROUPS_EVERY_MS));
  st.onVisible = () => !document.hidden && pump();
  document.addEventListener("visibilitychange", st.onVisible);
  await loadGroups();
  if (ctx.params.group && st.groups.some((g) => g.id === ctx.params.group)) {
    settings.group = ctx.params.group;
    render();
  }
  if (ctx.params.live) openLive(Number(ctx.params.live));
}

export function unmount() {
  const st = page;
  page = null;
  if (!st) return;
  st.alive = false;
  st.closeLive?.();
  clearInterval(st.tourTimer);
  clearTimeout(st.reloadSoon);
  st.timers.forEach(clearInterval);
  st.unsubs.forEach((off) => off());
  document.removeEventListener("visibilitychange", st.onVisible);
  for (const tile of st.tiles.values()) if (tile.url) URL.revokeObjectURL(tile.url);
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
}
