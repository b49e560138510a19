// Kepatuhan jam buka: today at a glance, a month as a heat map (offices x days), a day's
// evidence with its observation timeline, rankings, report downloads and admins' corrections.
// Sub-routes: #/kepatuhan (today), /bulan, /peringkat, /hari?site=ID&day=YYYY-MM-DD.
// A day an edge site's agent has not yet sent (`pending_sync`) is "menunggu data lokasi",
// hatched violet, not "tidak diketahui": it is recomputed when the data arrives.

import { h, clear, append, ensureCss } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const VIEWS = ["hari-ini", "bulan", "peringkat"];
const STATUSES = ["tepat_waktu", "terlambat", "terlambat_berat", "tidak_buka", "pulang_cepat", "tidak_diketahui", "pending_sync", "dikoreksi", "libur", "none"];
const REASONS = ["dinas_luar", "rapat_kantor_camat", "listrik_padam", "gangguan_jaringan", "bencana", "lainnya"];
const TODAY_GROUPS = [
  ["open", ["tepat_waktu", "terlambat", "terlambat_berat"]],
  ["belum_buka", ["belum_buka"]],
  ["tidak_buka", ["tidak_buka"]],
  ["tidak_diketahui", ["tidak_diketahui"]],
  ["libur", ["libur"]],
];

let cleanup = [];

/** Like h(), for SVG elements. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`);
const minutesToHhmm = (m) => (m === null || m === undefined ? "—" : `${String(Math.floor(m / 60)).padStart(2, "0")}.${String(Math.round(m % 60)).padStart(2, "0")}`);
const thisMonth = (today) => today.slice(0, 7);

export async function mount(root, ctx) {
  ensureCss("kepatuhan");
  const { t, fmt, api } = ctx;
  const view = ctx.rest[0] === "hari" ? "hari" : VIEWS.includes(ctx.rest[0]) ? ctx.rest[0] : "hari-ini";
  const tz = ctx.config.timezone_label;
  const wita = (hhmm) => (hhmm ? `${hhmm} ${tz}` : "—");
  const params = {
    month: /^\d{4}-\d{2}$/.test(ctx.params.month || "") ? ctx.params.month : thisMonth(fmt.today()),
    kec: ctx.params.kec || "",
    kel: ctx.params.kel || "",
  };
  const go = (sub, extra = {}) => ctx.navigate(sub ? `kepatuhan/${sub}` : "kepatuhan", { month: params.month, kec: params.kec, kel: params.kel, ...extra });
  const statusLabel = (st) => t(`kepatuhan.status.${st || "none"}`);

  const body = h("div", { class: "kp-body", id: "kp-body" });
  const tabs = h(
    "nav",
    { class: "kp-tabs", role: "tablist" },
    VIEWS.map((v) => h("button", { type: "button", role: "tab", class: v === view ? "active" : "", "aria-selected": v === view ? "true" : "false", "data-view": v, onclick: () => go(v === "hari-ini" ? "" : v) }, t(`kepatuhan.tab.${v.replace("-", "_")}`))),
  );
  root.append(h("h1", {}, t("kepatuhan.title")), tabs, body);

  function loading(el, text = t("shell.loading")) {
    return append(clear(el), [h("p", { class: "muted kp-loading" }, text)]);
  }
  function failed(el, error, retry) {
    append(clear(el), [
      h("div", { class: "error-box kp-error", role: "alert" }, h("p", {}, error.message), retry ? h("button", { type: "button", onclick: retry }, t("shell.retry")) : null),
    ]);
  }
  const simMark = () => h("span", { class: "sim-mark", title: t("kepatuhan.simulated_hint") }, t("shell.simulated"));

  // ---- area filters (scoped by the server: a lurah only gets their own) -----------------------
  async function areaFilters(onChange, { month = false } = {}) {
    const [kecs, kels] = await Promise.all([api.get("kecamatan"), api.get("kelurahan")]);
    const kelSelect = h("select", { id: "kp-kel", "aria-label": t("kepatuhan.filter.kelurahan") });
    const fillKel = () => {
      append(clear(kelSelect), [
        h("option", { value: "" }, t("kepatuhan.filter.all_kelurahan")),
        kels.filter((k) => !params.kec || k.kecamatan_code === params.kec).map((k) => h("option", { value: k.code, selected: k.code === params.kel }, k.name)),
      ]);
    };
    fillKel();
    kelSelect.addEventListener("change", () => {
      params.kel = kelSelect.value;
      onChange();
    });
    const kecSelect = h(
      "select",
      {
        id: "kp-kec",
        "aria-label": t("kepatuhan.filter.kecamatan"),
        onchange: (e) => {
          params.kec = e.target.value;
          params.kel = "";
          fillKel();
          onChange();
        },
      },
      h("option", { value: "" }, t(kecs.length > 1 ? "kepatuhan.filter.whole_city" : "kepatuhan.filter.my_area")),
      kecs.map((k) => h("option", { value: k.code, selected: k.code === params.kec }, k.name)),
    );
    const monthInput = month
      ? h("input", {
          type: "month",
          id: "kp-month",
          value: params.month,
          max: thisMonth(fmt.today()),
          "aria-label": t("kepatuhan.filter.month"),
          onchange: (e) => {
            if (!e.target.value) return;
            params.month = e.target.value;
            onChange();
          },
        })
      : null;
    return h(
      "div",
      { class: "toolbar kp-filters" },
      monthInput ? h("label", {}, `${t("kepatuhan.filter.month")} `, monthInput) : null,
      h("label", {}, `${t("kepatuhan.filter.kecamatan")} `, kecSelect),
      h("label", {}, `${t("kepatuhan.filter.kelurahan")} `, kelSelect),
    );
  }

  function reportScope() {
    if (params.kel) return `kelurahan:${params.kel}`;
    if (params.kec) return `kecamatan:${params.kec}`;
    return "city";
  }

  // ---- report downloads ------------------------------------------------------------------------
  function downloads() {
    const note = h("span", { class: "muted kp-dl-status", id: "kp-dl-status", role: "status" });
    const button = (format) =>
      h(
        "button",
        {
          type: "button",
          class: "kp-dl",
          "data-format": format,
          onclick: async (e) => {
            const btn = e.currentTarget;
            const all = btn.parentElement.querySelectorAll("button.kp-dl");
            all.forEach((b) => (b.disabled = true));
            const started = Date.now();
            const tick = () => (note.textContent = t("kepatuhan.download.preparing", { format: format.toUpperCase(), s: Math.round((Date.now() - started) / 1000) }));
            tick();
            const timer = setInterval(tick, 1000);
            note.className = "kp-dl-status busy";
            try {
              const response = await api.raw("reports", { period: params.month, scope: reportScope(), format, lang: ctx.lang });
              const blob = await response.blob();
              const name = (response.headers.get("content-disposition") || "").match(/filename="([^"]+)"/)?.[1] || `laporan-${params.month}.${format}`;
              const url = URL.createObjectURL(blob);
              const a = h("a", { href: url, download: name, hidden: true });
              document.body.append(a);
              a.click();
              a.remove();
              setTimeout(() => URL.revokeObjectURL(url), 60000);
              note.textContent = t("kepatuhan.download.done", { name, kb: fmt.number(blob.size / 1024, 0) });
              note.className = "kp-dl-status ok";
            } catch (error) {
              note.textContent = `${t("kepatuhan.download.failed")}: ${error.message}`;
              note.className = "kp-dl-status error";
            } finally {
              clearInterval(timer);
              all.forEach((b) => (b.disabled = false));
            }
          },
        },
        t(`kepatuhan.download.${format}`),
      );
    return h("div", { class: "kp-downloads" }, h("span", {}, t("kepatuhan.download.title")), ["xlsx", "pdf", "csv"].map(button), note);
  }

  // ---- today ------------------------------------------------------------------------------------
  async function showToday() {
    const filters = await areaFilters(() => go("", {}));
    const holder = h("div", { id: "kp-today" });
    append(clear(body), [filters, holder]);
    async function load() {
      if (!holder.firstChild) loading(holder);
      try {
        renderToday(holder, await api.get("compliance/today", { kecamatan: params.kec, kelurahan: params.kel }));
      } catch (error) {
        failed(holder, error, load);
      }
    }
    await load();
    const timer = setInterval(load, 120000); // states change with the clock (overdue), not only with events
    let pending = null;
    const offCamera = ctx.live.on("camera", () => {
      clearTimeout(pending);
      pending = setTimeout(load, 3000);
    });
    cleanup.push(() => clearInterval(timer), () => clearTimeout(pending), offCamera);
    return load;
  }

  function renderToday(holder, data) {
    const counts = data.counts;
    const sum = (keys) => keys.reduce((a, k) => a + (counts[k] || 0), 0);
    const total = data.sites.length;
    const tiles = TODAY_GROUPS.map(([group, keys]) =>
      h(
        "div",
        { class: `kp-tile tile-${group}`, "data-group": group },
        h("strong", { class: "n" }, String(sum(keys))),
        h("span", {}, t(`kepatuhan.today.${group}`)),
        group === "open" ? h("small", {}, t("kepatuhan.today.open_split", { on: counts.tepat_waktu || 0, late: (counts.terlambat || 0) + (counts.terlambat_berat || 0) })) : null,
        group === "belum_buka" ? h("small", {}, t("kepatuhan.today.overdue_n", { n: data.sites.filter((x) => x.why === "overdue").length })) : null,
      ),
    );
    const bar = s("svg", { class: "kp-stack", viewBox: `0 0 1000 18`, preserveAspectRatio: "none", role: "img", "aria-label": t("kepatuhan.today.bar") });
    let x = 0;
    for (const st of ["tepat_waktu", "terlambat", "terlambat_berat", "belum_buka", "tidak_buka", "tidak_diketahui", "libur"]) {
      const w = total ? (1000 * (counts[st] || 0)) / total : 0;
      if (w > 0) bar.append(s("rect", { x, y: 0, width: w, height: 18, class: `hm-${st}` }, s("title", {}, `${statusLabel(st)}: ${counts[st]}`)));
      x += w;
    }
    const rows = [...data.sites].sort((a, b) => order(a) - order(b) || (a.opened || "99").localeCompare(b.opened || "99") || a.name.localeCompare(b.name));
    const table = h(
      "table",
      { class: "kp-table", id: "kp-today-table" },
      h("thead", {}, h("tr", {}, [t("kepatuhan.col.office"), t("kepatuhan.col.kecamatan"), t("kepatuhan.col.state"), t("kepatuhan.col.schedule"), t("kepatuhan.col.opened"), t("kepatuhan.col.note"), t("kepatuhan.col.cameras")].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        rows.map((site) =>
          h(
            "tr",
            { "data-site": site.site_id, "data-state": site.state, class: "clickable", onclick: () => go("hari", { site: site.site_id, day: data.day }) },
            h("td", {}, site.name, site.simulated ? h("i", { class: "sim-dot-inline", title: t("shell.simulated") }) : null),
            h("td", {}, site.kecamatan_name || "—"),
            h("td", {}, h("span", { class: `state state-${site.state}${site.why === "data_pending" ? " state-pending_sync" : ""}` }, site.why === "data_pending" ? statusLabel("pending_sync") : statusLabel(site.state))),
            h("td", {}, site.scheduled_open ? wita(site.scheduled_open) : "—"),
            h("td", {}, wita(site.opened)),
            h("td", { class: "muted" }, todayNote(site)),
            h("td", {}, site.cameras ? `${site.cameras_online}/${site.cameras}` : "—"),
          ),
        ),
      ),
    );
    append(clear(holder), [
      h("p", { class: "muted" }, t("kepatuhan.today.as_of", { date: fmt.dateLabel(data.day), time: data.now_local, total })),
      data.sites.some((x) => x.simulated) ? h("p", { class: "kp-sim-note" }, simMark(), " ", t("kepatuhan.today.simulated_rows")) : null,
      h("div", { class: "kp-tiles" }, tiles),
      bar,
      openingStrip(data),
      total ? table : h("div", { class: "empty" }, t("kepatuhan.today.no_sites")),
    ]);
  }

  function order(site) {
    return ["terlambat_berat", "tidak_buka", "belum_buka", "terlambat", "tidak_diketahui", "tepat_waktu", "libur"].indexOf(site.state);
  }

  function todayNote(site) {
    if (site.why === "opened" && site.late_minutes) return t("kepatuhan.today.late_by", { n: site.late_minutes });
    if (site.why === "overdue") return t("kepatuhan.today.overdue", { n: site.overdue_minutes });
    if (site.why === "holiday") return site.holiday || "";
    if (["no_camera", "not_connected", "data_pending", "cameras_offline", "before_schedule"].includes(site.why)) return t(`kepatuhan.why.${site.why}`);
    return site.reason || "";
  }

  /** Opening times of today's offices on a 06.00–11.00 axis, with the schedule line. */
  function openingStrip(data) {
    const opened = data.sites.filter((x) => x.opened);
    const sched = data.sites.find((x) => x.scheduled_open)?.scheduled_open;
    const W = 1000, H = 70, lo = 6 * 60, hi = 11 * 60;
    const px = (hhmm) => {
      const [hh, mm] = hhmm.split(".").map(Number);
      return ((Math.min(hi, Math.max(lo, hh * 60 + mm)) - lo) / (hi - lo)) * W;
    };
    const svg = s("svg", { class: "kp-strip", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("kepatuhan.today.strip") });
    for (let m = lo; m <= hi; m += 30) {
      const xx = ((m - lo) / (hi - lo)) * W;
      svg.append(s("line", { x1: xx, x2: xx, y1: 8, y2: H - 16, class: "tick" }), s("text", { x: xx, y: H - 3, class: "tick-label", "text-anchor": m === lo ? "start" : m === hi ? "end" : "middle" }, minutesToHhmm(m)));
    }
    if (sched) svg.append(s("line", { x1: px(sched), x2: px(sched), y1: 2, y2: H - 16, class: "schedule" }), s("text", { x: px(sched) + 4, y: 12, class: "schedule-label" }, t("kepatuhan.schedule_at", { time: wita(sched) })));
    opened.forEach((site, i) => {
      svg.append(s("circle", { cx: px(site.opened), cy: 22 + (i % 6) * 6, r: 5, class: `dot hm-${site.state}` }, s("title", {}, `${site.name}: ${t("kepatuhan.opened_at", { time: wita(site.opened) })}`)));
    });
    return h("figure", { class: "kp-figure" }, svg, h("figcaption", { class: "muted" }, opened.length ? t("kepatuhan.today.strip_caption", { n: opened.length }) : t("kepatuhan.today.strip_empty")));
  }

  // ---- month heat map -------------------------------------------------------------------------
  async function showMonth() {
    const filters = await areaFilters(() => go("bulan"), { month: true });
    const holder = h("div", { id: "kp-month-view" });
    append(clear(body), [filters, downloads(), holder]);
    async function load() {
      loading(holder);
      try {
        renderMonth(holder, await api.get("compliance/month", { month: params.month, kecamatan: params.kec, kelurahan: params.kel }));
      } catch (error) {
        failed(holder, error, load);
      }
    }
    await load();
    return load;
  }

  function cellStatus(cell) {
    if (!cell) return "future";
    if (cell.pending_sync && cell.working) return "pending_sync";
    if (cell.effective) return cell.effective;
    return cell.working ? "none" : "libur";
  }

  function cellTitle(site, day, cell) {
    const parts = [`${site.name} — ${fmt.dateLabel(day)}`];
    if (!cell) return parts.join("\n");
    const st = cellStatus(cell);
    if (st === "pending_sync") {
      parts.push(`${statusLabel("pending_sync")} — ${t("kepatuhan.pending.hint")}`);
      if (cell.status) parts.push(`${t("kepatuhan.pending.provisional")}: ${statusLabel(cell.effective || cell.status)}`);
    } else parts.push(cell.effective === "dikoreksi" ? `${statusLabel("dikoreksi")} (${t(`kepatuhan.reason.${cell.correction}`)}); ${t("kepatuhan.computed")}: ${statusLabel(cell.status)}` : statusLabel(st));
    if (cell.scheduled) parts.push(t("kepatuhan.schedule_at", { time: wita(cell.scheduled) }));
    if (cell.opened) parts.push(t("kepatuhan.opened_at", { time: wita(cell.opened) }) + (cell.late_minutes ? ` (${t("kepatuhan.today.late_by", { n: cell.late_minutes })})` : ""));
    if (cell.holiday) parts.push(cell.holiday);
    if (cell.simulated) parts.push(t("shell.simulated"));
    return parts.join("\n");
  }

  function renderMonth(holder, data) {
    if (!data.sites.length) {
      append(clear(holder), [h("div", { class: "empty" }, t("kepatuhan.month.no_sites"))]);
      return;
    }
    const CW = 26, CH = 18, LEFT = 250, TOP = 34, RIGHT = 96;
    const groups = [];
    for (const site of data.sites) {
      const name = site.kecamatan_name || site.kecamatan_code || "—";
      if (!groups.length || groups.at(-1).name !== name) groups.push({ name, sites: [] });
      groups.at(-1).sites.push(site);
    }
    const rowsCount = data.sites.length + groups.length;
    const width = LEFT + data.days.length * CW + RIGHT;
    const height = TOP + rowsCount * CH + 4;
    const svg = s("svg", { class: "kp-heatmap", id: "kp-heatmap", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("kepatuhan.month.aria", { month: data.month }) });
    svg.append(s("defs", {}, s("pattern", { id: "kp-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, s("rect", { width: 6, height: 6, class: "hatch-bg" }), s("rect", { width: 3, height: 6, class: "hatch-fg" }))));
    data.days.forEach((day, i) => {
      const d = new Date(`${day}T12:00:00Z`);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      const x = LEFT + i * CW + CW / 2;
      svg.append(
        s("text", { x, y: 14, class: `day-label${weekend ? " weekend" : ""}${day === data.today ? " today" : ""}`, "text-anchor": "middle" }, String(d.getUTCDate())),
        s("text", { x, y: 28, class: `dow-label${weekend ? " weekend" : ""}`, "text-anchor": "middle" }, fmt.dateLabel(day, { weekday: "narrow" })),
      );
    });
    const tally = Object.fromEntries(STATUSES.map((k) => [k, 0]));
    let y = TOP;
    for (const group of groups) {
      svg.append(s("text", { x: 4, y: y + CH - 5, class: "group-label" }, group.name));
      y += CH;
      for (const site of group.sites) {
        svg.append(s("text", { x: 12, y: y + CH - 5, class: "site-label" }, s("title", {}, site.name), site.name.length > 32 ? `${site.name.slice(0, 31)}…` : site.name));
        let good = 0, judged = 0;
        site.cells.forEach((cell, i) => {
          const st = cellStatus(cell);
          if (cell) tally[st] = (tally[st] || 0) + 1;
          if (cell && cell.working && !cell.pending_sync && cell.effective && cell.effective !== "tidak_diketahui") {
            judged += 1;
            if (cell.effective === "tepat_waktu" || cell.effective === "dikoreksi") good += 1;
          }
          const day = data.days[i];
          const open = cell && (cell.status || cell.pending_sync);
          const rect = s(
            "rect",
            {
              x: LEFT + i * CW + 1,
              y: y + 1,
              width: CW - 2,
              height: CH - 2,
              rx: 2,
              class: `cell hm-${st}${cell?.simulated ? " sim" : ""}`,
              dataset: { site: site.site_id, day, status: st },
              tabindex: open ? 0 : null,
              onclick: open ? () => go("hari", { site: site.site_id, day }) : null,
              onkeydown: open ? (e) => e.key === "Enter" && go("hari", { site: site.site_id, day }) : null,
            },
            s("title", {}, cellTitle(site, day, cell)),
          );
          svg.append(rect);
          if (cell?.simulated) svg.append(s("circle", { cx: LEFT + i * CW + CW - 6, cy: y + 5, r: 2, class: "sim-dot" }));
        });
        const rate = judged ? good / judged : null;
        const bx = LEFT + data.days.length * CW + 8;
        svg.append(
          s("rect", { x: bx, y: y + 4, width: 40, height: CH - 8, class: "rate-bg" }),
          s("rect", { x: bx, y: y + 4, width: rate === null ? 0 : 40 * rate, height: CH - 8, class: "rate-fg" }),
          s("text", { x: bx + 44, y: y + CH - 5, class: "rate-label" }, pct(rate)),
        );
        y += CH;
      }
    }
    const legend = h(
      "div",
      { class: "kp-legend", id: "kp-legend" },
      STATUSES.map((st) => h("span", { class: "kp-legend-item" }, h("i", { class: `swatch hm-${st}` }), `${statusLabel(st)} `, h("b", {}, String(tally[st] || 0)))),
      h("span", { class: "kp-legend-item" }, h("i", { class: "swatch sim-swatch" }), t("shell.simulated")),
    );
    const anySim = data.sites.some((x) => x.cells.some((c) => c?.simulated));
    append(clear(holder), [
      h("p", { class: "muted" }, t("kepatuhan.month.caption", { n: data.sites.length, month: fmt.dateLabel(`${data.month}-01`, { month: "long", year: "numeric" }) })),
      anySim ? h("p", { class: "kp-sim-note" }, simMark(), " ", t("kepatuhan.simulated_hint")) : null,
      legend,
      h("div", { class: "kp-scroll" }, svg),
      h("p", { class: "muted" }, t("kepatuhan.month.click_hint")),
    ]);
  }

  // ---- rankings --------------------------------------------------------------------------------
  async function showRanking() {
    const filters = await areaFilters(() => go("peringkat"), { month: true });
    const holder = h("div", { id: "kp-ranking" });
    append(clear(body), [filters, downloads(), holder]);
    async function load() {
      loading(holder);
      try {
        renderRanking(holder, await api.get("reports", { period: params.month, scope: reportScope(), format: "json", lang: ctx.lang }));
      } catch (error) {
        failed(holder, error, load);
      }
    }
    await load();
    return load;
  }

  function rateBar(rate) {
    return h("span", { class: "kp-bar" }, h("span", { style: { width: `${Math.round((rate || 0) * 100)}%` } }), h("em", {}, pct(rate)));
  }

  function trend(tr) {
    if (!tr || tr.rate_delta === null || tr.rate_delta === undefined) return "—";
    const d = Math.round(tr.rate_delta);
    return h("span", { class: d > 0 ? "up" : d < 0 ? "down" : "" }, `${d > 0 ? "▲" : d < 0 ? "▼" : "="} ${Math.abs(d)} ${t("kepatuhan.rank.points")}`);
  }

  function renderRanking(holder, report) {
    const byId = new Map(report.sites.map((x) => [x.site_id, x]));
    const ranked = report.ranking.map((id) => byId.get(id)).filter(Boolean);
    const insufficient = report.insufficient.map((id) => byId.get(id)).filter(Boolean);
    const total = report.total.stats;
    const cols = [t("kepatuhan.rank.rank"), t("kepatuhan.col.office"), t("kepatuhan.col.kecamatan"), t("kepatuhan.rank.corrected"), t("kepatuhan.rank.raw"), t("kepatuhan.rank.avg_open"), t("kepatuhan.rank.late"), t("kepatuhan.rank.unknown"), t("kepatuhan.rank.trend")];
    const row = (x) =>
      h(
        "tr",
        { "data-site": x.site_id },
        h("td", { class: "num" }, x.rank ?? "—"),
        h("td", {}, x.name),
        h("td", {}, x.kecamatan),
        h("td", {}, rateBar(x.stats.corrected_rate)),
        h("td", { class: "num" }, pct(x.stats.on_time_rate)),
        h("td", { class: "num" }, x.stats.avg_open === null ? "—" : wita(minutesToHhmm(x.stats.avg_open))),
        h("td", { class: "num" }, `${x.stats.late}`),
        h("td", { class: "num" }, `${x.stats.unknown}`),
        h("td", {}, trend(x.trend)),
      );
    const groups = h(
      "table",
      { class: "kp-table kp-groups" },
      h("thead", {}, h("tr", {}, [t("kepatuhan.col.kecamatan"), t("kepatuhan.rank.offices"), t("kepatuhan.rank.corrected"), t("kepatuhan.rank.avg_open"), t("kepatuhan.rank.trend")].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        report.groups.map((g) => h("tr", {}, h("td", {}, g.name), h("td", { class: "num" }, g.sites), h("td", {}, rateBar(g.stats.corrected_rate)), h("td", { class: "num" }, g.stats.avg_open === null ? "—" : wita(minutesToHhmm(g.stats.avg_open))), h("td", {}, trend(g.trend)))),
      ),
    );
    append(clear(holder), [
      h(
        "div",
        { class: "kp-tiles" },
        h("div", { class: "kp-tile tile-open" }, h("strong", { class: "n" }, pct(total.corrected_rate)), h("span", {}, t("kepatuhan.rank.corrected"))),
        h("div", { class: "kp-tile" }, h("strong", { class: "n" }, total.avg_open === null ? "—" : minutesToHhmm(total.avg_open)), h("span", {}, t("kepatuhan.rank.avg_open"))),
        h("div", { class: "kp-tile" }, h("strong", { class: "n" }, String(total.working_days)), h("span", {}, t("kepatuhan.rank.working_days"))),
        h("div", { class: "kp-tile tile-tidak_diketahui" }, h("strong", { class: "n" }, String(total.unknown)), h("span", {}, t("kepatuhan.status.tidak_diketahui"))),
      ),
      h("p", { class: "muted" }, t("kepatuhan.rank.caption", { period: report.period.title, scope: report.scope.name })),
      ranked.length
        ? h("table", { class: "kp-table kp-rank", id: "kp-rank-table" }, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))), h("tbody", {}, ranked.map(row)))
        : h("div", { class: "empty" }, t("kepatuhan.rank.none")),
      insufficient.length ? [h("h2", {}, t("kepatuhan.rank.insufficient")), h("p", { class: "muted" }, t("kepatuhan.rank.insufficient_hint")), h("table", { class: "kp-table kp-insufficient" }, h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))), h("tbody", {}, insufficient.map(row)))] : null,
      report.groups.length > 1 ? [h("h2", {}, t("kepatuhan.rank.by_kecamatan")), groups] : null,
    ]);
  }

  // ---- one day's evidence --------------------------------------------------------------------
  async function showDay() {
    const siteId = Number(ctx.params.site);
    const day = ctx.params.day;
    const holder = h("div", { id: "kp-day" });
    append(clear(body), [h("p", {}, h("a", { href: "#", id: "kp-back", onclick: (e) => (e.preventDefault(), history.length > 1 ? history.back() : go("bulan")) }, `← ${t("kepatuhan.day.back")}`)), holder]);
    if (!siteId || !/^\d{4}-\d{2}-\d{2}$/.test(day || "")) {
      failed(holder, new Error(t("kepatuhan.day.bad_link")));
      return null;
    }
    let timeline = null;
    let sync = null;
    async function load() {
      loading(holder);
      try {
        sync = await api.get(`verdicts/${siteId}/${day}/status`);
        if (!sync.has_verdict) {
          renderNoVerdict(holder, sync);
          return;
        }
        const v = await api.get(`verdicts/${siteId}/${day}`);
        timeline = v.timeline;
        renderDay(holder, v);
      } catch (error) {
        failed(holder, error, load);
      }
    }
    function pendingBox(agent) {
      const facts = [];
      if (agent?.last_contact) facts.push(t("kepatuhan.pending.last_contact", { time: fmt.dateTimeLabel(agent.last_contact) }));
      facts.push(agent?.complete_until ? t("kepatuhan.pending.complete_until", { time: fmt.dateTimeLabel(agent.complete_until) }) : t("kepatuhan.pending.never_complete"));
      if (agent?.backlog_items) facts.push(t("kepatuhan.pending.backlog", { n: fmt.number(agent.backlog_items) }));
      return h(
        "div",
        { class: "kp-pending", id: "kp-day-pending", role: "status" },
        h("strong", {}, h("i", { class: "swatch hm-pending_sync" }), " ", statusLabel("pending_sync")),
        h("p", {}, t("kepatuhan.pending.day_hint")),
        h("p", { class: "muted" }, facts.join(" · ")),
      );
    }
    function renderNoVerdict(el, st) {
      append(clear(el), [
        h("header", { class: "kp-day-head" }, h("h2", {}, st.site_name), h("span", { class: "muted" }, fmt.dateLabel(st.day))),
        st.pending_sync ? pendingBox(st.agent) : h("p", { class: "muted", id: "kp-day-none" }, t("kepatuhan.day.no_verdict")),
      ]);
    }
    function renderDay(el, v) {
      v.timeline = v.timeline || timeline;
      const sim = v.simulated || v.detail?.simulated;
      const corrected = v.effective_status === "dikoreksi";
      const facts = [
        [t("kepatuhan.day.schedule"), v.working ? `${v.local.scheduled_open || "—"} – ${v.local.scheduled_close || "—"}` : v.detail?.schedule?.reason || statusLabel("libur")],
        [t("kepatuhan.day.opened"), v.local.opened || "—"],
        [t("kepatuhan.day.closed"), v.local.closed || "—"],
        [t("kepatuhan.day.late"), v.late_minutes ? t("kepatuhan.minutes", { n: v.late_minutes }) : "—"],
        [t("kepatuhan.day.staffed"), v.staffed_minutes === null ? "—" : t("kepatuhan.minutes", { n: v.staffed_minutes })],
        [t("kepatuhan.day.coverage"), pct(v.service_coverage ?? v.day_coverage)],
        [t("kepatuhan.day.version"), t("kepatuhan.day.version_text", { v: v.version, at: fmt.dateTimeLabel(v.computed_at) })],
      ];
      append(clear(el), [
        h(
          "header",
          { class: "kp-day-head" },
          h("h2", {}, v.site_name),
          h("span", { class: "muted" }, fmt.dateLabel(v.day)),
          h("span", { class: `state state-${v.status}`, id: "kp-day-status", title: t("kepatuhan.computed") }, v.label),
          corrected ? h("span", { class: "state state-dikoreksi", id: "kp-day-effective" }, v.effective_label) : null,
          sim ? simMark() : null,
        ),
        v.pending_sync ? pendingBox(v.agent || sync?.agent) : null,
        h("p", { class: "kp-reason", id: "kp-day-reason" }, v.reason),
        h("dl", { class: "kp-facts" }, facts.map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
        h("h3", {}, t("kepatuhan.day.timeline")),
        v.timeline ? dayTimeline(v) : h("p", { class: "muted" }, t("kepatuhan.day.no_timeline")),
        h("h3", {}, t("kepatuhan.day.evidence")),
        h("div", { class: "kp-evidence" }, presence(v.evidence.first_presence, "first"), presence(v.evidence.last_presence, "last")),
        h("h3", {}, t("kepatuhan.day.corrections")),
        corrections(v),
        ctx.can("admin") ? correctionForm(v) : h("p", { class: "muted" }, t("kepatuhan.correct.admin_only")),
        v.history.length ? [h("h3", {}, t("kepatuhan.day.history")), historyList(v)] : null,
      ]);
    }
    function presence(p, which) {
      const title = t(`kepatuhan.day.${which}_presence`);
      if (!p) return h("figure", { class: "kp-shot none" }, h("figcaption", {}, title), h("p", { class: "muted" }, t("kepatuhan.day.no_presence")));
      const t0 = new Date(p.minute);
      return h(
        "figure",
        { class: "kp-shot", "data-which": which },
        p.has_recording ? h("img", { src: p.snapshot_url, alt: title, loading: "lazy" }) : h("div", { class: "no-rec" }, t("kepatuhan.day.no_recording")),
        h(
          "figcaption",
          {},
          h("strong", {}, `${title}: ${p.local}`),
          ` · ${p.camera_name || p.camera_id} · `,
          h("a", { href: `#/putar?${new URLSearchParams({ camera: p.camera_id, t: new Date(t0.getTime() - 120000).toISOString() })}` }, t("kepatuhan.day.playback")),
        ),
      );
    }
    function corrections(v) {
      if (!v.corrections.length) return h("p", { class: "muted", id: "kp-no-corrections" }, t("kepatuhan.day.no_corrections"));
      const latest = v.correction?.id;
      return h(
        "ul",
        { class: "kp-corrections", id: "kp-corrections" },
        v.corrections.map((c) =>
          h(
            "li",
            { class: c.id === latest ? "applies" : "" },
            h("strong", {}, c.reason_label),
            ` — ${c.note} · `,
            h("span", { class: "muted" }, t("kepatuhan.correct.by", { user: c.created_by, at: fmt.dateTimeLabel(c.created_at), status: statusLabel(c.verdict_status) })),
            c.id === latest ? h("span", { class: "state state-dikoreksi" }, t("kepatuhan.correct.applies")) : null,
          ),
        ),
      );
    }
    function correctionForm(v) {
      const reason = h("select", { id: "kp-correct-reason", required: true }, h("option", { value: "" }, t("kepatuhan.correct.choose")), REASONS.map((r) => h("option", { value: r }, t(`kepatuhan.reason.${r}`))));
      const note = h("input", { id: "kp-correct-note", required: true, minlength: 3, maxlength: 2000, placeholder: t("kepatuhan.correct.note_hint") });
      const error = h("p", { class: "kp-form-error", role: "alert" });
      const submit = h("button", { type: "submit", class: "primary" }, t("kepatuhan.correct.submit"));
      return h(
        "form",
        {
          class: "kp-correct card",
          id: "kp-correct",
          onsubmit: async (e) => {
            e.preventDefault();
            submit.disabled = true;
            error.textContent = "";
            try {
              const out = await api.post(`verdicts/${v.site_id}/${v.day}/corrections`, { reason: reason.value, note: note.value.trim() });
              ctx.toast(t("kepatuhan.correct.saved"), "ok");
              renderDay(holder, out);
            } catch (failure) {
              error.textContent = failure.message;
              submit.disabled = false;
            }
          },
        },
        h("h4", {}, t("kepatuhan.correct.title")),
        h("p", { class: "muted" }, t("kepatuhan.correct.hint")),
        h("label", {}, t("kepatuhan.correct.reason"), reason),
        h("label", {}, t("kepatuhan.correct.note"), note),
        submit,
        error,
      );
    }
    function historyList(v) {
      return h(
        "ul",
        { class: "kp-history" },
        v.history.map((x) => h("li", {}, h("span", { class: `state state-${x.status}` }, x.label), ` v${x.version} · ${fmt.dateTimeLabel(x.computed_at)} → ${fmt.dateTimeLabel(x.superseded_at)} · ${x.change_label} · `, h("span", { class: "muted" }, x.reason))),
      );
    }
    await load();
    return load;
  }

  /** The day's observations per camera: people per minute, lights, unseen time, tampering; the
   * schedule and the seen opening and closing as lines. */
  function dayTimeline(v) {
    const tl = v.timeline;
    const W = 1200, LEFT = 130, ROW = 46, TOP = 34;
    const start = new Date(tl.start).getTime();
    const lo = 5 * 60, hi = 21 * 60; // the office day; the night is in the raw data
    const span = hi - lo;
    const x = (i) => LEFT + ((i - lo) / span) * (W - LEFT - 10);
    const minuteOf = (iso) => (iso ? Math.round((new Date(iso).getTime() - start) / 60000) : null);
    const height = TOP + tl.cameras.length * ROW + 24;
    const svg = s("svg", { class: "kp-timeline", id: "kp-timeline", viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": t("kepatuhan.day.timeline") });
    for (let m = lo; m <= hi; m += 60) svg.append(s("line", { x1: x(m), x2: x(m), y1: TOP - 4, y2: height - 20, class: "tick" }), s("text", { x: x(m), y: height - 6, class: "tick-label", "text-anchor": m === hi ? "end" : "middle" }, minutesToHhmm(m)));
    const runs = (values, test, cls, y, hgt, label) => {
      let from = null;
      for (let i = lo; i <= hi; i++) {
        const on = i < hi && test(values[i], i);
        if (on && from === null) from = i;
        if (!on && from !== null) {
          svg.append(s("rect", { x: x(from), y, width: Math.max(1, x(i) - x(from)), height: hgt, class: cls }, s("title", {}, `${label} ${minutesToHhmm(from)}–${minutesToHhmm(i)}`)));
          from = null;
        }
      }
    };
    // Minutes after the agent's "complete up to": not unseen, only not here yet.
    const waitFrom = v.pending_sync && v.agent ? (v.agent.complete_until ? minuteOf(v.agent.complete_until) : lo) : null;
    const waiting = waitFrom !== null && waitFrom < hi;
    if (waiting) {
      const from = Math.max(lo, waitFrom);
      svg.append(
        s("defs", {}, s("pattern", { id: "kp-hatch-tl", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, s("rect", { width: 8, height: 8, class: "hatch-bg" }), s("rect", { width: 3, height: 8, class: "hatch-fg" }))),
        s("rect", { x: x(from), y: TOP, width: x(hi) - x(from), height: tl.cameras.length * ROW - 8, class: "waiting", id: "kp-timeline-waiting" }, s("title", {}, `${statusLabel("pending_sync")} ${minutesToHhmm(from)}–${minutesToHhmm(hi)}`)),
      );
    }
    tl.cameras.forEach((cam, r) => {
      const y0 = TOP + r * ROW;
      svg.append(s("text", { x: 4, y: y0 + ROW / 2, class: "cam-label" }, cam.name.length > 16 ? `${cam.name.slice(0, 15)}…` : cam.name));
      const unseen = waiting ? (c, i) => (c === null || c < 30) && i < waitFrom : (c) => c === null || c < 30;
      runs(cam.coverage_seconds, unseen, "unseen", y0, ROW - 8, t("kepatuhan.tl.unseen"));
      runs(cam.lights_on, (l) => l === true, "lights", y0 + ROW - 12, 4, t("kepatuhan.tl.lights"));
      runs(cam.tamper, (tp) => tp === true, "tamper", y0, 4, t("kepatuhan.tl.tamper"));
      const peak = Math.max(3, ...cam.people.slice(lo, hi).map((p) => p || 0));
      const path = [];
      for (let i = lo; i < hi; i++) {
        const p = cam.people[i];
        if (!p) continue;
        const hgt = ((ROW - 16) * p) / peak;
        path.push(`M${x(i).toFixed(1)} ${(y0 + ROW - 14).toFixed(1)}v${(-hgt).toFixed(1)}h${(x(i + 1) - x(i)).toFixed(2)}v${hgt.toFixed(1)}z`);
      }
      if (path.length) svg.append(s("path", { d: path.join(""), class: "people" }, s("title", {}, t("kepatuhan.tl.people", { n: peak }))));
    });
    const mark = (iso, cls, label, row) => {
      const m = minuteOf(iso);
      if (m === null || m < lo || m > hi) return;
      const right = x(m) > W - 160;
      svg.append(
        s("line", { x1: x(m), x2: x(m), y1: row ? 16 : 4, y2: height - 20, class: cls }),
        s("text", { x: x(m) + (right ? -4 : 4), y: row ? 26 : 12, class: `${cls}-label`, "text-anchor": right ? "end" : "start" }, label),
      );
    };
    mark(v.scheduled_open, "sched", t("kepatuhan.tl.sched_open", { time: v.local.scheduled_open || "" }), 0);
    mark(v.scheduled_close, "sched", t("kepatuhan.tl.sched_close"), 0);
    mark(v.opened_at, "seen", t("kepatuhan.tl.opened", { time: v.local.opened || "" }), 1);
    mark(v.closed_at, "seen", t("kepatuhan.tl.closed", { time: v.local.closed || "" }), 1);
    return h(
      "figure",
      { class: "kp-figure" },
      h("div", { class: "kp-scroll" }, svg),
      h(
        "figcaption",
        { class: "kp-legend" },
        h("span", { class: "kp-legend-item" }, h("i", { class: "swatch people-swatch" }), t("kepatuhan.tl.people_legend")),
        h("span", { class: "kp-legend-item" }, h("i", { class: "swatch lights-swatch" }), t("kepatuhan.tl.lights")),
        h("span", { class: "kp-legend-item" }, h("i", { class: "swatch unseen-swatch" }), t("kepatuhan.tl.unseen")),
        h("span", { class: "kp-legend-item" }, h("i", { class: "swatch tamper-swatch" }), t("kepatuhan.tl.tamper")),
        waiting ? h("span", { class: "kp-legend-item" }, h("i", { class: "swatch hm-pending_sync" }), statusLabel("pending_sync")) : null,
      ),
    );
  }

  // ---- mount ------------------------------------------------------------------------------------
  loading(body);
  let reload = null;
  try {
    reload = await { "hari-ini": showToday, bulan: showMonth, peringkat: showRanking, hari: showDay }[view]();
  } catch (error) {
    failed(body, error, () => go(view === "hari-ini" ? "" : view, view === "hari" ? { site: ctx.params.site, day: ctx.params.day } : {}));
  }
  cleanup.push(
    ctx.live.onStatus((st) => {
      if (st === "restored" && reload) reload();
    }),
  );
}

export function unmount() {
  for (const fn of cleanup) {
    try {
      fn();
    } catch (error) {
      console.warn(error);
    }
  }
  cleanup = [];
}
