// Putar ulang: one camera's day on a timeline (recording and gaps, incidents, people and lights
// per minute), scrubbing by click or drag, playback with hls.js over the signed HLS playlist,
// and clip export (MP4 + manifest, SHA-256). The URL keeps ?camera=ID&t=ISO for sharing.
//
// A camera at an edge agent's site has its recordings at the site, not here: the page draws
// what the site has recorded (its segment index) and asks the site for a clip of the selected
// range (POST /api/clips). The request's progress is polled every few seconds while one is
// open — one small GET per open page, only while something moves; the SSE broadcaster is for
// events every browser needs, not for one operator's upload counter — and a ready clip plays
// in the same video element and can be downloaded.

import { h, clear, ensureCss } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const HOUR = 3600000;
const MINUTE = 60000;
const WINDOW = HOUR; // one playlist (and one audit row) per hour of footage watched
const MAX_EXPORT = 6 * HOUR;
const LABEL_W = 118;
const ZOOMS = [24 * HOUR, 6 * HOUR, HOUR, 10 * MINUTE];
const TICKS = [MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR];
const LANES = { ruler: [0, 22], rec: [26, 16], inc: [46, 16], people: [66, 34], lights: [104, 12], clip: [120, 20] };
const HEIGHT = 144;
const KIND_COLOURS = { intrusion: "#f0524f", tamper: "#ff8a3d", camera_offline: "#8b9aa8" };
const CLIP_POLL = 3000;
const OPEN_CLIP = new Set(["pending", "uploading"]);

let page = null;
let hlsLoading = null;


/** hls.js from /ui/vendor, loaded once per tab (UMD: it sets window.Hls). */
function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  hlsLoading ||= new Promise((resolve, reject) => {
    const script = h("script", { src: "/ui/vendor/hls/hls.min.js" });
    script.addEventListener("load", () => resolve(window.Hls));
    script.addEventListener("error", () => {
      hlsLoading = null;
      reject(new Error("hls.js missing: run scripts/bootstrap"));
    });
    document.head.append(script);
  });
  return hlsLoading;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function iso(ms) {
  return new Date(ms).toISOString();
}

/** Milliseconds the zone is ahead of UTC at that moment ("GMT+08:00" → 8 h). */
function zoneOffset(zone, ms) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName").value;
  const m = name.match(/GMT([+-])(\d{2}):?(\d{2})?/);
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3] || 0) * MINUTE);
}

function localDay(zone, ms) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
}

function dayStartOf(zone, day) {
  const [y, m, d] = day.split("-").map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  return utcMidnight - zoneOffset(zone, utcMidnight);
}

function shiftDay(day, delta) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + delta)).toISOString().slice(0, 10);
}

export async function mount(root, ctx) {
  ensureCss("putar");
  const { t, fmt, api } = ctx;
  const zone = fmt.zoneName();
  const canExport = ctx.can("admin", "operator");
  const st = {
    alive: true,
    cameras: [],
    camId: null,
    day: null,
    dayStart: 0,
    dayEnd: 0,
    until: 0,
    view: null,
    data: null,
    incidents: [],
    cursor: null,
    sel: null,
    hls: null,
    win: null,
    drag: null,
    unsubs: [],
    timers: [],
    exportTimer: null,
    edge: null, // availability of the camera's footage at an agent's site, or null
    clips: [],
    clipTimer: null,
    clipPlaying: null,
  };
  page = st;

  // --- elements -------------------------------------------------------------------------
  const cameraSelect = h("select", { id: "putar-camera", "aria-label": t("putar.camera"), onchange: (e) => choose(Number(e.target.value), st.day) });
  const dayInput = h("input", { type: "date", id: "putar-day", "aria-label": t("putar.day"), max: fmt.today(), onchange: (e) => e.target.value && choose(st.camId, e.target.value) });
  const video = h("video", { id: "putar-video", muted: true, playsinline: true, preload: "auto" });
  video.muted = true;
  const clock = h("div", { class: "putar-clock", id: "putar-clock" }, "—");
  const status = h("div", { class: "putar-status", id: "putar-status", role: "status" });
  const playButton = h("button", { type: "button", id: "putar-play", onclick: () => togglePlay() }, `▶ ${t("putar.play")}`);
  const speed = h("select", { id: "putar-speed", "aria-label": t("putar.speed"), onchange: (e) => { video.playbackRate = Number(e.target.value); } }, [1, 2, 4, 8, 16].map((v) => h("option", { value: v }, `${v}×`)));
  const zoomButtons = h("span", { class: "putar-zoom", role: "group", "aria-label": t("putar.zoom") }, ZOOMS.map((span, i) => h("button", { type: "button", "data-zoom": i, onclick: () => zoom(span) }, t(`putar.zoom.${i}`))));
  const timeline = svg("svg", { id: "putar-timeline", class: "putar-timeline", height: HEIGHT, role: "img", "aria-label": t("putar.timeline") });
  const legend = h("div", { class: "putar-legend muted", id: "putar-legend" });
  const selText = h("span", { id: "putar-sel" }, t("putar.export.none"));
  const exportButton = h("button", { type: "button", class: "primary", id: "putar-export", disabled: true, onclick: () => exportClip() }, t("putar.export.go"));
  const exportOut = h("div", { class: "putar-export-out", id: "putar-export-out" });
  const exportPanel = h(
    "section",
    { class: "card putar-export-panel" },
    h("h2", {}, t("putar.export.title")),
    h("p", { class: "muted" }, canExport ? t("putar.export.hint") : t("putar.export.not_allowed")),
    h("div", { class: "toolbar" },
      h("button", { type: "button", id: "putar-mark-start", onclick: () => mark("a") }, t("putar.export.mark_start")),
      h("button", { type: "button", id: "putar-mark-end", onclick: () => mark("b") }, t("putar.export.mark_end")),
      selText,
      h("span", { class: "spacer" }),
      canExport ? exportButton : null),
    exportOut,
  );
  const clipFrom = h("input", { type: "time", step: 1, id: "putar-clip-from", "aria-label": t("putar.edge.from") });
  const clipTo = h("input", { type: "time", step: 1, id: "putar-clip-to", "aria-label": t("putar.edge.to") });
  const clipButton = h("button", { type: "button", class: "primary", id: "putar-clip-request", onclick: () => requestClip() }, t("putar.edge.request"));
  const clipInfo = h("p", { class: "muted", id: "putar-edge-info" });
  const clipList = h("div", { class: "putar-clip-list", id: "putar-clips" });
  const edgePanel = h(
    "section",
    { class: "card putar-edge-panel", id: "putar-edge", hidden: true },
    h("h2", {}, t("putar.edge.title")),
    clipInfo,
    h("div", { class: "toolbar", id: "putar-edge-form" },
      h("label", {}, `${t("putar.edge.from")} `, clipFrom),
      h("label", {}, `${t("putar.edge.to")} `, clipTo),
      h("button", { type: "button", onclick: () => mark("a") }, t("putar.export.mark_start")),
      h("button", { type: "button", onclick: () => mark("b") }, t("putar.export.mark_end")),
      h("span", { class: "spacer" }),
      clipButton),
    clipList,
  );
  const body = h("div", { class: "putar-body" });
  root.append(
    h("h1", {}, t("putar.title")),
    h("div", { class: "toolbar" },
      cameraSelect,
      h("button", { type: "button", id: "putar-prev-day", title: t("putar.prev_day"), onclick: () => choose(st.camId, shiftDay(st.day, -1)) }, "‹"),
      dayInput,
      h("button", { type: "button", id: "putar-next-day", title: t("putar.next_day"), onclick: () => choose(st.camId, shiftDay(st.day, 1)) }, "›"),
      h("button", { type: "button", id: "putar-today", onclick: () => choose(st.camId, fmt.today()) }, t("putar.today"))),
    body,
  );
  const main = h(
    "div",
    { class: "putar-main" },
    h("div", { class: "putar-player" }, video, clock, status),
    h("div", { class: "toolbar putar-controls" },
      playButton,
      h("button", { type: "button", id: "putar-back", onclick: () => nudge(-10000) }, "−10 s"),
      h("button", { type: "button", id: "putar-fwd", onclick: () => nudge(10000) }, "+10 s"),
      speed,
      h("span", { class: "spacer" }),
      zoomButtons),
    h("div", { class: "putar-timeline-box" }, timeline),
    legend,
    edgePanel,
    exportPanel,
  );

  function setStatus(text, kind = "info") {
    status.textContent = text || "";
    status.dataset.kind = kind;
  }

  // --- time helpers --------------------------------------------------------------------------
  const width = () => Math.max(400, timeline.parentElement?.clientWidth || 1000);
  const xOf = (ms) => LABEL_W + ((ms - st.view.from) / (st.view.to - st.view.from)) * (width() - LABEL_W - 8);
  const tOf = (x) => st.view.from + ((x - LABEL_W) / (width() - LABEL_W - 8)) * (st.view.to - st.view.from);
  const clampDay = (ms) => Math.min(st.until, Math.max(st.dayStart, ms));
  const runs = () => (st.data?.recording || []).map((r) => [Date.parse(r.start), Date.parse(r.end)]);

  /** The recording run holding ms, else the first one after it; [start, run] or null. */
  function recordingFrom(ms) {
    for (const [a, b] of runs()) {
      if (ms >= a && ms < b) return [ms, [a, b]];
      if (a > ms) return [a, [a, b]];
    }
    return null;
  }

  // --- drawing -------------------------------------------------------------------------------
  function draw() {
    if (!st.data || !st.view) return;
    const w = width();
    const kids = [];
    timeline.setAttribute("viewBox", `0 0 ${w} ${HEIGHT}`);
    timeline.setAttribute("width", w);
    Object.assign(timeline.dataset, { from: st.view.from, to: st.view.to, label: LABEL_W });
    const lane = (name, label, y, hgt) => {
      kids.push(svg("text", { x: 6, y: y + hgt / 2 + 4, class: `lane-label lane-${name}` }, label));
      kids.push(svg("rect", { x: LABEL_W, y, width: w - LABEL_W - 8, height: hgt, class: "lane-bg" }));
    };
    const span = (a, b) => {
      const x0 = Math.max(LABEL_W, xOf(a));
      const x1 = Math.min(w - 8, xOf(b));
      return x1 > x0 ? [x0, Math.max(1, x1 - x0)] : null;
    };
    // ruler
    const range = st.view.to - st.view.from;
    const stepMs = TICKS.find((s) => ((w - LABEL_W) * s) / range >= 64) || TICKS[TICKS.length - 1];
    for (let tick = st.dayStart + Math.ceil((st.view.from - st.dayStart) / stepMs) * stepMs; tick <= st.view.to; tick += stepMs) {
      const x = xOf(tick);
      kids.push(svg("line", { x1: x, x2: x, y1: 14, y2: HEIGHT, class: "tick" }));
      kids.push(svg("text", { x: x + 3, y: 12, class: "tick-label" }, fmt.hhmm(tick)));
    }
    lane("rec", t("putar.lane.recording"), ...LANES.rec);
    const missing = span(st.dayStart, st.until);
    if (missing) kids.push(svg("rect", { x: missing[0], y: LANES.rec[0], width: missing[1], height: LANES.rec[1], class: "gap" }));
    for (const [a, b] of runs()) {
      const s = span(a, b);
      if (s) kids.push(svg("rect", { x: s[0], y: LANES.rec[0], width: s[1], height: LANES.rec[1], class: "rec" }, svg("title", {}, `${fmt.timeSeconds(a)} – ${fmt.timeSeconds(b)}`)));
    }
    for (const r of st.edge?.recorded || []) {
      const [a, b] = [Date.parse(r.from), Date.parse(r.to)];
      const s = span(a, b);
      if (s) kids.push(svg("rect", { x: s[0], y: LANES.rec[0] + 3, width: s[1], height: LANES.rec[1] - 6, class: "rec-edge", fill: "#5b8def", "fill-opacity": 0.55 }, svg("title", {}, `${t("putar.edge.recorded_at_site")} ${fmt.timeSeconds(a)} – ${fmt.timeSeconds(b)}`)));
    }
    lane("inc", t("putar.lane.incidents"), ...LANES.inc);
    for (const inc of st.incidents) {
      const a = Date.parse(inc.start);
      const b = inc.end ? Date.parse(inc.end) : Math.max(a + MINUTE, Math.min(Date.now(), st.until));
      const s = span(a, b + 0) || (xOf(a) >= LABEL_W && xOf(a) <= w ? [xOf(a), 2] : null);
      if (!s) continue;
      const mark = svg("rect", { x: s[0], y: LANES.inc[0] + 1, width: Math.max(4, s[1]), height: LANES.inc[1] - 2, rx: 2, fill: KIND_COLOURS[inc.kind] || "#a78bfa", class: "incident", "data-incident": inc.id },
        svg("title", {}, `${t(`putar.kind.${inc.kind}`)} · ${fmt.timeLabel(a)} · ${t(`putar.incident_state.${inc.state}`)}`));
      mark.addEventListener("pointerdown", (e) => {
        e.stopPropagation();
        seek(Math.max(st.dayStart, a - 10000), true);
      });
      kids.push(mark);
    }
    lane("people", t("putar.lane.people"), ...LANES.people);
    lane("lights", t("putar.lane.lights"), ...LANES.lights);
    const m = st.data.minutes;
    const first = Date.parse(m.first_minute);
    const peak = Math.max(1, ...m.people_max);
    const minuteW = Math.max(1, xOf(first + MINUTE) - xOf(first));
    for (let i = 0; i < m.offset.length; i += 1) {
      const a = first + m.offset[i] * MINUTE;
      if (a + MINUTE < st.view.from || a > st.view.to) continue;
      const s = span(a, a + MINUTE);
      if (!s) continue;
      const [x, mw] = [s[0], Math.max(1, Math.min(minuteW, s[1]))];
      const n = m.people_max[i];
      const sim = m.source[i] === "sim" ? " sim" : "";
      if (n > 0) {
        const hh = Math.max(2, (LANES.people[1] * n) / peak);
        kids.push(svg("rect", { x, y: LANES.people[0] + LANES.people[1] - hh, width: mw, height: hh, class: `people${sim}` }, svg("title", {}, t("putar.people_title", { time: fmt.timeLabel(a), n }))));
      }
      const lit = m.lights_on[i];
      if (lit !== null) kids.push(svg("rect", { x, y: LANES.lights[0], width: mw, height: LANES.lights[1], class: `${lit ? "lights-on" : "lights-off"}${sim}` }));
    }
    lane("clip", t("putar.lane.clip"), ...LANES.clip);
    if (st.sel) {
      const [a, b] = [Math.min(st.sel.a, st.sel.b ?? st.sel.a), Math.max(st.sel.a, st.sel.b ?? st.sel.a)];
      const s = span(a, Math.max(b, a + 1000));
      if (s) kids.push(svg("rect", { x: s[0], y: LANES.clip[0], width: s[1], height: LANES.clip[1], class: "selection", id: "putar-selection" }));
    } else {
      kids.push(svg("text", { x: LABEL_W + 8, y: LANES.clip[0] + 14, class: "hint" }, canExport ? t(st.edge ? "putar.edge.lane_hint" : "putar.lane.clip_hint") : ""));
    }
    if (st.cursor !== null && st.cursor >= st.view.from && st.cursor <= st.view.to) {
      const x = xOf(st.cursor);
      kids.push(svg("line", { x1: x, x2: x, y1: 14, y2: HEIGHT, class: "playhead", id: "putar-playhead" }));
      kids.push(svg("polygon", { points: `${x - 5},14 ${x + 5},14 ${x},22`, class: "playhead-knob" }));
    }
    timeline.replaceChildren(...kids);
    legend.replaceChildren(
      h("span", { class: "key rec" }), t("putar.legend.recording"),
      h("span", { class: "key gap" }), t("putar.legend.gap"),
      ...(st.edge ? [h("span", { class: "key", style: "background:#5b8def;opacity:.55" }), t("putar.edge.recorded_at_site")] : []),
      h("span", { class: "key people" }), t("putar.legend.people", { peak: Math.max(0, ...m.people_max) }),
      h("span", { class: "key lights-on" }), t("putar.legend.lights_on"),
      h("span", { class: "key lights-off" }), t("putar.legend.lights_off"),
      h("span", { class: "muted" }, t("putar.legend.coverage", { pct: fmt.number(coverage(), 1) })),
      simulatedUntil(m) || "",
    );
    zoomButtons.querySelectorAll("button").forEach((b) => b.classList.toggle("active", ZOOMS[Number(b.dataset.zoom)] === st.view.to - st.view.from));
  }

  /** "data simulasi until 18.50 WITA" when pantau demo generated some of the day's minutes. */
  function simulatedUntil(m) {
    const last = m.source.lastIndexOf("sim");
    if (last < 0) return null;
    const until = Date.parse(m.first_minute) + (m.offset[last] + 1) * MINUTE;
    return h("span", { id: "putar-sim" }, h("span", { class: "sim-mark" }, t("shell.simulated")), " ", t("putar.legend.sim_until", { time: fmt.timeLabel(until) }));
  }

  function coverage() {
    const total = st.until - st.dayStart;
    const have = runs().reduce((sum, [a, b]) => sum + (b - a), 0);
    return total > 0 ? (100 * have) / total : 0;
  }

  function zoom(span) {
    const centre = st.cursor ?? (st.view.from + st.view.to) / 2;
    const full = st.dayEnd - st.dayStart;
    span = Math.min(span, full);
    let from = centre - span / 2;
    from = Math.max(st.dayStart, Math.min(st.dayEnd - span, from));
    st.view = { from, to: from + span };
    draw();
  }

  function follow() {
    if (st.cursor === null || !st.view) return;
    const span = st.view.to - st.view.from;
    if (st.cursor < st.view.from || st.cursor > st.view.to) {
      const from = Math.max(st.dayStart, Math.min(st.dayEnd - span, st.cursor - span * 0.1));
      st.view = { from, to: from + span };
    }
  }

  // --- timeline pointer: scrub, or select a clip on the clip lane ----------------------------
  timeline.addEventListener("pointerdown", (e) => {
    if (!st.data) return;
    const y = e.offsetY;
    const ms = clampDay(tOf(e.offsetX));
    timeline.setPointerCapture(e.pointerId);
    if (y >= LANES.clip[0] && canExport) {
      st.drag = "select";
      st.sel = { a: Math.round(ms / 1000) * 1000, b: null };
    } else {
      st.drag = "scrub";
      st.cursor = ms;
      showClock(ms);
    }
    draw();
  });
  timeline.addEventListener("pointermove", (e) => {
    if (!st.drag) return;
    const ms = clampDay(tOf(e.offsetX));
    if (st.drag === "select") st.sel.b = Math.round(ms / 1000) * 1000;
    else {
      st.cursor = ms;
      showClock(ms);
    }
    draw();
  });
  const release = (e) => {
    if (!st.drag) return;
    const mode = st.drag;
    st.drag = null;
    if (timeline.hasPointerCapture(e.pointerId)) timeline.releasePointerCapture(e.pointerId);
    if (mode === "select") {
      if (st.sel.b === null || Math.abs(st.sel.b - st.sel.a) < 1000) st.sel.b = Math.min(st.until, st.sel.a + MINUTE);
      showSelection();
      draw();
    } else {
      seek(st.cursor, !video.paused || !st.win);
    }
  };
  timeline.addEventListener("pointerup", release);
  timeline.addEventListener("pointercancel", release);

  function showClock(ms) {
    clock.textContent = ms === null ? "—" : `${fmt.dateLabel(ms, { weekday: "short", day: "numeric", month: "short" })} · ${fmt.timeSeconds(ms)}`;
  }

  // --- playback --------------------------------------------------------------------------------
  function wallClock(mediaTime) {
    const frags = st.win?.frags || [];
    for (const f of frags) {
      if (mediaTime >= f.start - 0.05 && mediaTime < f.start + f.duration) return f.programDateTime + (mediaTime - f.start) * 1000;
    }
    return null;
  }

  function mediaTimeOf(ms) {
    const frags = st.win?.frags || [];
    for (const f of frags) {
      if (ms < f.programDateTime) return f.start; // in a gap: the next recorded moment
      if (ms < f.programDateTime + f.duration * 1000) return f.start + (ms - f.programDateTime) / 1000;
    }
    return null;
  }

  function destroyPlayer() {
    if (st.clipPlaying) {
      st.clipPlaying = null;
      video.removeAttribute("src");
      video.load();
    }
    if (st.hls) st.hls.destroy();
    st.hls = null;
    st.win = null;
  }

  async function loadWindow(ms) {
    const Hls = await loadHls();
    if (!Hls.isSupported()) throw new Error(t("putar.no_mse"));
    destroyPlayer();
    const from = ms;
    const to = Math.min(st.until, from + WINDOW);
    const hls = new Hls({ autoStartLoad: false, maxBufferLength: 30, enableWorker: true });
    st.hls = hls;
    const url = api.url(`cameras/${st.camId}/playlist.m3u8`, { from: iso(from), to: iso(to) });
    const details = await new Promise((resolve, reject) => {
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => resolve(data.details));
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal) reject(new Error(`${t("putar.play_failed")}: ${data.details}${data.response?.code ? ` (HTTP ${data.response.code})` : ""}`));
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    });
    if (st.hls !== hls) return false; // another window was asked for meanwhile
    st.win = { from, to, frags: details.fragments.filter((f) => f.programDateTime) };
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) {
        setStatus(`${t("putar.play_failed")}: ${data.details}`, "error");
        destroyPlayer();
      }
    });
    return true;
  }

  async function seek(ms, play) {
    if (!st.data) return;
    const found = recordingFrom(ms);
    if (!found) {
      st.cursor = ms;
      showClock(ms);
      draw();
      setStatus(t("putar.no_recording_after", { time: fmt.timeLabel(ms) }), "warn");
      video.pause();
      return;
    }
    const [target] = found;
    if (target > ms + 1000) ctx.toast(t("putar.jumped", { from: fmt.timeLabel(ms), to: fmt.timeSeconds(target) }));
    st.cursor = target;
    showClock(target);
    follow();
    draw();
    history.replaceState(null, "", `#/putar?camera=${st.camId}&t=${encodeURIComponent(iso(target))}`);
    try {
      const inside = st.win && target >= st.win.from && target < st.win.to && mediaTimeOf(target) !== null;
      if (!inside) {
        setStatus(t("putar.loading_video"));
        if (!(await loadWindow(target))) return;
        st.hls.startLoad(Math.max(0, mediaTimeOf(target) ?? 0));
      }
      const mt = mediaTimeOf(target);
      if (mt !== null) video.currentTime = mt;
      setStatus("");
      if (play) await video.play().catch((error) => setStatus(error.message, "error"));
    } catch (error) {
      setStatus(error.message, "error");
    }
  }

  function togglePlay() {
    if (!st.win) {
      seek(st.cursor ?? firstRecording(), true);
      return;
    }
    if (video.paused) video.play().catch((error) => setStatus(error.message, "error"));
    else video.pause();
  }

  function nudge(delta) {
    if (st.cursor === null) return;
    seek(clampDay(st.cursor + delta), !video.paused);
  }

  function firstRecording() {
    const r = runs();
    return r.length ? r[0][0] : st.dayStart;
  }

  video.addEventListener("play", () => { playButton.textContent = `❚❚ ${t("putar.pause")}`; });
  video.addEventListener("pause", () => { playButton.textContent = `▶ ${t("putar.play")}`; });
  video.addEventListener("timeupdate", () => {
    if (st.drag === "scrub") return;
    const ms = st.clipPlaying ? Date.parse(st.clipPlaying.clip_start || st.clipPlaying.from) + video.currentTime * 1000 : wallClock(video.currentTime);
    if (ms === null) return;
    st.cursor = ms;
    showClock(ms);
    follow();
    draw();
  });
  video.addEventListener("ended", () => {
    if (st.clipPlaying) return;
    // The hour window is over: go on with the next recorded moment, if the day has one.
    if (st.win && st.win.to < st.until) {
      const next = recordingFrom(st.win.to);
      if (next) seek(next[0], true);
    }
  });
  video.addEventListener("waiting", () => setStatus(t("putar.buffering")));
  video.addEventListener("playing", () => setStatus(st.clipPlaying?.label || ""));

  // --- clip export ------------------------------------------------------------------------------
  function mark(which) {
    if (st.cursor === null) return;
    st.sel ||= { a: st.cursor, b: null };
    st.sel[which] = Math.round(st.cursor / 1000) * 1000;
    if (st.sel.b === null) st.sel.b = st.sel.a + MINUTE;
    showSelection();
    draw();
  }

  function selection() {
    if (!st.sel || st.sel.b === null) return null;
    return [Math.min(st.sel.a, st.sel.b), Math.max(st.sel.a, st.sel.b)];
  }

  function showSelection() {
    const sel = selection();
    if (sel) [clipFrom.value, clipTo.value] = sel.map((ms) => wallTime(ms));
    if (!sel) {
      selText.textContent = t("putar.export.none");
      exportButton.disabled = true;
      return;
    }
    const [a, b] = sel;
    const seconds = Math.round((b - a) / 1000);
    const length = seconds >= 60 ? t("putar.export.minutes", { m: Math.floor(seconds / 60), s: seconds % 60 }) : t("putar.export.seconds", { s: seconds });
    selText.textContent = t("putar.export.range", { from: fmt.timeSeconds(a), to: fmt.timeSeconds(b), length });
    const tooLong = b - a > MAX_EXPORT;
    selText.classList.toggle("bad", tooLong);
    exportButton.disabled = tooLong || b <= a;
    if (tooLong) selText.textContent += ` — ${t("putar.export.too_long")}`;
  }

  async function exportClip() {
    const sel = selection();
    if (!sel) return;
    exportButton.disabled = true;
    const started = performance.now();
    const elapsed = h("span", { id: "putar-export-elapsed" }, "0 s");
    clear(exportOut).append(
      h("p", {}, t("putar.export.working", { from: fmt.timeSeconds(sel[0]), to: fmt.timeSeconds(sel[1]) }), " ", elapsed),
      h("div", { class: "progress indeterminate", role: "progressbar", "aria-label": t("putar.export.working_short") }, h("span", {})),
    );
    clearInterval(st.exportTimer);
    st.exportTimer = setInterval(() => { elapsed.textContent = `${Math.round((performance.now() - started) / 1000)} s`; }, 500);
    try {
      const out = await api.post(`cameras/${st.camId}/exports`, { from: iso(sel[0]), to: iso(sel[1]) });
      if (!st.alive) return;
      clear(exportOut).append(
        h("p", { class: "ok" }, t("putar.export.done", { size: fmt.number(out.bytes / 1e6, 1), seconds: fmt.number((performance.now() - started) / 1000, 1) })),
        h("dl", { class: "putar-hash" },
          h("dt", {}, "SHA-256"),
          h("dd", {}, h("code", { id: "putar-sha" }, out.sha256)),
          h("dt", {}, t("putar.export.range_label")),
          h("dd", {}, `${fmt.dateLabel(out.from, { day: "numeric", month: "short", year: "numeric" })} ${fmt.timeSeconds(out.from)} – ${fmt.timeSeconds(out.to)}`)),
        h("p", { class: "toolbar" },
          h("a", { class: "button", id: "putar-dl-clip", href: out.download.clip, download: "" }, `↓ ${t("putar.export.download_clip")}`),
          h("a", { class: "button", id: "putar-dl-manifest", href: out.download.manifest, download: "" }, `↓ ${t("putar.export.download_manifest")}`),
          h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(out.sha256).then(() => ctx.toast(t("putar.export.copied"), "ok")) }, t("putar.export.copy"))),
      );
    } catch (error) {
      if (!st.alive) return;
      clear(exportOut).append(h("div", { class: "error-box", id: "putar-export-error" }, h("strong", {}, t("putar.export.failed")), " ", error.message));
    } finally {
      clearInterval(st.exportTimer);
      showSelection();
    }
  }

  // --- clips from the site (edge agent) ------------------------------------------------------
  /** "HH:MM:SS" in the city's zone, for the time inputs. */
  function wallTime(ms) {
    return new Date(ms + zoneOffset(zone, ms)).toISOString().slice(11, 19);
  }

  function fromWallTime(value) {
    const [hh, mm, ss] = value.split(":").map(Number);
    return st.dayStart + ((hh * 60 + mm) * 60 + (ss || 0)) * 1000;
  }

  function clipState(c) {
    const pct = c.percent === null ? "" : fmt.number(c.percent, 0);
    if (c.state === "pending") {
      return c.agent_last_contact ? t("putar.edge.state.pending_seen", { time: fmt.timeLabel(c.agent_last_contact) }) : t("putar.edge.state.pending");
    }
    if (c.state === "uploading") {
      const eta = c.eta_seconds === null ? "" : ` · ${t("putar.edge.eta", { m: Math.max(1, Math.ceil(c.eta_seconds / 60)) })}`;
      return `${t("putar.edge.state.uploading", { pct })}${eta}`;
    }
    if (c.state === "failed") return t("putar.edge.state.failed", { why: c.error || "" });
    return t(`putar.edge.state.${c.state}`);
  }

  function showClips() {
    const mayAsk = Boolean(st.edge?.may_request);
    const rows = st.clips.map((c) => {
      const open = OPEN_CLIP.has(c.state);
      const bar = c.state === "uploading"
        ? h("div", { class: "progress", role: "progressbar", "aria-valuenow": c.percent ?? 0, "aria-valuemin": 0, "aria-valuemax": 100 }, h("span", { style: `width:${c.percent ?? 0}%` }))
        : null;
      return h("div", { class: `putar-clip clip-${c.state}`, "data-clip": c.id, "data-state": c.state },
        h("strong", {}, `${fmt.timeSeconds(c.from)} – ${fmt.timeSeconds(c.to)}`),
        " ",
        h("span", { class: "clip-state" }, clipState(c)),
        bar,
        c.state === "ready"
          ? h("span", { class: "toolbar" },
            h("button", { type: "button", class: "primary clip-play", onclick: () => playClip(c) }, `▶ ${t("putar.edge.play")}`),
            h("a", { class: "button clip-download", href: `${c.file}?download=true`, download: "" }, `↓ ${t("putar.export.download_clip")}`),
            h("code", { class: "clip-sha", title: "SHA-256" }, c.sha256.slice(0, 16) + "…"))
          : null,
        open && mayAsk ? h("button", { type: "button", class: "clip-cancel", onclick: () => cancelClip(c) }, t("putar.edge.cancel")) : null);
    });
    clipList.replaceChildren(...(rows.length ? rows : [h("p", { class: "muted" }, t("putar.edge.none"))]));
  }

  function showEdge() {
    const edge = st.edge;
    edgePanel.hidden = !edge;
    exportPanel.hidden = Boolean(edge);
    if (!edge) return;
    const a = edge.agent;
    clipInfo.textContent = t("putar.edge.info", {
      agent: a.name,
      state: a.state_label,
      time: a.last_contact_at ? fmt.timeLabel(a.last_contact_at) : "—",
      max: fmt.number(edge.max_minutes, 0),
    });
    clipButton.hidden = !edge.may_request;
    showClips();
  }

  async function loadClips() {
    const camId = st.camId;
    clearTimeout(st.clipTimer);
    let loaded = false;
    try {
      const clips = await api.get("clips", { camera_id: camId, limit: 20 });
      if (!st.alive || camId !== st.camId) return;
      st.clips = clips;
      loaded = true;
      showClips();
    } finally {
      // A failed poll (a dropped link) tries again; polling stops once no clip is open.
      const open = !loaded || st.clips.some((c) => OPEN_CLIP.has(c.state));
      if (st.alive && camId === st.camId && open) st.clipTimer = setTimeout(() => loadClips().catch((e) => console.warn("clips", e)), CLIP_POLL);
    }
  }

  async function requestClip() {
    if (!clipFrom.value || !clipTo.value) {
      ctx.toast(t("putar.edge.pick_range"), "error");
      return;
    }
    const [a, b] = [fromWallTime(clipFrom.value), fromWallTime(clipTo.value)];
    clipButton.disabled = true;
    try {
      await api.post("clips", { camera_id: st.camId, from: iso(a), to: iso(b) });
      ctx.toast(t("putar.edge.requested"), "ok");
      await loadClips();
    } catch (error) {
      ctx.toast(`${t("putar.edge.request_failed")} ${error.message}`, "error");
    } finally {
      clipButton.disabled = false;
    }
  }

  async function cancelClip(c) {
    try {
      await api.post(`clips/${c.id}/cancel`);
      await loadClips();
    } catch (error) {
      ctx.toast(error.message, "error");
    }
  }

  function playClip(c) {
    destroyPlayer();
    const label = t("putar.edge.playing", { from: fmt.timeSeconds(c.clip_start || c.from), to: fmt.timeSeconds(c.clip_end || c.to) });
    st.clipPlaying = { ...c, label };
    video.src = c.file;
    st.cursor = Date.parse(c.clip_start || c.from);
    showClock(st.cursor);
    follow();
    draw();
    setStatus(label);
    video.play().catch((error) => setStatus(error.message, "error"));
  }

  // --- data ----------------------------------------------------------------------------------
  async function loadDay(keepCursor) {
    const now = Date.now();
    st.dayStart = dayStartOf(zone, st.day);
    st.dayEnd = st.dayStart + 24 * HOUR;
    st.until = Math.min(st.dayEnd, now);
    st.view ||= { from: st.dayStart, to: st.dayEnd };
    if (st.view.from < st.dayStart || st.view.to > st.dayEnd) st.view = { from: st.dayStart, to: st.dayEnd };
    if (st.until <= st.dayStart) {
      clear(body).append(h("div", { class: "empty" }, t("putar.future_day")));
      return false;
    }
    if (!body.contains(main)) clear(body).append(h("p", { class: "muted", id: "putar-loading" }, t("putar.loading")));
    const [data, incidents, edge] = await Promise.all([
      api.get(`cameras/${st.camId}/timeline`, { from: iso(st.dayStart), to: iso(st.until) }),
      api.get("incidents", { camera_id: st.camId, since: iso(st.dayStart - 6 * HOUR), limit: 1000 }),
      // Only for edge cameras: its failure must not take the hub's own timeline with it.
      api.get("clips/availability", { camera_id: st.camId, from: iso(st.dayStart), to: iso(st.until) }).catch(() => ({ agent: null })),
    ]);
    if (!st.alive) return false;
    st.data = data;
    st.edge = edge.agent ? edge : null;
    st.incidents = incidents.filter((i) => Date.parse(i.start) < st.dayEnd && (i.end === null || Date.parse(i.end) >= st.dayStart));
    if (!keepCursor) st.cursor = null;
    if (!body.contains(main)) clear(body).append(main);
    showEdge();
    if (st.edge && !data.recording.length) setStatus(t("putar.edge.at_site"));
    else if (!data.recording.length) setStatus(t("putar.no_recording_day", { day: fmt.dateLabel(st.day) }), "warn");
    else if (!st.win) setStatus(t("putar.pick_hint"));
    draw();
    return true;
  }

  async function choose(camId, day, at = null) {
    destroyPlayer();
    video.removeAttribute("src");
    st.camId = camId;
    st.day = day > fmt.today() ? fmt.today() : day;
    st.sel = null;
    showSelection();
    clear(exportOut);
    cameraSelect.value = String(camId);
    dayInput.value = st.day;
    st.view = null;
    history.replaceState(null, "", `#/putar?camera=${camId}${at ? `&t=${encodeURIComponent(iso(at))}` : `&day=${st.day}`}`);
    st.clips = [];
    clearTimeout(st.clipTimer);
    try {
      if (!(await loadDay(false))) return;
      if (st.edge) await loadClips();
      if (at !== null) {
        st.cursor = at;
        zoom(HOUR);
        await seek(at, true);
      } else {
        showClock(null);
      }
    } catch (error) {
      if (!st.alive) return;
      clear(body).append(h("div", { class: "error-box", id: "putar-error" }, h("h2", {}, t("putar.load_failed")), h("p", {}, error.message)));
    }
  }

  async function refreshDay() {
    if (!st.camId || !st.day) return;
    try {
      await loadDay(true);
    } catch (error) {
      console.warn("playback refresh", error);
    }
  }

  // --- start ------------------------------------------------------------------------------------
  let groups;
  try {
    groups = await api.get("camera-groups");
  } catch (error) {
    root.append(h("div", { class: "error-box", id: "putar-error" }, h("h2", {}, t("putar.load_failed")), h("p", {}, error.message)));
    return;
  }
  st.cameras = groups.cameras;
  if (!st.cameras.length) {
    clear(body).append(h("div", { class: "empty", id: "putar-empty" }, h("h2", {}, t("putar.empty")), h("p", {}, t("putar.empty_hint"))));
    cameraSelect.disabled = dayInput.disabled = true;
    return;
  }
  const byArea = new Map();
  for (const cam of st.cameras) {
    const area = cam.kecamatan_name ? t("putar.kecamatan", { name: cam.kecamatan_name }) : t("putar.no_kecamatan");
    if (!byArea.has(area)) byArea.set(area, []);
    byArea.get(area).push(cam);
  }
  cameraSelect.append(...[...byArea].map(([area, cams]) => h("optgroup", { label: area }, cams.map((c) => h("option", { value: c.id }, `${c.site_name} · ${c.name}`)))));
  st.unsubs.push(ctx.live.on("incident", (inc) => inc.camera_id === st.camId && refreshDay()));
  st.unsubs.push(ctx.live.onStatus((s) => s === "restored" && refreshDay()));
  const resize = new ResizeObserver(() => draw());
  resize.observe(body);
  st.unsubs.push(() => resize.disconnect());
  // Today's timeline grows: re-read it once a minute (counts arrive per minute anyway).
  st.timers.push(setInterval(() => st.day === fmt.today() && !st.drag && refreshDay(), MINUTE));
  st.destroy = () => {
    destroyPlayer();
    clearInterval(st.exportTimer);
    clearTimeout(st.clipTimer);
  };
  const wanted = Number(ctx.params.camera);
  const camId = st.cameras.some((c) => c.id === wanted) ? wanted : st.cameras[0].id;
  if (ctx.params.camera && camId !== wanted) ctx.toast(t("putar.camera_not_visible", { id: ctx.params.camera }), "error");
  const at = ctx.params.t ? Date.parse(ctx.params.t) : NaN;
  if (!Number.isNaN(at)) await choose(camId, localDay(zone, at), at);
  else await choose(camId, ctx.params.day || fmt.today());
}

export function unmount() {
  const st = page;
  page = null;
  if (!st) return;
  st.alive = false;
  st.destroy?.();
  st.timers.forEach(clearInterval);
  st.unsubs.forEach((off) => off());
}
