// Kesehatan: is every camera up and recording, which offices were installed but never
// connected, and how each edge site's agent kept in touch over the last 7 days (the TIK
// evaluation: GET /api/agents/connectivity, for the city-wide roles). One request
// (GET /api/overview/health) fills the rest of the page; a
// camera's state changes in place from the live feed, and the figures are re-read on a
// restored link and every five minutes (uptime moves slowly).

import { h, clear, ensureCss } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const RELOAD_MS = 5 * 60 * 1000;
const CAMERA_STATES = ["online", "degraded", "connecting", "unknown", "offline", "disabled"]; // unknown: behind an agent out of touch

let cleanup = [];

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** ok >= 99 %, warn >= 90 %, late >= 50 %, bad below; none = not installed that day. */
export function grade(value) {
  if (value === null || value === undefined) return "none";
  if (value >= 99) return "ok";
  if (value >= 90) return "warn";
  if (value >= 50) return "late";
  return "bad";
}

export function mount(root, ctx) {
  const { t, fmt, api } = ctx;
  ensureCss("kesehatan");
  cleanup = [];
  const view = { data: null, agents: null, agentsError: null, query: "", state: "" };
  const seesAgents = ctx.can("admin", "operator", "pimpinan");

  const pct = (v) => (v === null || v === undefined ? "—" : `${fmt.number(v, 1)} %`);
  const bytes = (n) => {
    if (n === null || n === undefined) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i += 1;
    }
    return `${fmt.number(v, i >= 3 ? 1 : 0)} ${units[i]}`;
  };
  const share = (v) => h("span", { class: `pct pct-${grade(v)}` }, pct(v));

  const status = h("span", { class: "muted", id: "kesehatan-updated" }, t("shell.loading"));
  const search = h("input", { type: "search", id: "kesehatan-search", placeholder: t("kesehatan.search"), "aria-label": t("kesehatan.search") });
  const stateSelect = h(
    "select",
    { id: "kesehatan-state", "aria-label": t("kesehatan.state_filter") },
    h("option", { value: "" }, t("kesehatan.all_states")),
    CAMERA_STATES.map((s) => h("option", { value: s }, t(`kesehatan.camera.${s}`))),
  );
  const reloadBtn = h("button", { type: "button", id: "kesehatan-refresh", onclick: () => load() }, t("kesehatan.refresh"));
  const body = h("div", { class: "kesehatan-body" }, h("p", { class: "muted" }, t("kesehatan.loading")));
  root.append(
    h("h1", {}, t("kesehatan.title")),
    h("div", { class: "toolbar" }, search, stateSelect, reloadBtn, h("span", { class: "spacer" }), status),
    body,
  );
  search.addEventListener("input", () => {
    view.query = search.value.trim().toLowerCase();
    render();
  });
  stateSelect.addEventListener("change", () => {
    view.state = stateSelect.value;
    render();
  });

  // ---- pieces ----
  function strip(camera, days) {
    const cell = 9;
    const gap = 2;
    const width = days.length * (cell + gap);
    return svg(
      "svg",
      { class: "strip", width, height: 22, viewBox: `0 0 ${width} 22`, role: "img", "aria-label": t("kesehatan.strip_label", { name: camera.name }), "data-camera": camera.camera_id },
      days.map((day, i) => {
        const up = camera.enabled ? camera.days_uptime[i] : null;
        const rec = camera.enabled ? camera.days_recorded[i] : null;
        const tip = up === null ? t("kesehatan.strip_none", { day: fmt.dateLabel(day, { weekday: "short", day: "numeric", month: "short" }) }) : t("kesehatan.strip_tip", { day: fmt.dateLabel(day, { weekday: "short", day: "numeric", month: "short" }), up: pct(up), rec: pct(rec) });
        const x = i * (cell + gap);
        return svg(
          "g",
          { "data-day": day },
          svg("rect", { x, y: 0, width: cell, height: 14, rx: 2, class: `cell up-${grade(up)}` }, svg("title", {}, tip)),
          svg("rect", { x, y: 16, width: cell, height: 5, rx: 1, class: `cell up-${grade(rec)}` }, svg("title", {}, tip)),
        );
      }),
    );
  }

  function stateBadge(state, extra = {}) {
    return h("span", { class: `state state-${state}`, "data-state": state, ...extra }, t(`kesehatan.camera.${state}`));
  }

  function bar(parts, total) {
    const width = 220;
    let x = 0;
    return svg(
      "svg",
      { class: "bar", width, height: 12, viewBox: `0 0 ${width} 12`, preserveAspectRatio: "none", "aria-hidden": "true" },
      parts
        .filter(([, n]) => n > 0)
        .map(([cls, n]) => {
          const w = total ? (width * n) / total : 0;
          const rect = svg("rect", { x, y: 0, width: Math.max(w, 1), height: 12, class: cls });
          x += w;
          return rect;
        }),
    );
  }

  function summary(data) {
    const counts = data.counts;
    const total = data.cameras.length;
    const week = (key) => {
      const values = data.cameras.filter((c) => c.enabled).map((c) => c[key]["7d"]).filter((v) => v !== null);
      return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    };
    const withCams = data.sites.filter((s) => s.cameras > 0).length;
    const disk = data.disk;
    const used = disk.total_bytes ? disk.total_bytes - disk.free_bytes : 0;
    return h(
      "div",
      { class: "grid-cards kesehatan-cards" },
      h(
        "div",
        { class: "card", id: "kesehatan-card-cameras" },
        h("h2", {}, t("kesehatan.cards.cameras")),
        h("p", { class: "big" }, String(total)),
        bar(CAMERA_STATES.map((s) => [`fill-${s}`, counts[s] || 0]), total),
        h("p", { class: "legend-line" }, CAMERA_STATES.filter((s) => counts[s]).map((s) => h("span", {}, stateBadge(s), ` ${counts[s]}`))),
      ),
      h("div", { class: "card" }, h("h2", {}, t("kesehatan.cards.uptime")), h("p", { class: "big" }, share(week("uptime"))), h("p", { class: "muted" }, t("kesehatan.cards.uptime_hint"))),
      h("div", { class: "card" }, h("h2", {}, t("kesehatan.cards.recorded")), h("p", { class: "big" }, share(week("recorded"))), h("p", { class: "muted" }, t("kesehatan.cards.recorded_hint"))),
      h(
        "div",
        { class: "card" },
        h("h2", {}, t("kesehatan.cards.sites")),
        h("p", { class: "big" }, `${withCams} / ${data.sites.length}`),
        h("p", { class: "muted" }, t("kesehatan.cards.sites_hint", { missing: data.not_connected.length })),
      ),
      h(
        "div",
        { class: `card${disk.warning ? " card-bad" : ""}`, id: "kesehatan-disk" },
        h("h2", {}, t("kesehatan.cards.disk")),
        h("p", { class: "big" }, t("kesehatan.cards.disk_free", { free: bytes(disk.free_bytes) })),
        disk.total_bytes ? bar([["fill-used", used - disk.recordings_bytes], ["fill-recordings", disk.recordings_bytes], ["fill-free", disk.free_bytes]], disk.total_bytes) : null,
        h("p", { class: "muted" }, t("kesehatan.cards.disk_detail", { total: bytes(disk.total_bytes), recordings: bytes(disk.recordings_bytes), min: bytes(disk.min_free_bytes) })),
        disk.warning ? h("p", { class: "warning", role: "alert" }, disk.warning) : null,
      ),
    );
  }

  function cameraTable(data) {
    const rows = data.cameras.filter((c) => (!view.state || c.state === view.state) && (!view.query || `${c.name} ${c.site_name} ${c.kecamatan || ""}`.toLowerCase().includes(view.query)));
    const section = h("section", { class: "kesehatan-section", id: "kesehatan-cameras" }, h("h2", {}, t("kesehatan.cameras_title", { n: rows.length })));
    if (!data.cameras.length) {
      section.append(h("div", { class: "empty", id: "kesehatan-empty" }, h("p", {}, t("kesehatan.no_cameras")), ctx.can("admin") ? h("a", { href: "#/admin" }, t("kesehatan.add_cameras")) : null));
      return section;
    }
    section.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "kesehatan-table" },
          h(
            "thead",
            {},
            h("tr", {}, h("th", {}, t("kesehatan.col.camera")), h("th", {}, t("kesehatan.col.state")), h("th", {}, t("kesehatan.col.last_seen")), h("th", { class: "num" }, t("kesehatan.col.uptime")), h("th", { class: "num" }, t("kesehatan.col.recorded")), h("th", { class: "num" }, t("kesehatan.col.disk")), h("th", {}, t("kesehatan.col.days", { n: data.days.length }))),
          ),
          h(
            "tbody",
            {},
            rows.map((c) =>
              h(
                "tr",
                { "data-camera": c.camera_id },
                h("td", {}, h("strong", {}, c.name), h("br"), h("a", { class: "muted", href: `#/peta?site=${c.site_id}` }, c.site_name)),
                h("td", { class: "state-cell" }, stateBadge(c.state), h("div", { class: "muted reason" }, c.reason || ""), c.since ? h("div", { class: "muted since" }, t("kesehatan.since", { time: fmt.dateTimeLabel(c.since) })) : null),
                h("td", {}, c.last_seen ? h("span", { title: fmt.dateTimeLabel(c.last_seen) }, fmt.ago(c.last_seen)) : h("span", { class: "muted" }, t("kesehatan.never"))),
                h("td", { class: "num spans" }, data.spans.map((s) => h("div", {}, h("small", { class: "muted" }, t(`kesehatan.span.${s}`)), " ", share(c.enabled ? c.uptime[s] : null)))),
                h("td", { class: "num spans" }, data.spans.map((s) => h("div", {}, h("small", { class: "muted" }, t(`kesehatan.span.${s}`)), " ", share(c.enabled ? c.recorded[s] : null)))),
                h("td", { class: "num" }, bytes(c.bytes)),
                h("td", {}, strip(c, data.days)),
              ),
            ),
          ),
        ),
      ),
      h("p", { class: "muted strip-legend" }, t("kesehatan.strip_legend"), ["ok", "warn", "late", "bad", "none"].map((g) => h("span", { class: `key up-${g}` }, t(`kesehatan.grade.${g}`)))),
    );
    return section;
  }

  function siteTable(data) {
    const sites = data.sites.filter((s) => s.cameras > 0 && (!view.query || `${s.name} ${s.kecamatan || ""}`.toLowerCase().includes(view.query)));
    const without = data.sites.filter((s) => s.cameras === 0).length;
    const section = h("section", { class: "kesehatan-section", id: "kesehatan-sites" }, h("h2", {}, t("kesehatan.sites_title", { n: sites.length })));
    if (without) section.append(h("p", { class: "muted" }, t("kesehatan.sites_without", { n: without })));
    if (!sites.length) return section;
    section.append(
      h(
        "table",
        { class: "kesehatan-table" },
        h("thead", {}, h("tr", {}, h("th", {}, t("kesehatan.col.site")), h("th", {}, t("kesehatan.col.connectivity")), h("th", {}, t("kesehatan.col.cameras")), h("th", { class: "num" }, t("kesehatan.col.uptime_7d")), h("th", { class: "num" }, t("kesehatan.col.recorded_7d")), h("th", { class: "num" }, t("kesehatan.col.disk")), h("th", {}, t("kesehatan.col.last_seen")))),
        h(
          "tbody",
          {},
          sites.map((s) =>
            h(
              "tr",
              { "data-site": s.site_id },
              h("td", {}, h("a", { href: `#/peta?site=${s.site_id}` }, s.name), h("br"), h("small", { class: "muted" }, s.kecamatan || "")),
              h("td", {}, h("span", { class: `state state-${s.connectivity === "connected" ? "online" : "not_connected"}` }, t(`kesehatan.connectivity.${s.connectivity}`))),
              h("td", {}, CAMERA_STATES.filter((st) => s.by_state[st]).map((st) => h("span", { class: "cam-count" }, stateBadge(st), ` ${s.by_state[st]}`))),
              h("td", { class: "num" }, share(s.uptime["7d"])),
              h("td", { class: "num" }, share(s.recorded["7d"])),
              h("td", { class: "num" }, bytes(s.bytes)),
              h("td", {}, s.last_seen ? fmt.ago(s.last_seen) : h("span", { class: "muted" }, t("kesehatan.never"))),
            ),
          ),
        ),
      ),
    );
    return section;
  }

  function missingList(data) {
    const rows = data.not_connected;
    const csv = h("a", { class: "button", id: "kesehatan-csv", href: api.url("overview/not-connected.csv"), download: "" }, t("kesehatan.download_csv"));
    const section = h(
      "section",
      { class: "kesehatan-section card", id: "kesehatan-missing" },
      h("div", { class: "section-head" }, h("h2", {}, t("kesehatan.missing_title", { n: rows.length })), csv),
      h("p", { class: "muted" }, t("kesehatan.missing_hint")),
    );
    if (!rows.length) {
      section.append(h("p", { class: "muted" }, t("kesehatan.missing_none")));
      return section;
    }
    section.append(
      h(
        "table",
        { class: "kesehatan-table" },
        h("thead", {}, h("tr", {}, h("th", {}, t("kesehatan.col.site")), h("th", {}, t("kesehatan.col.kecamatan")), h("th", {}, t("kesehatan.col.cameras")), h("th", {}, t("kesehatan.col.reason")), h("th", {}, t("kesehatan.col.registered")))),
        h(
          "tbody",
          {},
          rows.map((r) =>
            h(
              "tr",
              { "data-site": r.site_id, "data-reason": r.reason_code },
              h("td", {}, h("a", { href: `#/peta?site=${r.site_id}` }, r.name)),
              h("td", {}, r.kecamatan || "—"),
              h("td", {}, r.cameras ? t("kesehatan.never_seen_of", { n: r.never_seen, total: r.cameras }) : "0"),
              h("td", {}, r.reason_code === "link_down" ? t("kesehatan.missing.link_down") : t("kesehatan.missing.never_seen", { n: r.never_seen, total: r.cameras })),
              h("td", {}, r.since ? fmt.dateTimeLabel(r.since) : "—"),
            ),
          ),
        ),
      ),
    );
    return section;
  }

  /** Hours connected per local day as bars (a full bar: 24 h), so a glance finds the bad days. */
  function hoursStrip(agent) {
    const bw = 18, gap = 3, top = 30;
    const width = agent.days.length * (bw + gap);
    return svg(
      "svg",
      { class: "hours-strip", width, height: top + 12, viewBox: `0 0 ${width} ${top + 12}`, role: "img", "aria-label": t("kesehatan.agents.hours_label", { name: agent.site || agent.name }), "data-agent": agent.id },
      agent.days.map((d, i) => {
        const x = i * (bw + gap);
        const hgt = d.minutes_connected ? Math.max(1, Math.round((top * Math.min(24, d.hours_connected)) / 24)) : 2; // 0 h: a red floor
        const grade = d.hours_connected >= 23 ? "ok" : d.hours_connected >= 12 ? "warn" : d.hours_connected > 0 ? "late" : "bad";
        const tip = t("kesehatan.agents.hours_tip", { day: fmt.dateLabel(d.date, { weekday: "short", day: "numeric", month: "short" }), hours: fmt.number(d.hours_connected, 1), items: fmt.number(d.items) });
        return svg(
          "g",
          { "data-day": d.date, "data-hours": d.hours_connected },
          svg("rect", { x, y: 0, width: bw, height: top, rx: 2, class: "slot" }),
          svg("rect", { x, y: top - hgt, width: bw, height: hgt, rx: 2, class: `hours h-${grade}` }),
          svg("text", { x: x + bw / 2, y: top + 10, "text-anchor": "middle", class: "dow" }, fmt.dateLabel(d.date, { weekday: "narrow" })),
          svg("title", {}, tip),
        );
      }),
    );
  }

  function agentSection() {
    if (!seesAgents) return null;
    const section = h("section", { class: "kesehatan-section", id: "kesehatan-agents" }, h("h2", {}, t("kesehatan.agents.title")), h("p", { class: "muted" }, t("kesehatan.agents.hint")));
    if (view.agentsError) {
      section.append(h("div", { class: "error-box", role: "alert" }, t("kesehatan.agents.failed", { message: view.agentsError.message })));
      return section;
    }
    if (!view.agents) return section;
    const rows = view.agents.filter((a) => !view.query || `${a.name} ${a.site || ""}`.toLowerCase().includes(view.query));
    if (!view.agents.length) {
      section.append(h("p", { class: "muted", id: "kesehatan-agents-none" }, t("kesehatan.agents.none")));
      return section;
    }
    const offset = (a) => {
      if (a.clock_offset_seconds === null || a.clock_offset_seconds === undefined) return h("span", { class: "muted" }, "—");
      const text = t("kesehatan.agents.seconds", { n: `${a.clock_offset_seconds >= 0 ? "+" : "−"}${fmt.number(Math.abs(a.clock_offset_seconds), 1)}` });
      return a.clock_warning
        ? h("span", { class: "state state-offline clock-warn", title: t("kesehatan.agents.clock_warn_hint"), "data-clock": "warn" }, `⚠ ${text}`)
        : h("span", { "data-clock": "ok" }, text);
    };
    const backlog = (a) =>
      a.backlog.items
        ? [h("strong", {}, t("kesehatan.agents.items", { n: fmt.number(a.backlog.items) })), ` · ${bytes(a.backlog.bytes)}`, a.backlog.oldest ? h("div", { class: "muted" }, t("kesehatan.agents.oldest", { ago: fmt.ago(a.backlog.oldest) })) : null]
        : h("span", { class: "muted" }, t("kesehatan.agents.no_backlog"));
    section.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "kesehatan-table", id: "kesehatan-agents-table" },
          h(
            "thead",
            {},
            h("tr", {}, [t("kesehatan.agents.col.site"), t("kesehatan.agents.col.state"), t("kesehatan.agents.col.last_contact"), t("kesehatan.agents.col.backlog"), t("kesehatan.agents.col.version"), t("kesehatan.agents.col.clock"), t("kesehatan.agents.col.throughput"), t("kesehatan.agents.col.hours")].map((c, i) => h("th", { class: i === 5 || i === 6 ? "num" : null }, c))),
          ),
          h(
            "tbody",
            {},
            rows.map((a) => {
              const total = a.days.reduce((sum, d) => sum + d.hours_connected, 0);
              return h(
                "tr",
                { "data-agent": a.id, "data-site": a.site_id, "data-state": a.state },
                h("td", {}, h("a", { href: `#/peta?site=${a.site_id}` }, a.site || `#${a.site_id}`), h("br"), h("small", { class: "muted" }, a.name)),
                h("td", {}, h("span", { class: `state state-agent-${a.state}` }, t(`kesehatan.agents.state.${a.state}`))),
                h("td", {}, a.last_contact_at ? [h("span", { class: "contact" }, fmt.momentLabel(a.last_contact_at)), h("div", { class: "muted" }, fmt.ago(a.last_contact_at))] : h("span", { class: "muted" }, t("kesehatan.never"))),
                h("td", { class: "backlog" }, backlog(a)),
                h("td", {}, a.version || "—"),
                h("td", { class: "num" }, offset(a)),
                h("td", { class: "num" }, a.throughput_kbps === null ? "—" : t("kesehatan.agents.kbps", { n: fmt.number(a.throughput_kbps, 1) })),
                h("td", {}, hoursStrip(a), h("small", { class: "muted" }, t("kesehatan.agents.hours_total", { n: fmt.number(total, 1), days: a.days.length }))),
              );
            }),
          ),
        ),
      ),
    );
    return section;
  }

  function render() {
    const data = view.data;
    if (!data) return;
    clear(body).append(summary(data), agentSection(), cameraTable(data), missingList(data), siteTable(data));
  }

  let inFlight = null;
  function load() {
    inFlight ||= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  async function read() {
    reloadBtn.disabled = true;
    status.classList.remove("error");
    if (!view.data) clear(body).append(h("p", { class: "muted", id: "kesehatan-loading" }, t("kesehatan.loading")));
    try {
      const [health, agents] = await Promise.all([
        api.get("overview/health"),
        seesAgents ? api.get("agents/connectivity").catch((error) => ({ error })) : null,
      ]);
      view.data = health;
      view.agents = agents && !agents.error ? agents : null;
      view.agentsError = agents?.error || null;
      status.textContent = t("kesehatan.updated", { time: fmt.timeSeconds(view.data.generated_at) });
      render();
    } catch (error) {
      status.textContent = t("kesehatan.load_failed", { message: error.message });
      status.classList.add("error");
      if (!view.data) clear(body).append(h("div", { class: "error-box", role: "alert" }, h("p", {}, t("kesehatan.load_failed", { message: error.message })), h("button", { type: "button", onclick: () => load() }, t("shell.retry"))));
    } finally {
      reloadBtn.disabled = false;
    }
  }

  /** A camera that changes state is updated where it stands; the figures wait for the next read. */
  function onCamera(event) {
    const camera = view.data?.cameras.find((c) => c.camera_id === event.camera_id);
    if (!camera) {
      if (view.data) load();
      return;
    }
    Object.assign(camera, { state: event.state, reason: event.reason, reason_code: event.reason_code, since: event.since });
    view.data.counts = {};
    for (const c of view.data.cameras) view.data.counts[c.state] = (view.data.counts[c.state] || 0) + 1;
    render();
  }

  cleanup.push(ctx.live.on("camera", onCamera));
  cleanup.push(ctx.live.onStatus((s) => s === "restored" && load()));
  const timer = setInterval(load, RELOAD_MS);
  cleanup.push(() => clearInterval(timer));
  return load();
}

export function unmount() {
  for (const fn of cleanup) fn();
  cleanup = [];
}
