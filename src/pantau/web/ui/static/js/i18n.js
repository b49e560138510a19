// Texts come from the server's catalogues (/ui/i18n/<lang>.json); times are the city's wall clock.

let texts = {};
let lang = "id";
let zone = "Asia/Makassar";
let zoneLabel = "WITA";

export async function loadLanguage(wanted, config) {
  zone = config.timezone;
  zoneLabel = config.timezone_label;
  lang = config.languages.includes(wanted) ? wanted : config.default_language;
  const response = await fetch(`/ui/i18n/${lang}.json`);
  texts = await response.json();
  document.documentElement.lang = lang;
  return lang;
}

export function currentLanguage() {
  return lang;
}

/** The text for key, with {name} placeholders filled; an unknown key shows itself, loudly. */
export function t(key, vars = {}) {
  const text = texts[key];
  if (text === undefined) {
    console.warn(`i18n: no text for ${key} (${lang})`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

function parts(value, options) {
  const date = value instanceof Date ? value : new Date(value);
  const out = {};
  for (const p of new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", ...options }).formatToParts(date)) {
    out[p.type] = p.value;
  }
  return out;
}

/** "07.30" in the city's zone (Indonesian style: a dot between hours and minutes). */
export function hhmm(value) {
  if (value === null || value === undefined || value === "") return "—";
  const p = parts(value, { hour: "2-digit", minute: "2-digit" });
  return `${p.hour}.${p.minute}`;
}

/** "07.30 WITA". */
export function timeLabel(value) {
  return value === null || value === undefined || value === "" ? "—" : `${hhmm(value)} ${zoneLabel}`;
}

/** "07.30.15 WITA" for clocks and evidence. */
export function timeSeconds(value) {
  const p = parts(value, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return `${p.hour}.${p.minute}.${p.second} ${zoneLabel}`;
}

/** "Senin, 30 November 2026" (or the English form). */
export function dateLabel(value, options = { weekday: "long", day: "numeric", month: "long", year: "numeric" }) {
  const date = typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : new Date(value);
  return new Intl.DateTimeFormat(lang === "id" ? "id-ID" : "en-GB", { timeZone: zone, ...options }).format(date);
}

/** "30 Nov 2026 07.30 WITA". */
export function dateTimeLabel(value) {
  if (!value) return "—";
  return `${dateLabel(value, { day: "numeric", month: "short", year: "numeric" })} ${timeLabel(value)}`;
}

/** "07.30 WITA" today; on another day the day comes first ("28 Nov 2026 07.30 WITA"). */
export function momentLabel(value, dayOptions = { day: "numeric", month: "short", year: "numeric" }) {
  if (!value) return "—";
  const key = { year: "numeric", month: "2-digit", day: "2-digit" };
  if (dateLabel(value, key) === dateLabel(new Date(), key)) return timeLabel(value);
  return `${dateLabel(value, dayOptions)} ${timeLabel(value)}`;
}

/** The city's local date today as YYYY-MM-DD. */
export function today() {
  const p = parts(new Date(), { year: "numeric", month: "2-digit", day: "2-digit" });
  return `${p.year}-${p.month}-${p.day}`;
}

export function zoneName() {
  return zone;
}

export function zoneShort() {
  return zoneLabel;
}

/** "3 menit lalu" / "3 minutes ago", from Intl.RelativeTimeFormat. */
export function ago(value) {
  if (!value) return "—";
  const seconds = (new Date(value).getTime() - Date.now()) / 1000;
  const fmt = new Intl.RelativeTimeFormat(lang === "id" ? "id" : "en", { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return fmt.format(Math.round(seconds), "second");
  if (abs < 3600) return fmt.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return fmt.format(Math.round(seconds / 3600), "hour");
  return fmt.format(Math.round(seconds / 86400), "day");
}

export function number(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(lang === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}
