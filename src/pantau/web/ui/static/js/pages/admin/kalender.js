// Kalender: the city calendar and per-site calendars; rules (closure, Ramadan hours, override,
// weekly hours) and, beside them, what they add up to for a site over the next two weeks.

import { h, clear, append } from "../../dom.js";
import { field, options, showError, busy, confirmButton, siteOptions } from "./common.js";

const KINDS = ["closure", "ramadan", "override", "weekly"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SCHEDULE_DAYS = 14;

let off = [];

function addDays(iso, n) {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export async function mount(root, ctx) {
  const { t, api, fmt } = ctx;
  const view = { calendars: [], sites: [], calendar: null, siteId: null };
  const calList = h("div", { class: "cal-list" });
  const detail = h("div", { class: "cal-detail" });
  const schedule = h("section", { class: "card cal-schedule", id: "cal-schedule" });
  root.append(h("div", { class: "cal-layout" }, h("aside", { class: "card" }, h("h2", {}, t("admin.cal.calendars")), calList, newCalendarForm()), h("div", {}, detail, schedule)));

  const hhmm = (value) => (value ? value.slice(0, 5).replace(":", ".") : "");

  function newCalendarForm() {
    const name = h("input", { id: "cal-new-name", placeholder: t("admin.cal.new_placeholder"), minlength: 3 });
    const box = h("div", {});
    const add = h("button", { type: "submit" }, t("admin.cal.new"));
    return h(
      "form",
      {
        class: "admin-form compact",
        onsubmit: (e) => {
          e.preventDefault();
          busy(add, async () => {
            try {
              const city = view.calendars.find((c) => c.parent_id === null);
              const out = await api.post("calendars", { name: name.value.trim(), parent_id: city?.id ?? null });
              name.value = "";
              clear(box);
              await load(out.id);
            } catch (error) {
              showError(box, error, t("admin.save_failed"));
            }
          });
        },
      },
      h("div", { class: "toolbar" }, name, add),
      h("small", { class: "muted" }, t("admin.cal.new_hint")),
      box,
    );
  }

  async function load(selectId) {
    try {
      [view.calendars, view.sites] = await Promise.all([api.get("calendars"), view.sites.length ? view.sites : api.get("sites")]);
    } catch (error) {
      showError(detail, error, t("admin.load_failed"));
      return;
    }
    const id = selectId ?? view.calendar?.id ?? Number(ctx.rest[0]) ?? null;
    view.calendar = view.calendars.find((c) => c.id === id) || view.calendars[0] || null;
    renderList();
    renderDetail();
    const users = view.sites.filter((s) => s.calendar_id === view.calendar?.id);
    if (!view.siteId || (users.length && !users.some((s) => s.id === view.siteId))) view.siteId = (users[0] || view.sites[0])?.id ?? null;
    await renderSchedule();
  }

  function renderList() {
    clear(calList).append(
      h(
        "ul",
        { class: "cal-items" },
        view.calendars.map((c) => {
          const count = view.sites.filter((s) => s.calendar_id === c.id).length;
          return h(
            "li",
            { class: c.id === view.calendar?.id ? "active" : null },
            h("button", { type: "button", class: "link", "data-calendar": c.id, onclick: () => load(c.id) }, c.name),
            h("small", { class: "muted" }, c.parent_id === null ? t("admin.cal.city") : t("admin.cal.site_count", { n: count })),
          );
        }),
      ),
    );
  }

  function ruleWhen(rule) {
    const parts = [];
    if (rule.start_date || rule.end_date) {
      const from = rule.start_date ? fmt.dateLabel(rule.start_date, { day: "numeric", month: "short", year: "numeric" }) : "…";
      const to = rule.end_date ? fmt.dateLabel(rule.end_date, { day: "numeric", month: "short", year: "numeric" }) : "…";
      parts.push(from === to ? from : `${from} – ${to}`);
    }
    if (rule.weekdays.length && rule.weekdays.length < 7) parts.push(rule.weekdays.map((d) => t(`admin.day.${DAYS[d]}`)).join(", "));
    return parts.join(" · ") || t("admin.cal.always");
  }

  function renderDetail() {
    clear(detail);
    const cal = view.calendar;
    if (!cal) {
      detail.append(h("p", { class: "empty" }, t("admin.cal.none")));
      return;
    }
    const parent = view.calendars.find((c) => c.id === cal.parent_id);
    const rules = [...cal.rules].sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || String(a.start_date).localeCompare(String(b.start_date)));
    detail.append(
      h(
        "section",
        { class: "card", id: "cal-rules" },
        h("h2", {}, cal.name),
        h("p", { class: "muted" }, parent ? t("admin.cal.inherits", { name: parent.name }) : t("admin.cal.city_hint"), " · ", cal.use_national_holidays ? t("admin.cal.holidays_on") : t("admin.cal.holidays_off")),
        rules.length
          ? h(
              "table",
              { class: "admin-table" },
              h("thead", {}, h("tr", {}, [t("admin.cal.kind"), t("admin.cal.when"), t("admin.cal.hours"), t("admin.cal.reason"), ""].map((x) => h("th", {}, x)))),
              h(
                "tbody",
                {},
                rules.map((rule) =>
                  h(
                    "tr",
                    { "data-rule": rule.id },
                    h("td", {}, h("span", { class: `rule-kind rule-${rule.kind}` }, t(`admin.cal.kind.${rule.kind}`))),
                    h("td", {}, ruleWhen(rule)),
                    h("td", {}, rule.opens ? `${hhmm(rule.opens)}–${hhmm(rule.closes)} ${fmt.zoneShort()}` : rule.kind === "closure" ? t("admin.cal.closed") : "—"),
                    h("td", {}, rule.reason || "—"),
                    h(
                      "td",
                      {},
                      confirmButton(t("admin.delete"), t("admin.confirm_delete"), async () => {
                        try {
                          await api.del(`calendars/${cal.id}/rules/${rule.id}`);
                          ctx.toast(t("admin.cal.rule_deleted"), "ok");
                          await load(cal.id);
                        } catch (error) {
                          ctx.toast(error.message, "error");
                        }
                      }),
                    ),
                  ),
                ),
              ),
            )
          : h("p", { class: "muted" }, t("admin.cal.no_rules")),
        ruleForm(cal),
      ),
    );
  }

  function ruleForm(cal) {
    const box = h("div", {});
    const kind = h("select", { id: "rule-kind", onchange: () => sync() }, options(KINDS.map((k) => [k, t(`admin.cal.kind.${k}`)]), "closure"));
    const start = h("input", { type: "date", id: "rule-start", value: fmt.today() });
    const end = h("input", { type: "date", id: "rule-end", value: fmt.today() });
    const opens = h("input", { id: "rule-opens", placeholder: "08.00", class: "time" });
    const closes = h("input", { id: "rule-closes", placeholder: "15.00", class: "time" });
    const days = DAYS.map((d, i) => h("label", { class: "chip" }, h("input", { type: "checkbox", value: i }), t(`admin.day.${d}`)));
    const reason = h("input", { id: "rule-reason", placeholder: t("admin.cal.reason_hint") });
    const hours = h("div", { class: "row2" }, field(t("admin.cal.opens"), opens), field(t("admin.cal.closes"), closes));
    const sync = () => {
      hours.hidden = kind.value === "closure";
    };
    sync();
    const add = h("button", { type: "submit", class: "primary", id: "rule-add" }, t("admin.cal.add_rule"));
    return h(
      "form",
      {
        class: "admin-form rule-form",
        onsubmit: (e) => {
          e.preventDefault();
          busy(add, async () => {
            const body = {
              kind: kind.value,
              start_date: start.value || null,
              end_date: end.value || null,
              weekdays: days.map((d) => d.querySelector("input")).filter((c) => c.checked).map((c) => Number(c.value)),
              reason: reason.value.trim(),
            };
            if (kind.value !== "closure") {
              body.opens = opens.value.trim() || null;
              body.closes = closes.value.trim() || null;
            }
            try {
              await api.post(`calendars/${cal.id}/rules`, body);
              ctx.toast(t("admin.cal.rule_added"), "ok");
              await load(cal.id);
            } catch (error) {
              showError(box, error, t("admin.save_failed"));
            }
          });
        },
      },
      h("h3", {}, t("admin.cal.add_rule")),
      h("div", { class: "row3" }, field(t("admin.cal.kind"), kind), field(t("admin.cal.start"), start), field(t("admin.cal.end"), end)),
      hours,
      field(t("admin.cal.weekdays"), h("div", { class: "chips" }, days), t("admin.cal.weekdays_hint")),
      field(t("admin.cal.reason"), reason),
      box,
      add,
    );
  }

  async function renderSchedule() {
    clear(schedule);
    if (!view.siteId) {
      schedule.append(h("p", { class: "muted" }, t("admin.cal.no_sites")));
      return;
    }
    const select = h("select", { id: "cal-site", onchange: (e) => { view.siteId = Number(e.target.value); renderSchedule(); } }, siteOptions(view.sites, view.siteId, t));
    const strip = h("div", { class: "schedule-strip", id: "schedule-strip" }, h("p", { class: "muted" }, t("shell.loading")));
    schedule.append(h("div", { class: "toolbar" }, h("h2", {}, t("admin.cal.schedule", { n: SCHEDULE_DAYS })), h("span", { class: "spacer" }), select), strip);
    try {
      const start = fmt.today();
      const days = await api.get(`sites/${view.siteId}/schedule`, { from: start, to: addDays(start, SCHEDULE_DAYS - 1) });
      append(
        clear(strip),
        days.map((d) =>
          h(
            "div",
            { class: `day ${d.working ? "working" : "off"} rule-${d.rule}`, "data-date": d.date, title: d.reason },
            h("div", { class: "day-name" }, fmt.dateLabel(d.date, { weekday: "short", day: "numeric", month: "short" })),
            h("div", { class: "day-hours" }, d.working ? `${d.opens}–${d.closes}` : t("admin.cal.day_off")),
            h("div", { class: "day-reason small" }, d.holiday_name || d.reason),
          ),
        ),
      );
    } catch (error) {
      showError(strip, error, t("admin.load_failed"));
    }
  }

  off.push(ctx.live.onStatus((status) => status === "restored" && load()));
  await load();
}

export function unmount() {
  off.forEach((fn) => fn());
  off = [];
}
