// Peringatan: the live alarm panel. Incidents arrive through the live `incident` events (no
// polling), new ones are highlighted and beep; the control room (admin, operator) acknowledges
// with a note, assigns and resolves from here, everyone else reads.

import { h, clear, append, ensureCss } from "../dom.js";

const KINDS = ["intrusion", "tamper", "camera_offline"];
const TAMPER = ["covered", "moved", "defocused", "video_loss"];
const FILTERS = ["active", "new", "acknowledged", "resolved", "all"];
const MUTE_KEY = "pantau.alarms.muted";
const ASSIGNEES = ["Satpol PP", "Satpam kantor", "Teknisi Diskominfo", "Lurah", "Polsek"];
const FRESH_MS = 15000;

let cleanup = [];

/** A short two-tone beep from WebAudio; browsers only start audio after a user gesture. */
class Siren {
  constructor() {
    this.muted = localStorage.getItem(MUTE_KEY) === "1";
    this.ctx = null;
    this.listeners = new Set();
  }
  context() {
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      this.ctx = new Ctx();
      this.ctx.onstatechange = () => this.changed();
    }
    return this.ctx;
  }
  get blocked() {
    const ctx = this.context();
    return !!ctx && ctx.state !== "running";
  }
  async unlock() {
    const ctx = this.context();
    if (ctx && ctx.state !== "running") {
      try {
        await ctx.resume();
      } catch (error) {
        console.warn("audio", error);
      }
    }
    this.changed();
  }
  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    this.changed();
  }
  changed() {
    for (const fn of this.listeners) fn();
  }
  beep() {
    const ctx = this.context();
    if (this.muted || !ctx || ctx.state !== "running") return false;
    const t0 = ctx.currentTime;
    [880, 660, 880].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.12, t0 + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + i * 0.18);
      osc.stop(t0 + i * 0.18 + 0.17);
    });
    return true;
  }
  close() {
    if (this.ctx) this.ctx.close().catch(() => {});
    this.listeners.clear();
  }
}

export async function mount(root, ctx) {
  ensureCss("peringatan");
  const { t, fmt, api } = ctx;
  const canAct = ctx.can("admin", "operator");
  const state = {
    filter: FILTERS.includes(ctx.params.state) ? ctx.params.state : "active",
    kind: KINDS.includes(ctx.params.kind) ? ctx.params.kind : "",
    items: new Map(),
    known: new Set(),
    fresh: new Map(),
    forms: new Map(), // incident id -> {mode, text}
    sites: new Map(),
    cameras: new Map(),
    beeps: 0,
  };
  const siren = new Siren();
  window.__pantauAlarms = state; // read by tests and by curious operators in the console

  const list = h("div", { class: "alarm-list", id: "alarm-list", "aria-live": "polite" });
  const counts = h("div", { class: "alarm-counts", id: "alarm-counts" });
  const status = h("p", { class: "muted", id: "alarm-status" }, t("shell.loading"));
  const soundButton = h("button", { type: "button", id: "alarm-sound", onclick: () => siren.setMuted(!siren.muted) });
  const unlockButton = h("button", { type: "button", id: "alarm-unlock", class: "primary unlock", onclick: () => siren.unlock() }, t("peringatan.sound.unlock"));
  const dialog = h("dialog", { class: "alarm-dialog", id: "alarm-dialog", onclick: (e) => e.target === dialog && dialog.close() });

  function renderSound() {
    soundButton.textContent = siren.muted ? t("peringatan.sound.off") : t("peringatan.sound.on");
    soundButton.classList.toggle("muted-sound", siren.muted);
    soundButton.setAttribute("aria-pressed", siren.muted ? "false" : "true");
    unlockButton.hidden = siren.muted || !siren.blocked;
  }
  siren.listeners.add(renderSound);
  const unlockOnGesture = () => siren.unlock();
  document.addEventListener("pointerdown", unlockOnGesture, { once: true });
  document.addEventListener("keydown", unlockOnGesture, { once: true });
  cleanup.push(() => {
    document.removeEventListener("pointerdown", unlockOnGesture);
    document.removeEventListener("keydown", unlockOnGesture);
    siren.close();
  });

  const stateSelect = h(
    "select",
    {
      id: "alarm-filter-state",
      "aria-label": t("peringatan.filter.state"),
      onchange: (e) => {
        state.filter = e.target.value;
        load();
      },
    },
    FILTERS.map((f) => h("option", { value: f, selected: f === state.filter }, t(`peringatan.filter.${f}`))),
  );
  const kindSelect = h(
    "select",
    {
      id: "alarm-filter-kind",
      "aria-label": t("peringatan.filter.kind"),
      onchange: (e) => {
        state.kind = e.target.value;
        load();
      },
    },
    h("option", { value: "" }, t("peringatan.filter.all_kinds")),
    KINDS.map((k) => h("option", { value: k, selected: k === state.kind }, t(`peringatan.kind.${k}`))),
  );

  append(root, [
    h("h1", {}, t("peringatan.title")),
    h(
      "div",
      { class: "toolbar" },
      h("label", {}, `${t("peringatan.filter.state")} `, stateSelect),
      h("label", {}, `${t("peringatan.filter.kind")} `, kindSelect),
      counts,
      h("span", { class: "spacer" }),
      unlockButton,
      soundButton,
    ),
    canAct ? null : h("p", { class: "muted read-only", id: "alarm-read-only" }, t("peringatan.read_only")),
    status,
    list,
    dialog,
    h("datalist", { id: "alarm-assignees" }, ASSIGNEES.map((a) => h("option", { value: a }))),
  ]);
  renderSound();

  // ---- names of sites and cameras (incidents carry ids) ---------------------------------------
  async function loadNames() {
    const [sites, cameras] = await Promise.all([api.get("sites"), api.get("cameras")]);
    for (const s of sites) state.sites.set(s.id, s);
    for (const c of cameras) state.cameras.set(c.id, c);
  }

  // ---- filters ------------------------------------------------------------------------------
  function matches(inc) {
    if (state.kind && inc.kind !== state.kind) return false;
    if (state.filter === "all") return true;
    if (state.filter === "active") return inc.state !== "resolved";
    return inc.state === state.filter;
  }

  async function load() {
    status.textContent = t("shell.loading");
    status.className = "muted";
    status.hidden = false;
    const query = new URLSearchParams(Object.entries({ state: state.filter === "active" ? "" : state.filter, kind: state.kind }).filter(([, v]) => v));
    history.replaceState(null, "", `#/peringatan${query.size ? `?${query}` : ""}`); // no hashchange: no remount
    try {
      if (!state.sites.size) await loadNames();
      const wanted = state.filter === "active" ? ["new", "acknowledged"] : state.filter === "all" ? [null] : [state.filter];
      const batches = await Promise.all(wanted.map((s) => api.get("incidents", { state: s, kind: state.kind, limit: 200 })));
      state.items.clear();
      for (const inc of batches.flat()) {
        state.items.set(inc.id, inc);
        state.known.add(inc.id);
      }
      status.hidden = true;
      render();
    } catch (error) {
      status.hidden = false;
      status.textContent = `${t("peringatan.load_failed")}: ${error.message}`;
      status.className = "error-box";
    }
  }

  // ---- live ---------------------------------------------------------------------------------
  async function onIncident(inc) {
    const isNew = !state.known.has(inc.id);
    state.known.add(inc.id);
    if (!state.cameras.has(inc.camera_id)) {
      try {
        await loadNames();
      } catch (error) {
        console.warn("names", error);
      }
    }
    if (isNew && inc.state === "new") {
      state.fresh.set(inc.id, Date.now());
      if (siren.beep()) state.beeps += 1;
      setTimeout(() => {
        state.fresh.delete(inc.id);
        const card = list.querySelector(`[data-id="${inc.id}"]`);
        if (card) card.classList.remove("fresh");
      }, FRESH_MS);
    }
    if (matches(inc)) state.items.set(inc.id, inc);
    else state.items.delete(inc.id);
    render();
  }
  cleanup.push(ctx.live.on("incident", onIncident));
  cleanup.push(
    ctx.live.onStatus((s) => {
      if (s === "restored") load();
    }),
  );
  const ticker = setInterval(() => {
    for (const el of list.querySelectorAll("[data-since]")) el.textContent = duration(el.dataset.since, el.dataset.until || null);
  }, 30000);
  cleanup.push(() => clearInterval(ticker));

  // ---- rendering ----------------------------------------------------------------------------
  function duration(start, end) {
    const minutes = Math.max(0, Math.round(((end ? new Date(end) : new Date()) - new Date(start)) / 60000));
    if (minutes < 60) return t("peringatan.minutes", { n: minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return t("peringatan.hours", { h: hours, m: minutes % 60 });
    return t("peringatan.days", { n: Math.floor(hours / 24) });
  }

  function renderCounts() {
    const all = [...state.items.values()];
    const n = (s) => all.filter((i) => i.state === s).length;
    append(clear(counts), [
      h("span", { class: "state state-new" }, `${t("peringatan.state.new")} ${n("new")}`),
      h("span", { class: "state state-acknowledged" }, `${t("peringatan.state.acknowledged")} ${n("acknowledged")}`),
      state.filter === "resolved" || state.filter === "all" ? h("span", { class: "state state-resolved" }, `${t("peringatan.state.resolved")} ${n("resolved")}`) : null,
    ]);
  }

  function snapshot(inc) {
    if (!inc.has_snapshot) {
      const why = inc.detail?.evidence?.note;
      return h("div", { class: "alarm-shot none" }, h("span", {}, t("peringatan.no_snapshot")), why ? h("small", {}, why) : null);
    }
    const src = api.url(`incidents/${inc.id}/snapshot.jpg`, { v: inc.updated_at });
    return h(
      "button",
      {
        type: "button",
        class: "alarm-shot",
        title: t("peringatan.enlarge"),
        onclick: () => {
          clear(dialog).append(
            h("img", { src, alt: t("peringatan.snapshot_alt") }),
            h("p", {}, `${siteName(inc)} · ${cameraName(inc)} · ${fmt.dateTimeLabel(inc.start)}`),
            h("button", { type: "button", onclick: () => dialog.close() }, t("peringatan.close")),
          );
          dialog.showModal();
        },
      },
      h("img", { src, alt: t("peringatan.snapshot_alt"), loading: "lazy" }),
    );
  }

  /** Incidents the demo generated from simulated data (before the site's marker). */
  const simulated = (inc) => {
    const until = state.sites.get(inc.site_id)?.history_simulated_until;
    return !!until && new Date(inc.start) < new Date(until);
  };
  const siteName = (inc) => state.sites.get(inc.site_id)?.name || t("peringatan.site_n", { id: inc.site_id });
  const cameraName = (inc) => state.cameras.get(inc.camera_id)?.name || t("peringatan.camera_n", { id: inc.camera_id });

  function detailText(inc) {
    const d = inc.detail || {};
    const parts = [];
    if (d.people_max) parts.push(t("peringatan.people", { n: d.people_max }));
    if (d.basis === "motion") parts.push(t("peringatan.basis_motion"));
    if (d.minutes) parts.push(t(d.basis === "motion" ? "peringatan.minutes_moving" : "peringatan.minutes_seen", { n: d.minutes }));
    if (inc.kind === "tamper" && d.kind) parts.push(TAMPER.includes(d.kind) ? t(`peringatan.tamper.${d.kind}`) : d.kind);
    return parts.join(" · ");
  }

  async function act(inc, verb, body, button) {
    button.disabled = true;
    try {
      const out = await api.post(`incidents/${inc.id}/${verb}`, body);
      state.forms.delete(inc.id);
      ctx.toast(t(`peringatan.done.${verb}`), "ok");
      if (matches(out)) state.items.set(out.id, out);
      else state.items.delete(out.id);
      render();
    } catch (error) {
      ctx.toast(`${t("peringatan.action_failed")}: ${error.message}`, "error", 8000);
      button.disabled = false;
    }
  }

  function form(inc) {
    const open = state.forms.get(inc.id);
    if (!open) return null;
    const { mode } = open;
    const input =
      mode === "assign"
        ? h("input", { name: "assignee", list: "alarm-assignees", value: open.text || inc.assignee || "", required: true, placeholder: t("peringatan.assign.placeholder") })
        : h("textarea", { name: "note", rows: 2, required: mode === "acknowledge", minlength: mode === "acknowledge" ? 3 : null, placeholder: t(`peringatan.${mode}.placeholder`) }, open.text || "");
    input.addEventListener("input", () => (open.text = input.value));
    const submit = h("button", { type: "submit", class: "primary" }, t(`peringatan.${mode}.submit`));
    return h(
      "form",
      {
        class: `alarm-form form-${mode}`,
        onsubmit: (e) => {
          e.preventDefault();
          const value = input.value.trim();
          if (mode === "acknowledge") act(inc, "acknowledge", { note: value }, submit);
          else if (mode === "assign") act(inc, "assign", { assignee: value }, submit);
          else act(inc, "resolve", value ? { note: value } : {}, submit);
        },
      },
      h("label", {}, t(`peringatan.${mode}.label`), input),
      h(
        "div",
        { class: "form-buttons" },
        submit,
        h("button", { type: "button", onclick: () => (state.forms.delete(inc.id), render()) }, t("peringatan.cancel")),
      ),
    );
  }

  function actions(inc) {
    const playback = h("a", { class: "button-link", href: `#/putar?${new URLSearchParams({ camera: inc.camera_id, t: inc.start })}` }, t("peringatan.playback"));
    if (!canAct || inc.state === "resolved") return h("div", { class: "actions" }, playback);
    const open = (mode) => () => {
      state.forms.set(inc.id, { mode, text: "" });
      render();
      list.querySelector(`[data-id="${inc.id}"] .alarm-form textarea, [data-id="${inc.id}"] .alarm-form input`)?.focus();
    };
    return h(
      "div",
      { class: "actions" },
      inc.state === "new" ? h("button", { type: "button", class: "primary act-ack", onclick: open("acknowledge") }, t("peringatan.acknowledge.open")) : null,
      h("button", { type: "button", class: "act-assign", onclick: open("assign") }, t("peringatan.assign.open")),
      h("button", { type: "button", class: "act-resolve", onclick: open("resolve") }, t("peringatan.resolve.open")),
      playback,
    );
  }

  function card(inc) {
    const fresh = state.fresh.has(inc.id);
    const handled = [];
    if (inc.acknowledged_by) handled.push(t("peringatan.acked_by", { user: inc.acknowledged_by, time: fmt.momentLabel(inc.acknowledged_at) }));
    if (inc.assignee) handled.push(t("peringatan.assigned_to", { who: inc.assignee }));
    if (inc.resolved_by) handled.push(t("peringatan.resolved_by", { user: inc.resolved_by, time: fmt.momentLabel(inc.resolved_at) }));
    const detail = detailText(inc);
    return h(
      "article",
      { class: `alarm kind-${inc.kind} is-${inc.state}${fresh ? " fresh" : ""}`, "data-id": inc.id, "data-state": inc.state },
      snapshot(inc),
      h(
        "div",
        { class: "alarm-body" },
        h(
          "div",
          { class: "alarm-head" },
          h("span", { class: "kind" }, t(`peringatan.kind.${inc.kind}`)),
          h("span", { class: `state state-${inc.state}` }, t(`peringatan.state.${inc.state}`)),
          fresh ? h("span", { class: "fresh-tag" }, t("peringatan.fresh")) : null,
          simulated(inc) ? h("span", { class: "sim-mark", title: t("peringatan.simulated_hint") }, t("shell.simulated")) : null,
          h("time", { datetime: inc.start, class: "start" }, fmt.momentLabel(inc.start)),
        ),
        h("div", { class: "where" }, h("strong", {}, siteName(inc)), " · ", t("peringatan.camera"), " ", cameraName(inc)),
        h(
          "div",
          { class: "meta" },
          `${t("peringatan.duration")}: `,
          h("span", { class: "dur", "data-since": inc.start, "data-until": inc.end || "" }, duration(inc.start, inc.end)),
          inc.end ? ` (${t("peringatan.ended", { time: fmt.momentLabel(inc.end) })})` : ` · ${t("peringatan.ongoing")}`,
          detail ? ` · ${detail}` : "",
        ),
        handled.length ? h("div", { class: "handled" }, handled.join(" · ")) : null,
        inc.note ? h("blockquote", { class: "note" }, inc.note) : null,
        actions(inc),
        form(inc),
      ),
    );
  }

  function render() {
    renderCounts();
    const rank = (i) => (state.fresh.has(i.id) ? 2 : 0) + (i.state === "new" ? 1 : 0);
    const items = [...state.items.values()].filter(matches).sort((a, b) => rank(b) - rank(a) || new Date(b.start) - new Date(a.start));
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.closest("[data-id]")?.dataset.id : null;
    clear(list);
    if (!items.length) {
      list.append(h("div", { class: "empty", id: "alarm-empty" }, h("p", {}, t("peringatan.empty")), h("p", { class: "muted" }, t("peringatan.empty_hint"))));
      return;
    }
    list.append(...items.map(card));
    if (focused) list.querySelector(`[data-id="${focused}"] .alarm-form textarea, [data-id="${focused}"] .alarm-form input`)?.focus();
  }

  await load();
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
  delete window.__pantauAlarms;
}
